/**
 * The media service's periodic summary of overload: once per interval, the
 * subscribers that started dropping (the slow-subscriber policy acted) and
 * the chunks refused since the last line, so an overload costs one log line
 * per subscriber, not one per chunk.
 */
import type { RelayNode } from '../../relay/relay-node.js'
import { short, type Logger } from '../log.js'
import type { AvCounters } from './counters.js'

/** How often overloads and refused chunks are summed up in the log, ms (one line per subscriber or stream, not per chunk). */
export const MEDIA_LOG_INTERVAL_MS = 1_000

/** Options of OverloadLog. */
export interface OverloadLogOptions {
  relay: RelayNode
  counters: AvCounters
  /** The media service's live subscriptions, by RelayNode subscriber id (MediaEgress). */
  subscriptions: { readonly count: number, has: (id: number) => boolean }
  log: Logger
}

export class OverloadLog {
  private readonly relay: RelayNode
  private readonly counters: AvCounters
  private readonly subscriptions: OverloadLogOptions['subscriptions']
  private readonly log: Logger
  private timer: NodeJS.Timeout | undefined
  /** Per subscriber id, the overflows already logged. */
  private readonly loggedOverflows = new Map<number, number>()
  /** The refused chunks already logged. */
  private loggedRejected = 0

  constructor (opts: OverloadLogOptions) {
    this.relay = opts.relay
    this.counters = opts.counters
    this.subscriptions = opts.subscriptions
    this.log = opts.log
  }

  /** Starts the timer; nothing runs unless the log takes info lines. */
  async start (): Promise<void> {
    if (!this.log.isLevelEnabled('info')) return
    this.timer = setInterval(() => { this.summarize() }, MEDIA_LOG_INTERVAL_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private summarize (): void {
    if (this.counters.rejectedChunks > this.loggedRejected) {
      this.log.info({ event: 'chunks.rejected', count: this.counters.rejectedChunks - this.loggedRejected, byCode: { ...this.counters.rejectedByCode } }, 'chunks refused')
      this.loggedRejected = this.counters.rejectedChunks
    }
    if (this.subscriptions.count === 0) return
    for (const sub of this.relay.stats().subscribers) {
      const before = this.loggedOverflows.get(sub.id) ?? 0
      if (sub.overflows > before) {
        this.log.info({ event: 'subscriber.overflow', peer: short(sub.identity), stream: sub.stream, overflows: sub.overflows, dropped: sub.dropped, queuedBytes: sub.queuedBytes }, 'subscriber queue overflowed: dropping to the next keyframe')
        this.loggedOverflows.set(sub.id, sub.overflows)
      }
    }
    for (const id of this.loggedOverflows.keys()) if (!this.subscriptions.has(id)) this.loggedOverflows.delete(id)
  }
}
