/**
 * TreePlanner: the sans-IO relay-tree planner of one fabric stream
 * (docs/architecture.md section 1 for the core/shell split; the rules are
 * protocol/federation-planner.md). The stream's home node runs it: the
 * shell turns joins, leaves, heartbeats, suspicions, connection closes and
 * timer firings into `handle` calls and sends each relay the assignments
 * that name it. It reads no clock, sets no timer and does no I/O: time is
 * the `nowMs` of each call, and the shell calls again (a `tick`) at the
 * returned deadline. Equal input sequences give equal outputs.
 *
 * Each call, in order: apply the input; fail every relay silent for the
 * heartbeat timeout; place waiting relays if room appeared; fix standbys
 * that went bad; report what changed.
 */
import { FabricError } from '../errors.js'
import { checkInput } from './check-input.js'
import { HeartbeatTimes } from './heartbeat-times.js'
import { resolveOptions, type ResolvedOptions } from './planner-options.js'
import { bestParent, promotionFor } from './placement.js'
import { reassignOrphans } from './reassign.js'
import { RelayTree } from './relay-tree.js'
import { snapshotOf } from './snapshot.js'
import { refreshStandbys } from './standby.js'
import { byId, type TreeNode } from './tree-node.js'
import type { IgnoredCounts, PlannerInput, PlannerOptions, PlannerOutput, PlanSnapshot, RelayLoad } from './types.js'

/**
 * Promotions (a waiting relay taking a smaller relay's place) per call: each
 * moves at most maxChildren placed relays, so this bounds the moves of one
 * input besides orphans. One per call suffices in the simulation
 * (bench/planner-sim.ts) to place as many relays as the capacities allow.
 */
export const PROMOTIONS_PER_CALL = 1

/** Plans and heals the relay tree of one stream. */
export class TreePlanner {
  readonly options: Readonly<ResolvedOptions>
  private readonly tree: RelayTree
  private readonly times: HeartbeatTimes
  private readonly ignoredCounts: IgnoredCounts = { heartbeat: 0, leave: 0, fail: 0, suspect: 0 }
  private timeoutCount = 0
  private promotionCount = 0
  private now: number | undefined

  /**
   * @throws FabricError MALFORMED on a bad setting (see resolveOptions)
   */
  constructor (options: PlannerOptions) {
    this.options = resolveOptions(options)
    this.tree = new RelayTree(this.options.root, this.options.rootCapacity, this.options.maxDepth, this.options.maxChildren)
    this.times = new HeartbeatTimes(this.options.heartbeatTimeoutMs)
  }

  /**
   * Applies one input at `nowMs` (ms on the shell's monotonic clock; an
   * earlier value than a previous call's counts as that previous value).
   * Inputs naming an unknown relay (heartbeat, leave, fail, suspect) are
   * remote and may race a removal: they are ignored and counted.
   * @returns what changed; `deadline` is when to send the next `tick`
   * @throws FabricError MALFORMED on a bad input shape (checkInput);
   *   INVALID_STATE when a join names a relay already in the tree or the
   *   root, or a leave, fail or suspect names the root
   */
  handle (input: PlannerInput, nowMs: number): PlannerOutput {
    checkInput(input, nowMs)
    if (input.type !== 'tick' && input.type !== 'heartbeat' && input.relay === this.tree.root.id) {
      throw new FabricError('INVALID_STATE', `the root ${input.relay} cannot ${input.type}: it runs the planner`)
    }
    const now = this.now = Math.max(nowMs, this.now ?? nowMs)
    const removed: string[] = []
    switch (input.type) {
      case 'join': this.join(input.relay, input.capacity, now); break
      case 'leave':
      case 'fail': {
        const n = this.tree.get(input.relay)
        if (n === undefined) this.ignoredCounts[input.type]++
        else this.drop([n], removed)
        break
      }
      case 'heartbeat': this.heartbeat(input.relay, input.load, now); break
      case 'suspect': {
        const n = this.tree.get(input.relay)
        if (n === undefined) this.ignoredCounts.suspect++
        else this.tree.setSuspected(n, true)
        break
      }
      case 'tick': break
    }
    const expired = this.times.expired(now).map((id) => this.tree.get(id)!)
    this.timeoutCount += expired.length
    if (expired.length > 0) this.drop(expired, removed)
    this.placeWaiting()
    refreshStandbys(this.tree)
    return { ...this.tree.journal.drain(), removed, deadline: this.times.deadline() }
  }

