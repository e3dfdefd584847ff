/**
 * The home's planner shell (protocol/fabric.md section 6): one TreePlanner
 * per stream at home here, rooted at this node. Tree links opening, their
 * heartbeats and their ends go in; each relay's assignment comes out (sent
 * on its tree link by RosterSource); the planner's deadline arms one timer
 * per stream. A relay the planner timed out that is heard from again joins
 * anew. A relay the planner cannot place (no parent within the bounds) is
 * fed by the home itself until a place frees: every node of the stream's
 * tree gets the media, and the mesh report lists it as unplaced.
 */
import { TreePlanner, meshReport, type Assignment, type MeshReport, type PlannerInput, type PlannerOutput, type RelayLoad } from '../../fabric/index.js'
import type { StreamKey } from '../../wire/stream-tag.js'
import { short, type Logger } from '../log.js'

/** Children per relay at most, whatever a relay declares (the planner's ceiling). */
export const DEFAULT_TREE_MAX_CHILDREN = 3
/** A relay whose heartbeats stop this long is failed and its children moved, ms. */
export const DEFAULT_TREE_HEARTBEAT_TIMEOUT_MS = 1_500

/** Operator settings of the relay trees planned here. */
export interface TreeSettings {
  /** Ceiling on children per node (the home included); default DEFAULT_TREE_MAX_CHILDREN. */
  maxChildren?: number
  /** Deepest depth; default the planner's (6). */
  maxDepth?: number
  /** Default DEFAULT_TREE_HEARTBEAT_TIMEOUT_MS. */
  heartbeatTimeoutMs?: number
}

/** The relay trees planned here, summed over their streams (stats and metrics). */
export interface TreeTotals {
  /** Streams with a tree rooted here. */
  streams: number
  /** Relays in those trees, placed or not. */
  relays: number
  unplaced: number
  /** Children the planner gave parents (the home included), summed. */
  intendedChildren: number
  /** Children the parents report feeding (their heartbeats; the home counts its own), summed. */
  actualChildren: number
  /** Relays failed for silent heartbeats, since start. */
  timeouts: number
  /** Deepest tree. */
  depth: number
}

/** Options of StreamPlans. */
export interface StreamPlansOptions extends TreeSettings {
  /** This node's peer id: the root of every tree planned here. */
  selfId: string
  /** Sends `relay` its place in `stream`'s tree. */
  assign: (stream: StreamKey, relay: string, assignment: Assignment) => void
  /** The planner dropped `relay` (timed out): its links here may go. */
  removed: (stream: StreamKey, relay: string) => void
  /** What the home itself feeds its child relays of `stream` (its line of the mesh report). */
  rootLoad?: (stream: StreamKey) => RelayLoad
  /** Monotonic ms; default performance.now. */
  now?: () => number
  log: Logger
}

interface Plan {
  readonly planner: TreePlanner
  /** Relays the planner holds (joined, not yet removed). */
  readonly relays: Set<string>
  /** The last assignment sent to each relay, by id. */
  readonly sent: Map<string, string>
  timer: ReturnType<typeof setTimeout> | undefined
}

export class StreamPlans {
  private readonly opts: StreamPlansOptions
  private readonly plans = new Map<StreamKey, Plan>()
  private readonly now: () => number

  constructor (opts: StreamPlansOptions) {
    this.opts = opts
    this.now = opts.now ?? (() => performance.now())
  }

  /** `relay` opened its tree link for `stream`, offering `capacity` children. */
  join (stream: StreamKey, relay: string, capacity: number): void {
    const plan = this.planOf(stream)
    if (plan.relays.has(relay)) this.run(stream, plan, { type: 'leave', relay })
    this.run(stream, plan, { type: 'join', relay, capacity })
  }

  /** A heartbeat of `relay`; one the planner timed out joins again with `capacity`. */
  heartbeat (stream: StreamKey, relay: string, load: RelayLoad, capacity: number): void {
    const plan = this.plans.get(stream)
    if (plan === undefined) return
    if (!plan.relays.has(relay)) {
      this.run(stream, plan, { type: 'join', relay, capacity })
      return
    }
    this.run(stream, plan, { type: 'heartbeat', relay, load })
  }

