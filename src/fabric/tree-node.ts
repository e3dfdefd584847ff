/**
 * One node of a planned relay tree, as the planner's modules share it. Not
 * exported from the package: callers see `PlannedRelay` snapshots.
 */
import type { RelayLoad } from './types.js'

/**
 * Where a node stands: `attached` (reaches the root through its parents),
 * `floating` (inside a subtree cut loose during one `handle` call, until it
 * is placed again), `unplaced` (no parent and no children; waits for room).
 */
export type NodeState = 'attached' | 'floating' | 'unplaced'

/** Mutable planner state of one relay (or of the root). */
export interface TreeNode {
  readonly id: string
  readonly declaredCapacity: number
  /** Declared capacity clamped to the ceiling. */
  readonly capacity: number
  parent: TreeNode | undefined
  readonly children: Set<TreeNode>
  /** Hops from the root; stale while floating, meaningless while unplaced. */
  depth: number
  state: NodeState
  standby: TreeNode | undefined
  /** Nodes whose standby is this one (kept so a removal finds them at once). */
  readonly standbyFor: Set<TreeNode>
  suspected: boolean
  /** Set through RelayTree.setLoad, which keeps the free-slot heaps in order. */
  load: RelayLoad
  /** The depth bucket of the open-slot index holding this node, if any. */
  openAt: number | undefined
  /** Its positions in the free-slot heaps of its depth (parent ranking, standby ranking); -1 in none (placement.ts SlotHeap). */
  readonly slotIndex: [number, number]
  /** The promotion bucket of the tree's index holding this node (capacity below the ceiling, above the depth bound), if any. */
  rankedIn: Set<TreeNode> | undefined
  /** Set once it left the tree, so late references to it are seen as dead. */
  removed: boolean
}

/** A fresh unplaced node with zero load. */
export function newNode (id: string, declaredCapacity: number, capacity: number): TreeNode {
  return {
    id, declaredCapacity, capacity, parent: undefined, children: new Set(), depth: 0, state: 'unplaced',
    standby: undefined, standbyFor: new Set(), suspected: false,
    load: { framesForwarded: 0, bytesForwarded: 0, childrenServed: 0 }, openAt: undefined, slotIndex: [-1, -1], rankedIn: undefined, removed: false,
  }
}

/** Every node of `top`'s subtree, `top` first (iterative: a chain can be deep when maxDepth is raised). */
export function * subtree (top: TreeNode): Generator<TreeNode> {
  const stack = [top]
  while (stack.length > 0) {
    const n = stack.pop()!
    yield n
    for (const c of n.children) stack.push(c)
  }
}

/** Levels below `top`: 0 for a leaf. */
export function height (top: TreeNode): number {
  let h = 0
  const stack: Array<[TreeNode, number]> = [[top, 0]]
  while (stack.length > 0) {
    const [n, d] = stack.pop()!
    if (d > h) h = d
    for (const c of n.children) stack.push([c, d + 1])
  }
  return h
}

/** True when `n` is `top` or below it (walks up from `n`). */
export function inSubtree (n: TreeNode, top: TreeNode): boolean {
  for (let at: TreeNode | undefined = n; at !== undefined; at = at.parent) if (at === top) return true
  return false
}

/** Orders ids as the planner breaks ties: UTF-16 code units, ascending. */
export function byId (a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
