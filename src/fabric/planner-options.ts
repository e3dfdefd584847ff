/**
 * The planner's defaults and the checks on operator settings
 * (protocol/federation-planner.md section 2).
 */
import { FabricError } from '../errors.js'
import type { PlannerOptions } from './types.js'

/** Ceiling on children per parent, LVQR's mesh default. */
export const DEFAULT_MAX_CHILDREN = 3
/** Deepest relay depth, LVQR's mesh default. */
export const DEFAULT_MAX_DEPTH = 6
/**
 * Silence that fails a relay, in ms. A third of LVQR's 10 s: a frozen relay
 * must be routed around within 3 s (federation healing target); a killed one
 * is failed earlier, by its connection closing.
 */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3000

/** PlannerOptions with every default filled in and every value checked. */
export interface ResolvedOptions {
  root: string
  maxChildren: number
  maxDepth: number
  heartbeatTimeoutMs: number
  rootCapacity: number
}

/**
 * Fills defaults and checks the settings.
 * @throws FabricError MALFORMED when the root id is empty, maxChildren or
 *   maxDepth is not a positive integer, rootCapacity is not a non-negative
 *   integer, or heartbeatTimeoutMs is not a positive finite number
 */
export function resolveOptions (options: PlannerOptions): ResolvedOptions {
  checkId(options.root, 'root')
  const maxChildren = options.maxChildren ?? DEFAULT_MAX_CHILDREN
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS
  const rootCapacity = options.rootCapacity ?? maxChildren
  if (!Number.isSafeInteger(maxChildren) || maxChildren < 1) throw new FabricError('MALFORMED', `maxChildren must be a positive integer, got ${maxChildren}`)
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) throw new FabricError('MALFORMED', `maxDepth must be a positive integer, got ${maxDepth}`)
  if (!Number.isFinite(heartbeatTimeoutMs) || heartbeatTimeoutMs <= 0) throw new FabricError('MALFORMED', `heartbeatTimeoutMs must be positive, got ${heartbeatTimeoutMs}`)
  checkCount(rootCapacity, 'rootCapacity')
  return { root: options.root, maxChildren, maxDepth, heartbeatTimeoutMs, rootCapacity: Math.min(rootCapacity, maxChildren) }
}

/**
 * @throws FabricError MALFORMED unless `id` is a non-empty string
 */
export function checkId (id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || id === '') throw new FabricError('MALFORMED', `${what} must be a non-empty string`)
}

/**
 * @throws FabricError MALFORMED unless `n` is a non-negative safe integer
 */
export function checkCount (n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new FabricError('MALFORMED', `${what} must be a non-negative integer, got ${String(n)}`)
}
