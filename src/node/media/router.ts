/**
 * The media path between the channels and RelayNode: chunks from any source
 * (a member's publish channel, the upstream link) go into `RelayNode.forward`
 * synchronously; the subscribers it queued them for have their sender tasks
 * woken (one coalesced write per subscriber per event-loop turn:
 * FlushScheduler); the keyframe requests it returns go to the sources that
 * publish those tracks. Ingress, egress and the upstream link all share one
 * router, which holds no channel of its own.
 */
import { isFabricError } from '../../errors.js'
import { BatchClock, FlushScheduler, type SubscriberSender } from '../../dispatch/subscriber-sender.js'
import type { KeyframeRequest, RelayNode } from '../../relay/relay-node.js'
import type { StreamKey } from '../../wire/stream-tag.js'
import { relayClock, type AvCounters } from './counters.js'

/**
 * Where the chunks of one stream come from: a member publishing on this
 * node (ingress) or this node's subscription at its upstream node.
 */
export interface MediaSource {
  readonly stream: StreamKey
  /** Its identity in RelayNode: the publishing member's peer id, or the upstream node's. */
  readonly identity: string
  /**
   * Asks the source for a keyframe of `track`, in its channel's own message
   * (keyframe-request.ts).
   * @throws when its channel no longer takes writes
   */
  requestKeyframe: (track: number) => void
}

/** Options of MediaRouter. */
export interface MediaRouterOptions {
  relay: RelayNode
  /** Counts refused chunks and keyframe requests sent. */
  counters: AvCounters
}

export class MediaRouter {
  /** Runs the woken senders once per event-loop turn; its clock times their batches. */
  readonly scheduler = new FlushScheduler(new BatchClock(relayClock))
  private readonly relay: RelayNode
  private readonly counters: AvCounters
  private readonly sources = new Set<MediaSource>()
  private readonly senders = new Map<number, SubscriberSender>()

  constructor (opts: MediaRouterOptions) {
    this.relay = opts.relay
    this.counters = opts.counters
  }

  /** Sources live now (publish channels and upstream subscriptions). */
  get sourceCount (): number { return this.sources.size }

  /** `source` may now be asked for keyframes. */
  addSource (source: MediaSource): void { this.sources.add(source) }

  /** `source` ended. */
  removeSource (source: MediaSource): void { this.sources.delete(source) }

  /** The sender task of RelayNode subscriber `id`, woken when the relay queues for it. */
  addSender (id: number, sender: SubscriberSender): void { this.senders.set(id, sender) }

  /** Subscriber `id` is gone. */
  removeSender (id: number): void { this.senders.delete(id) }

  /** Runs `sender` on the next scheduler turn. */
  wake (sender: SubscriberSender): void { this.scheduler.wake(sender) }

  /**
   * The receive path: one chunk from `source`, handled synchronously. A
   * chunk the relay refuses is counted and dropped, and the source's channel
   * carries on (its framing is intact).
   * @param ingestMs the transport read that delivered it, on relayClock (NaN: unknown)
   * @throws FabricError NOT_FOUND when the stream is no longer relayed, and
   *   what is not a FabricError: the source's channel should end
   */
  forward (source: MediaSource, chunk: Uint8Array, ingestMs: number): void {
    let result
    try {
      const now = relayClock()
      // Not NaN, not after now, or else now.
      result = this.relay.forward(source.stream, source.identity, chunk, now, ingestMs <= now ? ingestMs : now)
    } catch (err) {
      if (!isFabricError(err) || err.code === 'NOT_FOUND') throw err
      this.counters.rejectedChunks++
      this.counters.rejectedByCode[err.code] = (this.counters.rejectedByCode[err.code] ?? 0) + 1
      return
    }
    for (const id of result.delivered) {
      const sender = this.senders.get(id)
      if (sender !== undefined) this.scheduler.wake(sender)
    }
    for (const r of result.keyframeRequests) this.requestKeyframe(r)
  }

  /** Sends `r` to every source of its stream that publishes its track (all of the stream's when the publisher is not known). */
  requestKeyframe (r: KeyframeRequest): void {
    for (const s of this.sources) {
      if (s.stream !== r.stream || (r.publisher !== undefined && s.identity !== r.publisher)) continue
      try {
        s.requestKeyframe(r.track)
        this.counters.keyframeRequestsSent++
      } catch {}
    }
  }
}
