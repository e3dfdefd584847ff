/**
 * The committer's duty (the stream's owner in v1): decide join requests by
 * the group's admission policy, turn the admitted ones and the leaves into
 * Commits. A request the policy refuses is denied at once (the joiner gets
 * NOT_ADMITTED); one it leaves to the owner (knock) goes to the app, which
 * approves or denies. Requests arriving within `batchWindowMs` of each other
 * go into one Commit with one Welcome; Commits go out one at a time, and a
 * Commit the group service refuses as stale is discarded and retried after
 * the group catches up (protocol/sequences.md sections 4 and 5,
 * docs/architecture.md section 4).
 */
import { FabricError, isFabricError } from '../errors.js'
import type { NewAdmission } from '../session/admission/index.js'
import type { AvSession, PendingCommit } from '../session/av-session.js'
import { toHex } from '../wire/text.js'

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

/**
 * Time a removal waits for others to share its Commit, ms: departures come
 * close together (a node restart, several members past the grace period in
 * one tick) and each Commit costs every member a key change (edumeet batches
 * departures over 200 ms too).
 */
export const DEPARTURE_BATCH_MS = 200

/**
 * KeyPackages fetched from the directory at once when a batch is committed:
 * the node allows 8 directory streams per connection (protocol/limits.md).
 */
export const PARALLEL_FETCHES = 8

/**
 * Knocks waiting for the app's answer at once; later ones are denied. The
 * node bounds pending joins per stream too; this keeps an app that answers
 * slowly from holding an unbounded list.
 */
export const MAX_PENDING_KNOCKS = 64

/** A knock the app answers: someone the policy does not admit asks to join. */
export interface KnockRequest {
  /** Peer id of the joiner. */
  readonly identity: string
  /** Admits it: the committer signs a one-use invitation for it and commits the Add. */
  approve: () => void
  /** Refuses it: the joiner gets NOT_ADMITTED with `reason`. */
  deny: (reason?: string) => void
}

/** What the committer needs from its member. */
export interface CommitterHost {
  readonly session: AvSession
  /** Fetches (consumes) one KeyPackage of `identity` from the directory. */
  fetchKeyPackage: (identity: string) => Promise<Uint8Array>
  /** Submits a Commit to the group service; resolves on acceptance. */
  submit: (pending: PendingCommit) => Promise<void>
  /** Called after a Commit was accepted and applied. */
  applied: (pending: PendingCommit) => Promise<void>
  /**
   * A Commit whose submission the broken group stream cut off: it stays
   * pending in the session until the member resumes and learns its fate.
   */
  inDoubt?: (pending: PendingCommit) => void
  /** Reports a request that could not be served (e.g. no KeyPackage). */
  failed: (identities: string[], err: Error) => void
  /** Tells the node to refuse the pending join of `identity` (NOT_ADMITTED, `reason`). */
  deny: (identity: string, reason: string) => Promise<void>
  /** Hands a knock to the app; false when nobody answers knocks (it is then denied). */
  knock: (request: KnockRequest) => boolean
  /**
   * The member's clock, ms since the Unix epoch (invitation expiry, KeyPackage
   * and key lifetimes); the shell supplies it so the committer reads none.
   */
  now: () => number
}

/** A join admitted and waiting for its Commit. */
interface QueuedJoin {
  /** The Redemption the joiner presented, re-checked when the Commit is built. */
  readonly redemption?: Uint8Array
  /** Evidence made for an approved knock. */
  readonly admission?: NewAdmission
}

export class Committer {
  private readonly host: CommitterHost
  private readonly batchWindowMs: number
  private joins = new Map<string, QueuedJoin>()
  private removals = new Set<string>()
  private readonly knocks = new Set<string>()
  /**
   * Joins withdrawn while a flush is under way (it already took them off
   * `joins`): the Commit it builds, and its retry, must leave them out, or
   * they would be added with nobody to receive the Welcome. Kept only
   * during a flush, so it stays as small as the batch.
   */
  private readonly gone = new Set<string>()
  private flushing = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private chain: Promise<void> = Promise.resolve()
  private stopped = false
  private staleInARow = 0
  /** Commits accepted, and joiners they added. */
  commits = 0
  added = 0
  /** Joins denied (by the policy, the app, or a failed re-check). */
  denied = 0

  constructor (host: CommitterHost, batchWindowMs = DEFAULT_BATCH_WINDOW_MS) {
    this.host = host
    this.batchWindowMs = batchWindowMs
  }

