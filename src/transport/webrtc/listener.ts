/**
 * The node's side of the WebRTC transport (protocol/webrtc.md): answers
 * members' offers, runs the binding handshake on each connection's first
 * data channel, then gives every data channel the member opens, labelled
 * with a protocol id, to that protocol's service as a FrameChannel whose
 * `remotePeer` is the proven member. A ChannelListener like libp2p's, so
 * the services do not know which transport a member came by.
 *
 * Quotas: connections at once (all, and per remote address), a deadline for
 * the binding, data channels per protocol per connection (the services'
 * ListenOptions), and no data channel before the binding completed.
 */
import { FabricError } from '../../errors.js'
import type { PeerKey } from './peer-key.js'
import { WEBRTC_BINDING_LABEL } from '../../wire/protocol-ids.js'
import type { ChannelListener, ChannelOptions, FrameChannel, ListenOptions } from '../channel.js'
import { BindingResponder, BindingType, isLiveness } from './binding.js'
import { DataChannelChannel, type DataChannelPort } from './data-channel.js'
import { unref } from '../next-frame.js'
import type { AnsweringPeer } from './peer-connection.js'
import { sha256Fingerprint } from './sdp.js'

/** How long a dropped connection's channel resets get before the connection itself closes, ms. */
const CLOSE_AFTER_RESET_MS = 200

/** Default bound of WebRTC connections a node holds at once. */
export const DEFAULT_MAX_WEBRTC_CONNECTIONS = 256

/** Default bound of WebRTC connections from one remote address at once. */
export const DEFAULT_MAX_WEBRTC_CONNECTIONS_PER_ADDRESS = 16

/** How long a connection has from its offer to a completed binding, ms. */
export const DEFAULT_BINDING_TIMEOUT_MS = 10_000

/**
 * Longest a bound member may leave the node's Pings unanswered before its
 * connection is closed, ms: the same 5 s as libp2p members get
 * (NODE_LIVENESS_TIMEOUT_MS), where ICE consent alone would take 30 s.
 */
export const DEFAULT_WEBRTC_LIVENESS_TIMEOUT_MS = 5_000

/** Options of WebRtcListener. */
export interface WebRtcListenerOptions {
  /** The node's identity key: its libp2p peer id's Ed25519 key. */
  identity: PeerKey
  /** Makes the answering side of one peer connection (werift in Node). */
  newPeer: () => AnsweringPeer
  maxConnections?: number
  maxConnectionsPerAddress?: number
  bindingTimeoutMs?: number
  /** See DEFAULT_WEBRTC_LIVENESS_TIMEOUT_MS; the node Pings at a third of it. */
  livenessTimeoutMs?: number
}

/** Counters of the WebRTC listener. */
export interface WebRtcListenerStats {
  /** Connections held now (binding or bound). */
  connections: number
  /** Connections whose member is proven. */
  bound: number
  /** Offers answered, since start. */
  offers: number
  /** Offers refused for a quota. */
  refusedQuota: number
  /** Connections closed because the binding failed or ran out of time. */
  bindingFailed: number
  /** Bound connections closed because the member stopped answering Pings. */
  livenessTimeouts: number
  /** Data channels refused: before the binding, unknown protocol, or over the protocol's bound. */
  channelsRefused: number
}

interface Handler {
  accept: (channel: FrameChannel) => void
  options: ChannelOptions
  limits: ListenOptions
}

interface Conn {
  id: string
  address: string
  peer: AnsweringPeer
  member: string | undefined
  open: Map<string, number>
  channels: Set<FrameChannel>
  closed: boolean
  /** The binding channel, once open: closing it tells the member the connection is over. */
  binding: DataChannelPort | undefined
  /** When the member last answered, ms (Date.now). */
  lastPong: number
  pinger: ReturnType<typeof setInterval> | undefined
}

export class WebRtcListener implements ChannelListener {
  private readonly opts: WebRtcListenerOptions
  private readonly handlers = new Map<string, Handler>()
  private readonly conns = new Set<Conn>()
  private readonly perAddress = new Map<string, number>()
  private nextId = 0
  private stopped = false
  readonly counters = { offers: 0, refusedQuota: 0, bindingFailed: 0, channelsRefused: 0, livenessTimeouts: 0 }

  constructor (opts: WebRtcListenerOptions) {
    this.opts = opts
  }

  async listen (protocol: string, accept: (channel: FrameChannel) => void, options: ChannelOptions, limits: ListenOptions): Promise<void> {
    this.handlers.set(protocol, { accept, options, limits })
  }

  async unlisten (protocol: string): Promise<void> {
    this.handlers.delete(protocol)
  }

  stats (): WebRtcListenerStats {
    let bound = 0
    for (const c of this.conns) if (c.member !== undefined) bound++
    return { connections: this.conns.size, bound, ...this.counters }
  }

