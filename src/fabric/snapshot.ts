/**
 * The planner's state as plain data (PlanSnapshot): what reports and tests
 * read, with no reference into the live tree.
 */
import type { HeartbeatTimes } from './heartbeat-times.js'
import type { ResolvedOptions } from './planner-options.js'
import type { RelayTree } from './relay-tree.js'
import { byId, type TreeNode } from './tree-node.js'
import type { IgnoredCounts, PlannedRelay, PlanSnapshot } from './types.js'

function planned (n: TreeNode, lastHeartbeatMs: number | undefined): PlannedRelay {
  const placed = n.state === 'attached'
  return {
    id: n.id,
    parent: n.parent?.id,
    standby: n.standby?.id,
    depth: placed ? n.depth : undefined,
    declaredCapacity: n.declaredCapacity,
    capacity: n.capacity,
    children: [...n.children].map((c) => c.id).sort(),
    suspected: n.suspected,
    lastHeartbeatMs,
    load: { ...n.load },
  }
}

/** Copies the tree out, relays and unplaced lists by id. */
export function snapshotOf (
  tree: RelayTree,
  times: HeartbeatTimes,
  options: Readonly<ResolvedOptions>,
  counts: { ignored: IgnoredCounts, timeouts: number, promotions: number, nowMs: number },
): PlanSnapshot {
  const relays = [...tree.relays()].sort(byId).map((n) => planned(n, times.lastSeenMs(n.id)))
  return {
    root: planned(tree.root, undefined),
    relays,
    unplaced: [...tree.waiting].map((n) => n.id).sort(),
    maxChildren: options.maxChildren,
    maxDepth: options.maxDepth,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs,
    ignored: counts.ignored,
    timeouts: counts.timeouts,
    promotions: counts.promotions,
    nowMs: counts.nowMs,
  }
}