  /**
   * Decides a join request by the group's policy: queues it for the next
   * Commit, denies it, or hands it to the app as a knock.
   *
   * @param redemption the Redemption the joiner presented (empty or absent for none)
   * @param nowMs ms since the Unix epoch; default the host's clock
   */
  requestJoin (identity: string, redemption?: Uint8Array, nowMs = this.host.now()): void {
    if (this.stopped || this.joins.has(identity) || this.knocks.has(identity)) return
    const given = redemption !== undefined && redemption.byteLength > 0 ? Uint8Array.from(redemption) : undefined
    const decision = this.host.session.decideJoin(identity, given, nowMs)
    switch (decision.kind) {
      case 'admit':
      case 'evidence':
        this.joins.set(identity, { redemption: given })
        this.schedule()
        return
      case 'deny':
        this.deny(identity, decision.reason)
        return
      case 'knock':
        this.knock(identity)
    }
  }

  /** The pending join of `identity` ended at the node (the joiner left, or it expired): forget it. */
  withdrawn (identity: string): void {
    this.joins.delete(identity)
    this.knocks.delete(identity)
    if (this.flushing) this.gone.add(identity)
  }

  /** Queues a removal (a leave, a member gone past its grace period, or the app's decision); removals close together share a Commit. */
  requestRemoval (identity: string): void {
    this.removals.add(identity)
    this.schedule(Math.max(this.batchWindowMs, DEPARTURE_BATCH_MS))
  }

  /**
   * Runs `task` (which prepares, submits and applies a Commit of its own,
   * e.g. a policy change) in turn with the queued Commits, so two Commits
   * are never prepared at once.
   */
  async run<T> (task: () => Promise<T>): Promise<T> {
    const result = this.chain.then(task)
    this.chain = result.then(() => undefined, () => undefined)
    return await result
  }

  /**
   * Resolves when every queued request has been committed or has failed
   * (including those a refused Commit queued again), or once stopped.
   */
  async idle (): Promise<void> {
    for (;;) {
      // A flush in flight may queue its requests again (a stale refusal), so look after it ends.
      await this.chain
      // Joins of members still in the group wait for their removal, which is not this committer's to hurry.
      const ready = [...this.joins.keys()].some((id) => this.host.session.leafIndexOf(id) === undefined)
      if (this.stopped || (this.timer === undefined && !ready && this.removals.size === 0)) return
      await new Promise((resolve) => setTimeout(resolve, this.batchWindowMs))
    }
  }

  /** Stops committing. */
  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private knock (identity: string): void {
    if (this.knocks.size >= MAX_PENDING_KNOCKS) {
      this.deny(identity, `${MAX_PENDING_KNOCKS} requests are already waiting for the owner's answer`)
      return
    }
    this.knocks.add(identity)
    let answered = false
    const answer = (): boolean => {
      if (answered || !this.knocks.delete(identity)) return false
      answered = true
      return true
    }
    const request: KnockRequest = {
      identity,
      approve: () => {
        if (!answer()) return
        let admission: NewAdmission
        try {
          admission = this.host.session.approveKnock(identity, this.host.now())
        } catch (err) {
          this.deny(identity, err instanceof Error ? err.message : String(err))
          return
        }
        this.joins.set(identity, { admission })
        this.schedule()
      },
      deny: (reason = 'the owner declined the request') => {
        if (answer()) this.deny(identity, reason)
      },
    }
    let heard = false
    try { heard = this.host.knock(request) } catch {}
    if (!heard && answer()) this.deny(identity, 'nobody is answering join requests for this stream')
  }

  private deny (identity: string, reason: string): void {
    this.denied++
    this.host.deny(identity, reason).catch(() => {})
  }

