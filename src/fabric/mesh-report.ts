/**
 * The mesh report: what `GET /api/v1/mesh` will return for one stream's
 * tree. Pure: a PlanSnapshot in, a JSON-able object out (null, never
 * undefined, so every field survives JSON.stringify).
 *
 * Intended against actual, kept simple: a relay's intended fan-out is the
 * number of children the planner gave it; its actual fan-out is the
 * `childrenServed` of its last heartbeat (children it really feeds).
 * `fedRatio` = actual / intended; the tree-wide figure sums both over every
 * node with intended children. Frame and byte counters are passed through
 * as the relay reported them (cumulative since it joined): a rate needs two
 * reports, which is the caller's to take.
 */
import type { IgnoredCounts, PlanSnapshot, PlannedRelay } from './types.js'

/** One node's line of the report. */
export interface MeshNodeReport {
  id: string
  role: 'root' | 'relay'
  parent: string | null
  standby: string | null
  /** Hops from the root; null while unplaced. */
  depth: number | null
  declaredCapacity: number
  capacity: number
  intendedChildren: number
  actualChildren: number
  /** actualChildren / intendedChildren; null with no intended child. */
  fedRatio: number | null
  framesForwarded: number
  bytesForwarded: number
  /** ms since its join or last heartbeat; null for the root. */
  lastHeartbeatAgeMs: number | null
  suspected: boolean
}

/** The whole report. */
export interface MeshReport {
  root: string
  nowMs: number
  maxChildren: number
  maxDepth: number
  heartbeatTimeoutMs: number
  relays: number
  unplaced: string[]
  /** Deepest placed relay's depth (0 with no placed relay). */
  depth: number
  /** Most intended children of any node. */
  largestFanOut: number
  /** Sum of actual over sum of intended children; null with no intended child. */
  fedRatio: number | null
  timeouts: number
  ignored: IgnoredCounts
  /** The root, then relays by id. */
  nodes: MeshNodeReport[]
}

function line (r: PlannedRelay, role: 'root' | 'relay', nowMs: number): MeshNodeReport {
  const intended = r.children.length
  return {
    id: r.id,
    role,
    parent: r.parent ?? null,
    standby: r.standby ?? null,
    depth: r.depth ?? null,
    declaredCapacity: r.declaredCapacity,
    capacity: r.capacity,
    intendedChildren: intended,
    actualChildren: r.load.childrenServed,
    fedRatio: intended === 0 ? null : r.load.childrenServed / intended,
    framesForwarded: r.load.framesForwarded,
    bytesForwarded: r.load.bytesForwarded,
    lastHeartbeatAgeMs: r.lastHeartbeatMs === undefined ? null : Math.max(0, nowMs - r.lastHeartbeatMs),
    suspected: r.suspected,
  }
}

/**
 * Builds the report of `plan` as seen at `nowMs` (default: the latest time
 * the planner saw).
 */
export function meshReport (plan: PlanSnapshot, nowMs: number = plan.nowMs): MeshReport {
  const nodes = [line(plan.root, 'root', nowMs), ...plan.relays.map((r) => line(r, 'relay', nowMs))]
  let depth = 0
  let largestFanOut = 0
  let intended = 0
  let actual = 0
  for (const n of nodes) {
    if (n.depth !== null && n.depth > depth) depth = n.depth
    if (n.intendedChildren > largestFanOut) largestFanOut = n.intendedChildren
    if (n.intendedChildren > 0) {
      intended += n.intendedChildren
      actual += n.actualChildren
    }
  }
  return {
    root: plan.root.id,
    nowMs,
    maxChildren: plan.maxChildren,
    maxDepth: plan.maxDepth,
    heartbeatTimeoutMs: plan.heartbeatTimeoutMs,
    relays: plan.relays.length,
    unplaced: [...plan.unplaced],
    depth,
    largestFanOut,
    fedRatio: intended === 0 ? null : actual / intended,
    timeouts: plan.timeouts,
    ignored: { ...plan.ignored },
    nodes,
  }
}
