/**
 * The member's side of the WebRTC transport (protocol/webrtc.md): one peer
 * connection to the node, made by POSTing an SDP offer to the node's
 * signalling URL (WHIP-style, section 2), proven by the binding handshake
 * (section 3), and one data channel per FrameChannel (section 4). The
 * connection is made on the first `open` and made again on the first
 * `open` after it closed: the member's reconnect drives that.
 */
import { FabricError, isFabricError } from '../../errors.js'
import { WEBRTC_BINDING_LABEL } from '../../wire/protocol-ids.js'
import type { ChannelOptions, FrameChannel } from '../channel.js'
import { BindingInitiator, BindingType, isLiveness } from './binding.js'
import { browserPeerFactory } from './browser-peer.js'
import { DataChannelChannel, type DataChannelPort } from './data-channel.js'
import { unref } from '../next-frame.js'
import type { WebRtcDialer, WebRtcDialerOptions } from './dialer-options.js'
import type { OfferingPeer } from './peer-connection.js'
import { sha256Fingerprint } from './sdp.js'
import { SIGNAL_CONTENT_TYPE, signalRefusal } from './signal.js'

export type { WebRtcDialer, WebRtcDialerOptions } from './dialer-options.js'

/** Default bound of one connection attempt, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000

/**
 * Longest the member waits for the node's next Ping before it gives the
 * connection up and reconnects, ms: as for libp2p members
 * (MEMBER_LIVENESS_TIMEOUT_MS), looser than the node's watch on members,
 * since a page's timers are throttled in background tabs.
 */
export const DEFAULT_MEMBER_LIVENESS_TIMEOUT_MS = 30_000

/** How long a peer connection may stay 'disconnected' before its channels are given up, ms (ICE may recover sooner). */
export const DISCONNECTED_GRACE_MS = 5_000

interface Connection {
  peer: OfferingPeer
  nodePeer: string
  id: string
  alive: boolean
  channels: Set<FrameChannel>
  /** Stops the connection's watchdog and disconnect timer (a browser's close() fires no state event to do it). */
  stopTimers: () => void
}

let connections = 0

/**
 * A ChannelDialer over WebRTC.
 *
 * @param opts where the node is and who the member is
 * @param peerFactory makes the peer connection; default the runtime's
 *   RTCPeerConnection (browsers), werift in Node (src/platform/node/werift-peer.ts)
 */
