/**
 * The I/O of `/fabric/node-auth/1` (protocol/fabric.md section 2): runs the
 * handshake of src/fabric/node-auth.ts over a channel of the transport seam,
 * as initiator or responder, and remembers per peer whether it proved the
 * fabric key. A peer's result holds until its last connection closes
 * (`forget`); noise has already bound the connection to the peer id, so
 * one proof per peer covers every connection it holds at once.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { FabricError } from '../../errors.js'
import {
  buildNodeAuthMac, encodeFinish, encodeHello, encodeResponse, expectNodeAuthMessage, MAX_NODE_AUTH_MESSAGE_BYTES,
  NODE_AUTH_NONCE_BYTES, verifyNodeAuthMac, type NodeAuthTranscript,
} from '../../fabric/node-auth.js'
import type { ChannelDialer, ChannelListener, ChannelOptions, FrameChannel } from '../../transport/channel.js'
import { NODE_AUTH_PROTOCOL } from '../../wire/protocol-ids.js'
import type { Logger } from '../log.js'
import type { Startable } from '../startable.js'

/** Longest one handshake may take, either side, ms. */
export const NODE_AUTH_TIMEOUT_MS = 5_000

/** Options of NodeAuthService. */
export interface NodeAuthOptions {
  /** The fabric key, 32 bytes. */
  key: Uint8Array
  /** This node's peer id. */
  selfId: string
  /** Node peer ids admitted; empty or absent: every holder of the key. */
  allow?: readonly string[]
  listener: ChannelListener
  /** A dialer reaching `peer` (a peer id string). */
  dialerFor: (peer: string) => ChannelDialer
  /** Bound of one handshake, ms; default NODE_AUTH_TIMEOUT_MS. */
  timeoutMs?: number
  /** Called once each time a peer becomes a fabric peer (after its proof, in either role). */
  onFabricPeer?: (peer: string) => void
  log: Logger
}

type PeerState = { status: 'fabric' } | { status: 'refused', why: string } | { status: 'pending', done: Promise<boolean> }

/** Counters of the handshakes, for stats and tests. */
export interface NodeAuthCounters {
  /** Peers that proved the key (either role). */
  accepted: number
  /** Handshakes refused: wrong MAC, not on the allow list, malformed. */
  refused: number
}

/** Proves this node's fabric membership to peers and checks theirs. */
export class NodeAuthService implements Startable {
  readonly counters: NodeAuthCounters = { accepted: 0, refused: 0 }
  private readonly opts: NodeAuthOptions
  private readonly selfBytes: Uint8Array
  private readonly allow: ReadonlySet<string> | undefined
  private readonly timeoutMs: number
  private readonly peers = new Map<string, PeerState>()
  private running = false

  constructor (opts: NodeAuthOptions) {
    this.opts = opts
    this.selfBytes = peerIdFromString(opts.selfId).toMultihash().bytes
    this.allow = opts.allow === undefined || opts.allow.length === 0 ? undefined : new Set(opts.allow)
    this.timeoutMs = opts.timeoutMs ?? NODE_AUTH_TIMEOUT_MS
  }

  private channelOptions (): ChannelOptions {
    return { maxFrameLength: MAX_NODE_AUTH_MESSAGE_BYTES, frameDeadlineMs: this.timeoutMs }
  }

  async start (): Promise<void> {
    this.running = true
    // Two at once covers the race where both nodes initiate on one connection.
    await this.opts.listener.listen(NODE_AUTH_PROTOCOL, (channel) => { void this.respond(channel) }, this.channelOptions(), { maxInboundChannels: 2 })
  }

  async stop (): Promise<void> {
    this.running = false
    await this.opts.listener.unlisten(NODE_AUTH_PROTOCOL)
  }

  /** True once `peer` (a peer id string) proved the fabric key and passes the allow list, until it disconnects. */
  isFabricPeer (peer: string): boolean {
    return this.peers.get(peer)?.status === 'fabric'
  }

  /** Drops what is known of `peer` (its last connection closed): it proves the key again next time. */
  forget (peer: string): void {
    if (this.peers.get(peer)?.status !== 'pending') this.peers.delete(peer)
  }

