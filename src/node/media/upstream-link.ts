/**
 * The node's pull from its one upstream node (`--upstream`, node-to-node
 * relaying of protocol/link-seal.md section 8): when a subscriber asks for a
 * stream this node does not carry, the link subscribes to it at the
 * upstream node as a trusted relay (RelaySubscription) and the stream is
 * carried here for as long as that subscription lives.
 */
import { EventEmitter } from 'node:events'
import type { ChannelDialer } from '../../transport/channel.js'
import type { StreamKey } from '../../wire/stream-tag.js'
import type { Logger } from '../log.js'
import type { StreamPuller } from './egress.js'
import { RelaySubscription, type RelaySubscriptionDeps } from './relay-subscription.js'

/** Options of UpstreamLink. */
export interface UpstreamLinkOptions extends RelaySubscriptionDeps {
  /** Opens channels to the upstream node (which must trust this one as a relay). */
  dialer: ChannelDialer
  log: Logger
}

/** The events of UpstreamLink. */
export interface UpstreamLinkEvents {
  /** The subscription to `stream` at the upstream node ended: the stream is no longer carried here. */
  ended: [stream: StreamKey]
}

export class UpstreamLink extends EventEmitter<UpstreamLinkEvents> implements StreamPuller {
  private readonly opts: UpstreamLinkOptions
  /** Per stream, its subscription being opened or open; a failed one is forgotten so the next subscriber tries again. */
  private readonly pulls = new Map<StreamKey, Promise<void>>()
  private readonly sources = new Set<RelaySubscription>()

  constructor (opts: UpstreamLinkOptions) {
    super()
    this.opts = opts
  }

  /** Streams pulled from the upstream node now. */
  get count (): number { return this.sources.size }

  /**
   * Makes `stream` available to a trusted relay when this node does not
   * carry it yet, by subscribing to it at the upstream node. Members are not
   * served from the upstream: theirs are the streams of this node's own
   * group service, so a member's ask returns at once.
   * @param member the peer asking as a member, or undefined for a trusted relay
   * @throws FabricError UNREACHABLE when the upstream cannot be reached, or
   *   the upstream's refusal (its code)
   */
  async ensure (stream: StreamKey, member?: string): Promise<void> {
    if (member !== undefined || (this.opts.relay.hasStream(stream) && !this.pulls.has(stream))) return
    await this.pull(stream)
  }

  /**
   * Subscribes to `stream` at the upstream node; one subscription per stream
   * however many ask at once.
   * @throws as `ensure`
   */
  async pull (stream: StreamKey): Promise<void> {
    let pending = this.pulls.get(stream)
    if (pending === undefined) {
      pending = this.open(stream)
      this.pulls.set(stream, pending)
      pending.catch(() => { this.pulls.delete(stream) })
    }
    await pending
  }

  /** Resets the subscription to `stream` at the upstream node with `err`; it emits 'ended'. */
  closeStream (stream: StreamKey, err: Error): void {
    for (const s of this.sources) if (s.stream === stream) s.abort(err)
  }

  /** Resets every subscription at the upstream node (the node stops); each emits 'ended'. */
  stop (): void {
    for (const s of this.sources) s.abort(new Error('node stopping'))
  }

  private async open (stream: StreamKey): Promise<void> {
    const { dialer, log } = this.opts
    const source = await RelaySubscription.open(stream, dialer, this.opts)
    this.sources.add(source)
    log.info({ event: 'upstream.pull', stream, upstream: dialer.target }, 'pulling a stream from the upstream node')
    void source.ended.then(() => {
      log.info({ event: 'upstream.ended', stream, upstream: dialer.target }, 'upstream pull ended')
      this.sources.delete(source)
      this.pulls.delete(stream)
      this.emit('ended', stream)
    })
  }
}
