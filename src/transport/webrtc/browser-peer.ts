/**
 * The browser's RTCPeerConnection as an OfferingPeer. Typed structurally
 * (the project builds without the DOM library), for exactly the members
 * used here.
 */
import { FabricError } from '../../errors.js'
import type { DataChannelHandlers, DataChannelPort } from './data-channel.js'
import type { OfferingPeer, PeerState } from './peer-connection.js'

interface W3cDataChannel {
  readonly label: string
  readonly readyState: string
  readonly bufferedAmount: number
  bufferedAmountLowThreshold: number
  binaryType: string
  onopen: (() => void) | null
  onclose: (() => void) | null
  onerror: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: ArrayBuffer | string }) => void) | null
  onbufferedamountlow: (() => void) | null
  send: (data: Uint8Array | string) => void
  close: () => void
}

interface W3cPeerConnection {
  readonly iceGatheringState: string
  readonly connectionState: string
  readonly localDescription: { sdp: string } | null
  onicegatheringstatechange: (() => void) | null
  onconnectionstatechange: (() => void) | null
  createDataChannel: (label: string, init?: { ordered?: boolean }) => W3cDataChannel
  createOffer: () => Promise<{ type: string, sdp?: string }>
  setLocalDescription: (d: { type: string, sdp?: string }) => Promise<void>
  setRemoteDescription: (d: { type: string, sdp: string }) => Promise<void>
  close: () => void
}

type W3cConstructor = new (config: { iceServers: unknown[] }) => W3cPeerConnection

/** A W3C data channel as a DataChannelPort. */
function portOf (dc: W3cDataChannel): DataChannelPort {
  dc.binaryType = 'arraybuffer'
  return {
    label: dc.label,
    get bufferedAmount () { return dc.bufferedAmount },
    send: (data) => { dc.send(data) },
    close: () => { dc.close() },
    setLowThreshold: (bytes) => { dc.bufferedAmountLowThreshold = bytes },
    listen: (h: DataChannelHandlers) => {
      dc.onmessage = (ev) => { h.message(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data)) }
      dc.onclose = () => { h.close() }
      dc.onbufferedamountlow = () => { h.low() }
    },
  }
}

/**
 * A factory of OfferingPeers over `globalThis.RTCPeerConnection`, with no
 * ICE servers: a member reaches its node's host candidates directly.
 *
 * @throws FabricError UNREACHABLE when this runtime has no RTCPeerConnection
 */
export function browserPeerFactory (): () => OfferingPeer {
  const Ctor = (globalThis as unknown as { RTCPeerConnection?: W3cConstructor }).RTCPeerConnection
  if (Ctor === undefined) throw new FabricError('UNREACHABLE', 'this runtime has no RTCPeerConnection; pass a peer factory (werift in Node)')
  return () => {
    const pc = new Ctor({ iceServers: [] })
    const stateListeners: Array<(s: PeerState) => void> = []
    pc.onconnectionstatechange = () => {
      const s = pc.connectionState
      if (s === 'connected' || s === 'disconnected' || s === 'failed' || s === 'closed') for (const l of stateListeners) l(s)
    }
    return {
      openDataChannel: async (label) => {
        const dc = pc.createDataChannel(label, { ordered: true })
        await new Promise<void>((resolve, reject) => {
          dc.onopen = () => { resolve() }
          dc.onclose = () => { reject(new FabricError('CONNECTION_LOST', `data channel ${label} closed before it opened`)) }
          dc.onerror = () => { reject(new FabricError('CONNECTION_LOST', `data channel ${label} failed to open`)) }
        })
        dc.onerror = null
        return portOf(dc)
      },
      offer: async () => {
        await pc.setLocalDescription(await pc.createOffer())
        await new Promise<void>((resolve) => {
          if (pc.iceGatheringState === 'complete') { resolve(); return }
          pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve() }
        })
        return pc.localDescription?.sdp ?? ''
      },
      accept: async (sdp) => { await pc.setRemoteDescription({ type: 'answer', sdp }) },
      onState: (l) => { stateListeners.push(l) },
      close: () => { pc.close() },
    }
  }
}