  /**
   * Whether `peer` is a node of this fabric, running the handshake as
   * initiator (dialling it if need be) unless its result is known or under
   * way. Never throws: a peer that cannot be reached is not a fabric peer
   * (and is asked again next time); one that failed the proof is refused
   * until it disconnects.
   */
  async authenticate (peer: string): Promise<boolean> {
    if (peer === this.opts.selfId) return false
    if (!this.allowed(peer)) return false
    const known = this.peers.get(peer)
    if (known?.status === 'fabric') return true
    if (known?.status === 'refused') return false
    if (known?.status === 'pending') return await known.done
    const done = this.initiate(peer).then(
      (ok) => ok,
      (err: unknown) => {
        // Unreachable is not a verdict on the peer; anything after the dial is.
        if (err instanceof FabricError && err.code === 'UNREACHABLE') {
          if (this.peers.get(peer)?.status === 'pending') this.peers.delete(peer)
          return undefined
        }
        this.opts.log.debug({ event: 'node_auth.error', peer, err: (err as Error).message }, 'node-auth handshake failed')
        return false
      })
      .then((ok) => {
        if (ok === undefined) return false
        return this.record(peer, ok, ok ? 'initiator' : 'its Response MAC did not verify')
      })
    this.peers.set(peer, { status: 'pending', done })
    return await done
  }

  private allowed (peer: string): boolean {
    return this.allow === undefined || this.allow.has(peer)
  }

  /** Records a verdict; a proof already accepted (the other role) is never downgraded. @returns whether `peer` is a fabric peer now */
  private record (peer: string, ok: boolean, why: string): boolean {
    if (this.peers.get(peer)?.status === 'fabric') return true
    if (ok) {
      this.peers.set(peer, { status: 'fabric' })
      this.counters.accepted++
      this.opts.log.info({ event: 'node_auth.accepted', peer }, 'peer proved the fabric key')
      this.opts.onFabricPeer?.(peer)
      return true
    }
    this.peers.set(peer, { status: 'refused', why })
    this.counters.refused++
    this.opts.log.warn({ event: 'node_auth.refused', peer, why }, 'peer is not a node of this fabric')
    return false
  }

  private transcript (initiator: Uint8Array, responder: Uint8Array, initiatorNonce: Uint8Array, responderNonce: Uint8Array): NodeAuthTranscript {
    return { initiator, responder, initiatorNonce, responderNonce }
  }

  /** Runs the initiator's side. @returns whether the responder's MAC verified @throws FabricError UNREACHABLE when the channel cannot be opened */
  private async initiate (peer: string): Promise<boolean> {
    const signal = AbortSignal.timeout(this.timeoutMs)
    const channel = await this.opts.dialerFor(peer).open(NODE_AUTH_PROTOCOL, this.channelOptions(), signal)
    try {
      if (channel.remotePeer !== peer) throw new FabricError('IDENTITY_MISMATCH', `dialled ${peer}, reached ${channel.remotePeer}`)
      const peerBytes = peerIdFromString(peer).toMultihash().bytes
      const nonce = crypto.getRandomValues(new Uint8Array(NODE_AUTH_NONCE_BYTES))
      channel.write(encodeHello(nonce))
      const response = expectNodeAuthMessage(await channel.next(this.timeoutMs), 'response')
      const t = this.transcript(this.selfBytes, peerBytes, nonce, response.nonce)
      if (!verifyNodeAuthMac(this.opts.key, t, 'responder', response.mac)) {
        channel.abort(new FabricError('AUTH_FAILED', 'node-auth Response MAC did not verify'))
        return false
      }
      channel.write(encodeFinish(buildNodeAuthMac(this.opts.key, t, 'initiator')))
      await channel.close()
      return true
    } catch (err) {
      channel.abort(err as Error)
      throw err
    }
  }

  /** Runs the responder's side on a channel a peer opened. Never throws. */
  private async respond (channel: FrameChannel): Promise<void> {
    const peer = channel.remotePeer
    if (!this.running || !this.allowed(peer)) {
      // A peer off the allow list gets no MAC at all, not even one made for it.
      if (this.running) this.record(peer, false, 'not on the allow list')
      channel.abort(new FabricError('NOT_ADMITTED', 'not admitted to this fabric'))
      return
    }
    try {
      const hello = expectNodeAuthMessage(await channel.next(this.timeoutMs), 'hello')
      const nonce = crypto.getRandomValues(new Uint8Array(NODE_AUTH_NONCE_BYTES))
      const t = this.transcript(peerIdFromString(peer).toMultihash().bytes, this.selfBytes, hello.nonce, nonce)
      channel.write(encodeResponse(nonce, buildNodeAuthMac(this.opts.key, t, 'responder')))
      const finish = expectNodeAuthMessage(await channel.next(this.timeoutMs), 'finish')
      this.record(peer, verifyNodeAuthMac(this.opts.key, t, 'initiator', finish.mac), 'its Finish MAC did not verify')
      await channel.close()
    } catch (err) {
      this.record(peer, false, `handshake broke off: ${(err as Error).message}`)
      channel.abort(err as Error)
    }
  }
}