export function webrtcDialer (opts: WebRtcDialerOptions, peerFactory?: () => OfferingPeer): WebRtcDialer {
  const factory = peerFactory ?? browserPeerFactory()
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const livenessMs = opts.livenessTimeoutMs ?? DEFAULT_MEMBER_LIVENESS_TIMEOUT_MS
  let current: Connection | undefined
  let pending: Promise<Connection> | undefined

  const lose = (conn: Connection, why: string): void => {
    if (!conn.alive) return
    conn.alive = false
    if (current === conn) current = undefined
    conn.stopTimers()
    for (const ch of conn.channels) ch.abort(new FabricError('CONNECTION_LOST', why))
    conn.peer.close()
  }

  const connectOnce = async (): Promise<Connection> => {
    const peer = factory()
    const timer = setTimeout(() => { peer.close() }, timeoutMs)
    try {
      const bindingOpen = peer.openDataChannel(WEBRTC_BINDING_LABEL)
      bindingOpen.catch(() => {})
      const offer = await peer.offer()
      const res = await fetch(opts.signalUrl, { method: 'POST', headers: { 'content-type': SIGNAL_CONTENT_TYPE }, body: offer })
      const body = await res.text()
      if (res.status !== 201) throw signalRefusal(res.status, body)
      await peer.accept(body)
      const binding = await bindingOpen
      const initiator = new BindingInitiator(opts.identity, { offer: sha256Fingerprint(offer), answer: sha256Fingerprint(body) }, opts.nodePeer)
      await runBinding(binding, initiator)
      // The node Pings at least every few seconds; silence means it is gone
      // (frozen or cut off), which ICE consent would tell only after 30 s.
      let lastPing = Date.now()
      let disconnectedTimer: ReturnType<typeof setTimeout> | undefined
      const watchdog = setInterval(() => {
        if (Date.now() - lastPing > livenessMs) lose(conn, `the node sent no Ping for ${livenessMs} ms`)
      }, Math.max(1, Math.floor(livenessMs / 4)))
      unref(watchdog)
      const conn: Connection = {
        peer,
        nodePeer: initiator.nodePeer as string,
        id: `webrtc-${++connections}`,
        alive: true,
        channels: new Set(),
        stopTimers: () => {
          clearInterval(watchdog)
          if (disconnectedTimer !== undefined) clearTimeout(disconnectedTimer)
        },
      }
      peer.onState((s) => {
        if (disconnectedTimer !== undefined) clearTimeout(disconnectedTimer)
        disconnectedTimer = undefined
        if (s === 'failed' || s === 'closed') lose(conn, `the peer connection to the node ${s}`)
        else if (s === 'disconnected') disconnectedTimer = setTimeout(() => { lose(conn, 'the peer connection to the node stayed disconnected') }, DISCONNECTED_GRACE_MS)
      })
      const pong = Uint8Array.of(BindingType.Pong)
      binding.listen({
        message: (data) => {
          if (!isLiveness(data, BindingType.Ping)) { lose(conn, 'the node broke the binding channel'); return }
          lastPing = Date.now()
          try { binding.send(pong) } catch {}
        },
        close: () => { lose(conn, 'the node closed the connection') },
        low: () => {},
      })
      return conn
    } catch (err) {
      peer.close()
      if (isFabricError(err) && err.code !== 'CONNECTION_LOST') throw err
      throw new FabricError('UNREACHABLE', `cannot reach the node over WebRTC at ${opts.signalUrl}: ${(err as Error).message}`, { cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  const connection = async (): Promise<Connection> => {
    if (current?.alive === true) return current
    pending ??= connectOnce().then((c) => { current = c; return c }).finally(() => { pending = undefined })
    return await pending
  }

  return {
    target: opts.signalUrl,
    get nodePeer () { return current?.nodePeer },
    async connect () { return (await connection()).nodePeer },
    async open (protocol: string, options: ChannelOptions, signal?: AbortSignal): Promise<FrameChannel> {
      signal?.throwIfAborted()
      const conn = await connection()
      let port: DataChannelPort
      try {
        port = await conn.peer.openDataChannel(protocol)
      } catch (err) {
        // The node refused this channel (a bound, an unknown protocol): the
        // connection and its other channels stay.
        throw new FabricError('UNREACHABLE', `cannot open ${protocol} to the node: ${(err as Error).message}`, { cause: err })
      }
      const channel = new DataChannelChannel(port, options, { remotePeer: conn.nodePeer, connectionId: conn.id })
      conn.channels.add(channel)
      channel.onClose(() => { conn.channels.delete(channel) })
      if (!conn.alive) channel.abort(new FabricError('CONNECTION_LOST', 'the connection closed as the channel opened'))
      return channel
    },
    close () {
      if (current !== undefined) lose(current, 'closed by the member')
    },
  }
}

/** Runs the member's side of the binding handshake on `port`. @throws FabricError IDENTITY_MISMATCH | MALFORMED | CONNECTION_LOST */
async function runBinding (port: DataChannelPort, initiator: BindingInitiator): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    port.listen({
      message: (data) => {
        try {
          const out = initiator.receive(data)
          if (out === 'done') resolve()
          else port.send(out)
        } catch (err) {
          reject(err)
        }
      },
      close: () => { reject(new FabricError('CONNECTION_LOST', 'the node closed the binding channel')) },
      low: () => {},
    })
    port.send(initiator.hello())
  })
}
