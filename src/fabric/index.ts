/**
 * The fabric's relay-tree planner (sans-IO core): protocol/federation-planner.md.
 */
export { PROMOTIONS_PER_CALL, TreePlanner } from './planner.js'
export { meshReport, type MeshNodeReport, type MeshReport } from './mesh-report.js'
export { DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_MAX_CHILDREN, DEFAULT_MAX_DEPTH, resolveOptions, type ResolvedOptions } from './planner-options.js'
export type {
  Assignment, FailInput, HeartbeatInput, IgnoredCounts, JoinInput, LeaveInput, PlannedRelay, PlannerInput, PlannerOptions,
  PlannerOutput, PlanSnapshot, RelayLoad, SuspectInput, TickInput,
} from './types.js'
