/**
 * The committer's duty (the stream's creator in v1): turn join requests and
 * leaves into Commits. Requests arriving within `batchWindowMs` of each other
 * go into one Commit with one Welcome; Commits go out one at a time, and a
 * Commit the group service refuses as stale is discarded and retried after
 * the group catches up (design.md "Join").
 */
import { isFabricError } from '../errors.js'
import type { AvSession, PendingCommit } from '../session/av-session.js'

/**
 * Stale refusals tolerated in a row before requests are reported failed: the
 * single v1 committer should never lose an epoch, so repeats mean it is out
 * of step with the delivery service and retrying forever would only spin.
 */
export const MAX_STALE_RETRIES = 3

/**
 * Default time a join request waits for others to share its Commit, ms.
 * Zero: requests that arrive in the same event-loop turn, or while a Commit
 * is in flight, already share the next Commit; waiting longer only adds
 * latency to a lone join (measured: 110 -> 86 ms at 2 members, and 100
 * simultaneous joins still went into 2 Commits).
 */
export const DEFAULT_BATCH_WINDOW_MS = 0

/** KeyPackages fetched from the directory at once when a batch is committed. */
export const PARALLEL_FETCHES = 16

/** What the committer needs from its member. */
export interface CommitterHost {
  readonly session: AvSession
  /** Fetches (consumes) one KeyPackage of `identity` from the directory. */
  fetchKeyPackage: (identity: string) => Promise<Uint8Array>
  /** Submits a Commit to the group service; resolves on acceptance. */
  submit: (pending: PendingCommit) => Promise<void>
  /** Called after a Commit was accepted and applied. */
  applied: (pending: PendingCommit) => Promise<void>
  /** Reports a request that could not be served (e.g. no KeyPackage). */
  failed: (identities: string[], err: Error) => void
}

export class Committer {
  private readonly host: CommitterHost
  private readonly batchWindowMs: number
  private joins = new Set<string>()
  private removals = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private chain: Promise<void> = Promise.resolve()
  private stopped = false
  private staleInARow = 0
  /** Commits accepted, and joiners they added. */
  commits = 0
  added = 0

  constructor (host: CommitterHost, batchWindowMs = DEFAULT_BATCH_WINDOW_MS) {
    this.host = host
    this.batchWindowMs = batchWindowMs
  }

  /** Queues a join request. */
  requestJoin (identity: string): void {
    this.joins.add(identity)
    this.schedule()
  }

  /** Queues a removal (a leave, or the app's decision). */
  requestRemoval (identity: string): void {
    this.removals.add(identity)
    this.schedule()
  }

  /** Resolves when every queued request has been committed or has failed. */
  async idle (): Promise<void> {
    while (this.timer !== undefined || this.joins.size > 0 || this.removals.size > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.batchWindowMs))
      await this.chain
    }
    await this.chain
  }

  /** Stops committing. */
  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule (): void {
    if (this.timer !== undefined || this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      // A throw that escapes flush (e.g. from the host's `applied`) is
      // reported; left in the chain it would skip every later flush.
      this.chain = this.chain.then(async () => { await this.flush() }).catch((err: unknown) => {
        try { this.host.failed([], err instanceof Error ? err : new Error(String(err))) } catch {}
      })
    }, this.batchWindowMs)
  }

  /** Commits the removals first (they must take effect at once), then the joins. */
  private async flush (): Promise<void> {
    if (this.stopped) return
    const session = this.host.session
    const removals = [...this.removals].filter((id) => session.leafIndexOf(id) !== undefined)
    this.removals.clear()
    if (removals.length > 0) await this.commit(() => session.prepareRemove(removals), removals, () => { for (const id of removals) this.removals.add(id) })

    const joins = [...this.joins].filter((id) => session.leafIndexOf(id) === undefined)
    this.joins.clear()
    if (joins.length === 0) return
    // Fetches run in parallel (one directory stream each): one at a time,
    // 100 joiners cost ~0.5 s before the Commit could even be prepared.
    const fetched: Array<Uint8Array | undefined> = new Array(joins.length)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < joins.length) {
        const i = next++
        try {
          fetched[i] = await this.host.fetchKeyPackage(joins[i])
        } catch (err) {
          this.host.failed([joins[i]], err as Error)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARALLEL_FETCHES, joins.length) }, worker))
    const keyPackages: Uint8Array[] = []
    const identities: string[] = []
    joins.forEach((id, i) => {
      const kp = fetched[i]
      if (kp !== undefined) {
        keyPackages.push(kp)
        identities.push(id)
      }
    })
    if (keyPackages.length === 0) return
    await this.commit(
      () => session.prepareAdd(keyPackages, { nowMs: Date.now(), expectedIdentities: identities }),
      identities,
      () => { for (const id of identities) this.joins.add(id) },
    )
  }

  private async commit (prepare: () => Promise<PendingCommit>, identities: string[], requeue: () => void): Promise<void> {
    const session = this.host.session
    let pending: PendingCommit
    try {
      pending = await prepare()
    } catch (err) {
      this.host.failed(identities, err as Error)
      return
    }
    try {
      await this.host.submit(pending)
    } catch (err) {
      session.discardPending(pending)
      if (isFabricError(err, 'STALE_EPOCH') && ++this.staleInARow <= MAX_STALE_RETRIES) {
        // Another Commit won this epoch; it reaches us as a CommitDelivery,
        // after which the same requests are committed again.
        requeue()
        this.schedule()
        return
      }
      this.host.failed(identities, err as Error)
      return
    }
    await session.applyPending(pending, Date.now())
    this.staleInARow = 0
    this.commits++
    this.added += pending.addedIdentities.length
    await this.host.applied(pending)
  }
}