  /**
   * Answers a member's offer (protocol/webrtc.md section 2).
   * @param offerSdp the SDP offer, as POSTed
   * @param address the remote address the offer came from (per-address quota)
   * @returns the SDP answer
   * @throws FabricError QUOTA_EXCEEDED over a connection bound, INVALID_STATE
   *         when stopping, MALFORMED/TOO_LARGE for an offer the node cannot use
   */
  async answer (offerSdp: string, address: string): Promise<string> {
    if (this.stopped) throw new FabricError('INVALID_STATE', 'the node is stopping')
    const offerFingerprint = sha256Fingerprint(offerSdp)
    const max = this.opts.maxConnections ?? DEFAULT_MAX_WEBRTC_CONNECTIONS
    const maxHere = this.opts.maxConnectionsPerAddress ?? DEFAULT_MAX_WEBRTC_CONNECTIONS_PER_ADDRESS
    const here = this.perAddress.get(address) ?? 0
    if (this.conns.size >= max || here >= maxHere) {
      this.counters.refusedQuota++
      throw new FabricError('QUOTA_EXCEEDED', this.conns.size >= max ? `the node holds ${max} WebRTC connections` : `${address} holds ${maxHere} WebRTC connections`)
    }
    const conn: Conn = { id: `webrtc-${++this.nextId}`, address, peer: this.opts.newPeer(), member: undefined, open: new Map(), channels: new Set(), closed: false, binding: undefined, lastPong: 0, pinger: undefined }
    this.conns.add(conn)
    this.perAddress.set(address, here + 1)
    this.counters.offers++
    const deadline = setTimeout(() => {
      // A connection already dropped (a failed binding) is counted once, there.
      if (conn.member === undefined && !conn.closed) { this.counters.bindingFailed++; this.drop(conn) }
    }, this.opts.bindingTimeoutMs ?? DEFAULT_BINDING_TIMEOUT_MS)
    unref(deadline)
    conn.peer.onState((s) => { if (s === 'failed' || s === 'closed') this.drop(conn) })
    let answerSdp: string
    try {
      answerSdp = await conn.peer.answer(offerSdp)
    } catch (err) {
      clearTimeout(deadline)
      this.drop(conn)
      throw new FabricError('MALFORMED', `the offer cannot be answered: ${(err as Error).message}`, { cause: err })
    }
    const responder = new BindingResponder(this.opts.identity, { offer: offerFingerprint, answer: sha256Fingerprint(answerSdp) })
    conn.peer.onDataChannel((port) => {
      if (conn.closed) { port.close(); return }
      if (conn.member === undefined) {
        if (port.label !== WEBRTC_BINDING_LABEL || conn.binding !== undefined) { this.refuse(port); return }
        conn.binding = port
        this.bind(conn, port, responder, deadline)
        return
      }
      this.accept(conn, port)
    })
    return answerSdp
  }

  private bind (conn: Conn, port: DataChannelPort, responder: BindingResponder, deadline: ReturnType<typeof setTimeout>): void {
    port.listen({
      message: (data) => {
        if (conn.member !== undefined) {
          if (isLiveness(data, BindingType.Pong)) conn.lastPong = Date.now()
          else this.drop(conn)
          return
        }
        try {
          port.send(responder.receive(data))
        } catch {
          this.counters.bindingFailed++
          this.drop(conn)
          return
        }
        if (responder.memberPeer !== undefined) {
          conn.member = responder.memberPeer
          clearTimeout(deadline)
          this.watch(conn, port)
        }
      },
      close: () => { this.drop(conn) },
      low: () => {},
    })
  }

  /**
   * Pings the member on the binding channel and closes the connection when
   * it stops answering (protocol/webrtc.md section 5): a member whose
   * process died leaves no trace on the wire, and the group service must
   * learn it is away as soon as for a libp2p member.
   */
  private watch (conn: Conn, port: DataChannelPort): void {
    const timeout = this.opts.livenessTimeoutMs ?? DEFAULT_WEBRTC_LIVENESS_TIMEOUT_MS
    conn.lastPong = Date.now()
    const ping = Uint8Array.of(BindingType.Ping)
    conn.pinger = setInterval(() => {
      if (Date.now() - conn.lastPong > timeout) {
        this.counters.livenessTimeouts++
        this.drop(conn)
        return
      }
      try { port.send(ping) } catch { this.drop(conn) }
    }, Math.max(1, Math.floor(timeout / 3)))
    unref(conn.pinger)
  }

  private accept (conn: Conn, port: DataChannelPort): void {
    const handler = this.handlers.get(port.label)
    const count = conn.open.get(port.label) ?? 0
    if (handler === undefined || count >= handler.limits.maxInboundChannels) { this.refuse(port); return }
    conn.open.set(port.label, count + 1)
    const channel = new DataChannelChannel(port, handler.options, { remotePeer: conn.member as string, connectionId: conn.id })
    conn.channels.add(channel)
    channel.onClose(() => {
      conn.channels.delete(channel)
      conn.open.set(port.label, (conn.open.get(port.label) ?? 1) - 1)
    })
    handler.accept(channel)
  }

  private refuse (port: DataChannelPort): void {
    this.counters.channelsRefused++
    try { port.close() } catch {}
  }

  /** Closes one connection and resets its channels. */
  private drop (conn: Conn): void {
    if (conn.closed) return
    conn.closed = true
    if (conn.pinger !== undefined) clearInterval(conn.pinger)
    this.conns.delete(conn)
    const left = (this.perAddress.get(conn.address) ?? 1) - 1
    if (left <= 0) this.perAddress.delete(conn.address)
    else this.perAddress.set(conn.address, left)
    for (const ch of conn.channels) ch.abort(new FabricError('CONNECTION_LOST', 'the WebRTC connection closed'))
    // Data channels close by an SCTP stream reset, which the member sees at
    // once; werift's close of the whole connection reaches it only through
    // ICE consent, 30 s later. So the binding channel goes first, and the
    // connection after the reset had time to leave.
    try { conn.binding?.close() } catch {}
    const later = setTimeout(() => { try { conn.peer.close() } catch {} }, CLOSE_AFTER_RESET_MS)
    unref(later)
  }

  /** Refuses new offers and closes every connection. */
  close (): void {
    this.stopped = true
    for (const c of [...this.conns]) this.drop(c)
  }
}
