/**
 * What a member needs to reach a node over WebRTC (protocol/webrtc.md): the
 * node's signalling URL and the member's identity, which the binding
 * handshake proves to the node. Portable: no Node or browser globals here.
 */
import type { PeerKey } from './peer-key.js'
import type { ChannelDialer } from '../channel.js'

/** Options of webrtcDialer. */
export interface WebRtcDialerOptions {
  /**
   * The node's signalling endpoint (WHIP-style: POST an SDP offer, get the
   * answer), e.g. `http://127.0.0.1:8080/api/v1/webrtc/offer`; a page served
   * by the node uses `new URL('/api/v1/webrtc/offer', location.href)`.
   */
  signalUrl: string
  /** The member's identity; its peer id is what the node's services see. */
  identity: PeerKey
  /** The node's peer id when known: a node proving another one is refused (FabricError UNREACHABLE). */
  nodePeer?: string
  /** Longest one connection attempt (offer, ICE, DTLS, binding) may take, ms; default 15 000. */
  connectTimeoutMs?: number
  /** Longest the node may go without a Ping before the member reconnects, ms; default 30 000. */
  livenessTimeoutMs?: number
}

/**
 * A ChannelDialer over one WebRTC peer connection to a node, made on the
 * first `open` and made again on the next `open` after it closed (the
 * member's reconnect drives that). Each channel is one data channel.
 */
export interface WebRtcDialer extends ChannelDialer {
  /** The node's peer id as the binding handshake proved it; undefined before the first connection. */
  readonly nodePeer: string | undefined
  /** Connects now (open does this lazily) and returns the node's proven peer id. @throws FabricError UNREACHABLE */
  connect: () => Promise<string>
  /** Closes the peer connection and every channel on it; a later `open` connects again. */
  close: () => void
}