  /** The whole plan now, for reports and checks; O(relays). */
  snapshot (): PlanSnapshot {
    return snapshotOf(this.tree, this.times, this.options, { ignored: { ...this.ignoredCounts }, timeouts: this.timeoutCount, promotions: this.promotionCount, nowMs: this.now ?? 0 })
  }

  private join (id: string, capacity: number, now: number): void {
    if (this.tree.get(id) !== undefined) throw new FabricError('INVALID_STATE', `relay ${id} is already in the tree; it must leave first`)
    const n = this.tree.add(id, capacity, Math.min(capacity, this.options.maxChildren))
    this.times.seen(id, now)
    // Placed by placeWaiting, so a newcomer and relays already waiting compete by one rule.
    this.tree.unplace(n)
  }

  private heartbeat (id: string, load: RelayLoad, now: number): void {
    const copy = { framesForwarded: load.framesForwarded, bytesForwarded: load.bytesForwarded, childrenServed: load.childrenServed }
    if (id === this.tree.root.id) {
      this.tree.setLoad(this.tree.root, copy)
      return
    }
    const n = this.tree.get(id)
    if (n === undefined) {
      this.ignoredCounts.heartbeat++
      return
    }
    this.tree.setLoad(n, copy)
    this.times.seen(id, now)
    this.tree.setSuspected(n, false)
  }

  /** Removes `gone` (all at once, so none is chosen as a new parent) and reassigns their orphans. */
  private drop (gone: TreeNode[], removed: string[]): void {
    const orphans: TreeNode[] = []
    for (const n of [...gone].sort(byId)) {
      for (const c of [...n.children].sort(byId)) {
        this.tree.detach(c)
        orphans.push(c)
      }
      if (n.parent !== undefined) this.tree.detach(n)
      this.tree.remove(n)
      this.times.forget(n.id)
      removed.push(n.id)
    }
    reassignOrphans(this.tree, orphans)
  }

  /**
   * Places waiting relays, largest capacity first (each adds the most room),
   * then by id. Each may first take the place of a smaller relay strictly
   * shallower than the slot it would get (or anywhere, when there is no
   * slot): that moves the larger fan-out up, which makes room rather than
   * spending it. At most PROMOTIONS_PER_CALL such swaps per call, so one
   * input moves at most that many times maxChildren placed relays besides
   * the orphans of removed relays.
   */
  private placeWaiting (): void {
    let promotions = 0
    for (let c = this.options.maxChildren; c >= 0; c--) {
      const bucket = this.tree.waitingAt(c)
      if (bucket.size === 0) continue
      // Without a free slot only a promotion places anyone, and a relay can
      // only take a smaller one's place: checked once per capacity, so a
      // full tree with thousands waiting costs a few bucket looks, no sort.
      if (!this.tree.hasRoom() && (promotions >= PROMOTIONS_PER_CALL || promotionFor(this.tree, c, this.tree.maxDepth) === undefined)) return
      for (const n of [...bucket].sort(byId)) {
        const room = this.tree.shallowestRoom()
        const v = promotions < PROMOTIONS_PER_CALL && !n.suspected ? promotionFor(this.tree, c, room ?? this.tree.maxDepth) : undefined
        if (v !== undefined) {
          this.tree.takePlace(n, v)
          promotions++
          this.promotionCount++
        } else if (room !== undefined) {
          this.tree.attach(n, bestParent(this.tree, 0, 'parent')!)
        } else if (!n.suspected) {
          // No slot, and no smaller relay to displace for this capacity or any below it.
          return
        }
      }
    }
  }
}