  private schedule (delayMs = this.batchWindowMs): void {
    if (this.timer !== undefined || this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      // A throw that escapes flush (e.g. from the host's `applied`) is
      // reported; left in the chain it would skip every later flush.
      this.chain = this.chain.then(async () => {
        this.flushing = true
        try {
          await this.flush()
        } finally {
          this.flushing = false
          this.gone.clear()
        }
      }).catch((err: unknown) => {
        try { this.host.failed([], err instanceof Error ? err : new Error(String(err))) } catch {}
      })
    }, delayMs)
  }

  /** Commits the removals first (they must take effect at once), then the joins. */
  private async flush (): Promise<void> {
    if (this.stopped) return
    const session = this.host.session
    const removals = [...this.removals].filter((id) => session.leafIndexOf(id) !== undefined)
    this.removals.clear()
    if (removals.length > 0) await this.commit(() => session.prepareRemove(removals), removals, () => { for (const id of removals) this.removals.add(id) })

    // A member joining again (a rejoin) waits here until its old leaf is removed.
    const queued = [...this.joins].filter(([id]) => session.leafIndexOf(id) === undefined)
    for (const [id] of queued) this.joins.delete(id)
    this.gone.clear()
    if (queued.length === 0) return
    // Re-check presented invitations together: two joiners may be redeeming
    // the same invitation, and only its remaining uses may be granted.
    const now = this.host.now()
    const uses = new Map<string, number>()
    const admitted: Array<[string, QueuedJoin, NewAdmission | undefined]> = []
    for (const [identity, join] of queued) {
      if (join.admission !== undefined) {
        admitted.push([identity, join, join.admission])
        continue
      }
      const decision = session.decideJoin(identity, join.redemption, now, uses)
      if (decision.kind === 'admit') {
        admitted.push([identity, join, undefined])
      } else if (decision.kind === 'evidence') {
        const key = toHex(decision.admission.invitationId)
        uses.set(key, (uses.get(key) ?? 0) + 1)
        admitted.push([identity, join, decision.admission])
      } else {
        this.deny(identity, decision.kind === 'deny' ? decision.reason : 'the stream no longer admits this identity')
      }
    }
    // Fetches run in parallel (one directory stream each): one at a time,
    // 100 joiners cost ~0.5 s before the Commit could even be prepared.
    const fetched: Array<Uint8Array | undefined> = new Array(admitted.length)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < admitted.length) {
        const i = next++
        try {
          fetched[i] = await this.host.fetchKeyPackage(admitted[i]![0])
        } catch (err) {
          this.host.failed([admitted[i]![0]], err as Error)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARALLEL_FETCHES, admitted.length) }, worker))
    const keyPackages: Uint8Array[] = []
    const identities: string[] = []
    const admissions: NewAdmission[] = []
    const kept: Array<[string, QueuedJoin]> = []
    admitted.forEach(([identity, join, admission], i) => {
      const kp = fetched[i]
      if (kp === undefined || this.gone.has(identity)) return
      keyPackages.push(kp)
      identities.push(identity)
      kept.push([identity, join])
      if (admission !== undefined) admissions.push(admission)
    })
    if (keyPackages.length === 0) return
    await this.commit(
      () => session.prepareAdd(keyPackages, { nowMs: this.host.now(), expectedIdentities: identities, admissions }),
      identities,
      () => { for (const [id, join] of kept) if (!this.gone.has(id)) this.joins.set(id, join) },
    )
  }

  private async commit (prepare: () => Promise<PendingCommit>, identities: string[], requeue: () => void): Promise<void> {
    const session = this.host.session
    let pending: PendingCommit
    try {
      pending = await prepare()
    } catch (err) {
      this.host.failed(identities, err as Error)
      // A refusal by the policy is an answer the joiners are owed at once.
      if (isFabricError(err, 'NOT_ADMITTED')) for (const id of identities) this.deny(id, err.message)
      return
    }
    try {
      await this.host.submit(pending)
    } catch (err) {
      if (this.stopped && isFabricError(err) && (err.code === 'CONNECTION_LOST' || err.code === 'INVALID_STATE')) {
        // The group stream broke under the Commit: the node may have accepted
        // it. It stays pending until the member resumes: the node's replay
        // applies it if it was accepted, or shows another Commit took its
        // epoch (AvSession.processCommit); the member discards it otherwise.
        this.host.inDoubt?.(pending)
        this.host.failed(identities, err)
        return
      }
      try { session.discardPending(pending) } catch {}
      if (isFabricError(err, 'STALE_EPOCH') && ++this.staleInARow <= MAX_STALE_RETRIES) {
        // Another Commit won this epoch; it reaches us as a CommitDelivery,
        // after which the same requests are committed again.
        requeue()
        this.schedule()
        return
      }
      this.host.failed(identities, err instanceof Error ? err : new FabricError('INTERNAL', String(err)))
      return
    }
    await session.applyPending(pending, this.host.now())
    this.staleInARow = 0
    this.commits++
    this.added += pending.addedIdentities.length
    await this.host.applied(pending)
  }
}
