/**
 * The relay-tree planner's inputs and outputs (protocol/federation-planner.md).
 * One planner plans the tree of one fabric stream, rooted at the stream's
 * home node. Relay ids are opaque non-empty strings (the shell uses libp2p
 * peer ids); every tie the planner breaks, it breaks by id in UTF-16 code
 * unit order, so equal inputs always give equal outputs.
 */

/**
 * Load figures a relay reports in a heartbeat. Counters are cumulative since
 * the relay joined the stream's tree (like Prometheus counters), so two
 * reports give a rate; every figure is a non-negative safe integer.
 */
export interface RelayLoad {
  /** Media frames (chunks) forwarded to children, summed over children. */
  framesForwarded: number
  /** Bytes of those frames, as sent (after the link seal). */
  bytesForwarded: number
  /** Children the relay is feeding right now (subscriptions open downstream). */
  childrenServed: number
}

/** A relay asks to be in the tree; `capacity` is how many children it can feed. */
export interface JoinInput {
  type: 'join'
  relay: string
  /** Children it offers to feed: a non-negative integer, clamped to the operator ceiling. */
  capacity: number
}

/** A relay leaves on purpose (it no longer serves members of the stream). */
export interface LeaveInput {
  type: 'leave'
  relay: string
}

/** A relay's load report; also proves it is alive and clears a suspicion. */
export interface HeartbeatInput {
  type: 'heartbeat'
  relay: string
  load: RelayLoad
}

/**
 * A relay may be dead (a child saw its media stall): it gets no new child
 * and is nobody's standby until its next heartbeat; it keeps its children
 * until it fails, so nothing breaks before a replacement is known.
 */
export interface SuspectInput {
  type: 'suspect'
  relay: string
}

/** A relay is dead (its connection closed, or the shell decided so): removed now. */
export interface FailInput {
  type: 'fail'
  relay: string
}

/** Time passed; the shell sends one at (or after) the last output's deadline. */
export interface TickInput {
  type: 'tick'
}

/** Everything the planner is told, one at a time. */
export type PlannerInput = JoinInput | LeaveInput | HeartbeatInput | SuspectInput | FailInput | TickInput

/**
 * Where one relay is now. `parent` is the root or another relay; `standby`
 * is the parent it should move to if its parent dies (never its parent,
 * never in its own subtree; undefined when no relay qualifies); `depth` is
 * hops from the root (the root's children have depth 1).
 */
export interface Assignment {
  relay: string
  parent: string
  standby: string | undefined
  depth: number
}

/** What one `handle` call decided; only what changed. */
export interface PlannerOutput {
  /** Relays whose parent, standby or depth changed, or that were placed; by id. */
  assignments: Assignment[]
  /** Relays that joined or lost their place and have none: no parent has a free slot within the depth bound. By id. */
  unplaced: string[]
  /** Relays gone from the tree in this call (left, failed, timed out), in the order they went. */
  removed: string[]
  /** When the next heartbeat timeout can fire (ms, the `nowMs` clock); undefined with no relays. */
  deadline: number | undefined
}

/** Operator settings; every field has a default (planner-options.ts). */
export interface PlannerOptions {
  /** The root's id: the stream's home node. */
  root: string
  /** Ceiling on children per parent, whatever a relay declares. Default 3. */
  maxChildren?: number
  /** Deepest depth a relay may have (root's children are depth 1). Default 6. */
  maxDepth?: number
  /** A relay silent this long (ms) is failed. Default 3000. */
  heartbeatTimeoutMs?: number
  /** Children the root itself can feed, clamped to maxChildren. Default maxChildren. */
  rootCapacity?: number
}

/** Remote input the planner ignored because it named a relay it does not know. */
export interface IgnoredCounts {
  heartbeat: number
  leave: number
  fail: number
  suspect: number
}

/** One node of the tree as the planner holds it (for reports and tests). */
export interface PlannedRelay {
  id: string
  /** Undefined for the root and for unplaced relays. */
  parent: string | undefined
  standby: string | undefined
  /** Undefined for unplaced relays; 0 for the root. */
  depth: number | undefined
  /** What the relay declared. */
  declaredCapacity: number
  /** Declared capacity clamped to maxChildren: the bound on its children. */
  capacity: number
  /** Intended children, by id. */
  children: string[]
  suspected: boolean
  /** Time of its join or last heartbeat (ms); undefined for the root. */
  lastHeartbeatMs: number | undefined
  /** Last reported load; zeros before the first heartbeat. */
  load: RelayLoad
}

/** The whole plan at one moment: `planner.snapshot()`. */
export interface PlanSnapshot {
  root: PlannedRelay
  /** Every relay (placed or not), by id; the root excluded. */
  relays: PlannedRelay[]
  /** Relays with no place, by id. */
  unplaced: string[]
  maxChildren: number
  maxDepth: number
  heartbeatTimeoutMs: number
  ignored: IgnoredCounts
  /** Relays failed by heartbeat timeout since the planner started. */
  timeouts: number
  /** Promotions (a joining or waiting relay taking a smaller relay's place) since the planner started. */
  promotions: number
  /** The latest `nowMs` the planner has seen. */
  nowMs: number
}