  /** `relay`'s tree link ended: it failed or left. */
  fail (stream: StreamKey, relay: string): void {
    const plan = this.plans.get(stream)
    if (plan === undefined || !plan.relays.has(relay)) return
    this.run(stream, plan, { type: 'fail', relay })
  }

  /** The stream ended: its plan goes. */
  drop (stream: StreamKey): void {
    const plan = this.plans.get(stream)
    if (plan === undefined) return
    if (plan.timer !== undefined) clearTimeout(plan.timer)
    this.plans.delete(stream)
  }

  /** Every plan goes (the node stops). */
  stop (): void {
    for (const stream of [...this.plans.keys()]) this.drop(stream)
  }

  /** The mesh report of every stream planned here, by stream key. */
  reports (): Record<StreamKey, MeshReport> {
    const out: Record<StreamKey, MeshReport> = {}
    for (const [stream, plan] of this.plans) {
      const load = this.opts.rootLoad?.(stream)
      // The home reports to its own planner as a relay does: actual against intended includes its line.
      // Through run: a heartbeat may also time relays out, whose orphans' new places must go out.
      if (load !== undefined) this.run(stream, plan, { type: 'heartbeat', relay: this.opts.selfId, load })
      out[stream] = meshReport(plan.planner.snapshot(), this.now())
    }
    return out
  }

  /** Sums over every tree planned here. */
  totals (): TreeTotals {
    const t: TreeTotals = { streams: 0, relays: 0, unplaced: 0, intendedChildren: 0, actualChildren: 0, timeouts: 0, depth: 0 }
    for (const report of Object.values(this.reports())) {
      t.streams++
      t.relays += report.relays
      t.unplaced += report.unplaced.length
      t.timeouts += report.timeouts
      t.depth = Math.max(t.depth, report.depth)
      for (const n of report.nodes) {
        t.intendedChildren += n.intendedChildren
        t.actualChildren += n.actualChildren
      }
    }
    return t
  }

  private planOf (stream: StreamKey): Plan {
    let plan = this.plans.get(stream)
    if (plan === undefined) {
      const planner = new TreePlanner({
        root: this.opts.selfId,
        maxChildren: this.opts.maxChildren ?? DEFAULT_TREE_MAX_CHILDREN,
        maxDepth: this.opts.maxDepth,
        heartbeatTimeoutMs: this.opts.heartbeatTimeoutMs ?? DEFAULT_TREE_HEARTBEAT_TIMEOUT_MS,
      })
      plan = { planner, relays: new Set(), sent: new Map(), timer: undefined }
      this.plans.set(stream, plan)
    }
    return plan
  }

  private run (stream: StreamKey, plan: Plan, input: PlannerInput): void {
    let out: PlannerOutput
    try {
      out = plan.planner.handle(input, this.now())
    } catch (err) {
      this.opts.log.warn({ event: 'tree.input_refused', stream, input: input.type, err: (err as Error).message }, 'the planner refused an input')
      return
    }
    if (input.type === 'join') plan.relays.add(input.relay)
    for (const relay of out.removed) {
      plan.relays.delete(relay)
      plan.sent.delete(relay)
      // A relay that failed or left by this input is already known gone; one timed out is news.
      if ((input.type !== 'fail' && input.type !== 'leave') || relay !== input.relay) this.opts.removed(stream, relay)
    }
    for (const a of out.assignments) this.send(stream, plan, a)
    for (const relay of out.unplaced) {
      this.opts.log.warn({ event: 'tree.unplaced', stream, relay: short(relay) }, 'no place in the tree within its bounds; the home feeds it')
      this.send(stream, plan, { relay, parent: this.opts.selfId, standby: undefined, depth: 1 })
    }
    if (plan.timer !== undefined) clearTimeout(plan.timer)
    plan.timer = undefined
    if (out.deadline !== undefined) {
      plan.timer = setTimeout(() => {
        plan.timer = undefined
        if (this.plans.get(stream) === plan) this.run(stream, plan, { type: 'tick' })
      }, Math.max(0, out.deadline - this.now()))
      plan.timer.unref()
    }
  }

  private send (stream: StreamKey, plan: Plan, a: Assignment): void {
    const line = `${a.parent}\n${a.standby ?? ''}\n${a.depth}`
    if (plan.sent.get(a.relay) === line) return
    plan.sent.set(a.relay, line)
    this.opts.assign(stream, a.relay, a)
  }
}
