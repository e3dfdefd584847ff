/**
 * What the WebRTC transport needs of a peer connection, on either side, so
 * that the dialer and the listener run over the browser's RTCPeerConnection
 * (browser-peer.ts) and over werift's (src/platform/node/werift-peer.ts)
 * alike. Only data channels: fabric carries media as chunks on its own
 * protocols, never as RTP.
 */
import type { DataChannelPort } from './data-channel.js'

/** States after which a peer connection carries nothing more. */
export type PeerState = 'connected' | 'disconnected' | 'failed' | 'closed'

/** The member's side: makes the offer. */
export interface OfferingPeer {
  /**
   * Creates data channel `label` and resolves once it is open.
   * @throws when the connection closes first
   */
  openDataChannel: (label: string) => Promise<DataChannelPort>
  /** Creates the offer (after at least one data channel exists) and returns its SDP once ICE gathering is complete. */
  offer: () => Promise<string>
  /** Applies the node's answer. @throws when the SDP is refused */
  accept: (answerSdp: string) => Promise<void>
  /** Connection state changes. */
  onState: (listener: (state: PeerState) => void) => void
  close: () => void
}

/** The node's side: answers an offer. */
export interface AnsweringPeer {
  /** Applies the offer and returns the answer SDP once ICE gathering is complete. @throws when the offer is refused */
  answer: (offerSdp: string) => Promise<string>
  /** Each data channel the member opens, once open, with messages held until the port's `listen`. */
  onDataChannel: (listener: (port: DataChannelPort) => void) => void
  onState: (listener: (state: PeerState) => void) => void
  close: () => void
}
