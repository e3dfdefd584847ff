/**
 * werift's RTCPeerConnection as the WebRTC transport's peers
 * (src/transport/webrtc/peer-connection.ts): the node answers with it, and
 * Node members and tests can offer with it. Data channels only.
 *
 * werift's defaults do not suit a node: it would ask a public STUN server
 * (none is configured here), skips loopback host candidates (a node on
 * 127.0.0.1 names it explicitly), and gathers every interface (the node
 * offers only the addresses its operator gives).
 */
import { RTCPeerConnection, type RTCDataChannel } from 'werift'
import type { DataChannelHandlers, DataChannelPort } from '../../transport/webrtc/data-channel.js'
import type { AnsweringPeer, OfferingPeer, PeerState } from '../../transport/webrtc/peer-connection.js'

/** Where a werift peer gathers ICE candidates. */
export interface WeriftPeerOptions {
  /**
   * The IP addresses offered as host candidates (IPv4 or IPv6), e.g.
   * ['127.0.0.1']; nothing else is gathered. Absent: every IPv4 interface
   * but loopback (werift's default), for a member that does not know
   * where its node will see it from.
   */
  hosts?: readonly string[]
  /** UDP ports to bind, [min, max], min < max; default any. */
  portRange?: [number, number]
}

/** Messages a data channel holds before its FrameChannel listens, at most (one burst at open). */
const MAX_EARLY_MESSAGES = 1024

function newPeerConnection (opts: WeriftPeerOptions): RTCPeerConnection {
  return new RTCPeerConnection({
    iceServers: [],
    ...(opts.hosts === undefined ? { iceUseIpv6: false } : { iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: [...opts.hosts] }),
    ...(opts.portRange !== undefined ? { icePortRange: opts.portRange } : {}),
    bundlePolicy: 'max-bundle',
  })
}

/** A werift data channel as a DataChannelPort; messages before `listen` wait (bounded), so none is lost. */
function portOf (dc: RTCDataChannel): DataChannelPort {
  let handlers: DataChannelHandlers | undefined
  const early: Array<Uint8Array | string> = []
  let closedEarly = false
  dc.onMessage.subscribe((data) => {
    const msg = typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    if (handlers !== undefined) handlers.message(msg)
    else if (early.length < MAX_EARLY_MESSAGES) early.push(msg)
    else dc.close()
  })
  dc.stateChanged.subscribe((s) => {
    if (s !== 'closed') return
    if (handlers !== undefined) handlers.close()
    else closedEarly = true
  })
  dc.bufferedAmountLow.subscribe(() => { handlers?.low() })
  return {
    label: dc.label,
    get bufferedAmount () { return dc.bufferedAmount },
    send: (data) => {
      if (dc.readyState !== 'open') throw new Error(`data channel ${dc.label} is ${dc.readyState}`)
      dc.send(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    },
    close: () => { dc.close() },
    setLowThreshold: (bytes) => { dc.bufferedAmountLowThreshold = bytes },
    listen: (h) => {
      handlers = h
      for (const m of early.splice(0)) h.message(m)
      if (closedEarly) h.close()
    },
  }
}

function watchState (pc: RTCPeerConnection, listener: (s: PeerState) => void): void {
  pc.connectionStateChange.subscribe((s) => {
    if (s === 'connected' || s === 'disconnected' || s === 'failed' || s === 'closed') listener(s)
  })
}

async function gathered (pc: RTCPeerConnection): Promise<string> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const { unSubscribe } = pc.iceGatheringStateChange.subscribe((s) => { if (s === 'complete') { unSubscribe(); resolve() } })
    })
  }
  return pc.localDescription?.sdp ?? ''
}

/** A factory of the node's answering peers. */
export function weriftAnsweringPeer (opts: WeriftPeerOptions): () => AnsweringPeer {
  return () => {
    const pc = newPeerConnection(opts)
    return {
      answer: async (offerSdp) => {
        await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp })
        await pc.setLocalDescription(await pc.createAnswer())
        return await gathered(pc)
      },
      onDataChannel: (listener) => { pc.onDataChannel.subscribe((dc) => { listener(portOf(dc)) }) },
      onState: (listener) => { watchState(pc, listener) },
      close: () => { void pc.close().catch(() => {}) },
    }
  }
}

/** A factory of offering peers: a Node member (or a test) reaching a node over WebRTC. */
export function weriftOfferingPeer (opts: WeriftPeerOptions = {}): () => OfferingPeer {
  return () => {
    const pc = newPeerConnection(opts)
    return {
      openDataChannel: async (label) => {
        const dc = pc.createDataChannel(label, { ordered: true })
        const port = portOf(dc)
        if (dc.readyState !== 'open') {
          await new Promise<void>((resolve, reject) => {
            const { unSubscribe } = dc.stateChanged.subscribe((s) => {
              if (s === 'open') { unSubscribe(); resolve() } else if (s === 'closed') { unSubscribe(); reject(new Error(`data channel ${label} closed before it opened`)) }
            })
          })
        }
        return port
      },
      offer: async () => {
        await pc.setLocalDescription(await pc.createOffer())
        return await gathered(pc)
      },
      accept: async (sdp) => { await pc.setRemoteDescription({ type: 'answer', sdp }) },
      onState: (listener) => { watchState(pc, listener) },
      close: () => { void pc.close().catch(() => {}) },
    }
  }
}
