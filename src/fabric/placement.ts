/**
 * Where a subtree should hang (protocol/federation-planner.md section 4):
 * the shallowest node with a free slot that keeps the whole subtree within
 * the depth bound, then the least loaded there (children over capacity,
 * compared exactly), then the fewest measured bytes forwarded, then the
 * smallest id. Standby choices put "stands by for the fewest" before bytes,
 * so the orphans of one failure do not all queue for the same free slot.
 * Promotions (a larger relay taking a smaller one's place) are chosen here
 * too; the tree performs them.
 */
import type { RelayTree } from './relay-tree.js'
import type { Purpose } from './slot-heap.js'
import type { TreeNode } from './tree-node.js'

export type { Purpose }

/**
 * The best parent for a subtree `height` levels deep below its top, or
 * undefined when no node qualifies.
 * @param excluded nodes that may not be chosen (the subtree itself, the
 *   current parent); checked only at the depth being searched
 */
export function bestParent (tree: RelayTree, height: number, purpose: Purpose, excluded?: (n: TreeNode) => boolean): TreeNode | undefined {
  // A parent at depth d puts the subtree's deepest node at d + 1 + height.
  const deepest = tree.maxDepth - 1 - height
  for (let d = 0; d <= deepest; d++) {
    const best = tree.slotsAt(d, purpose).best(excluded)
    if (best !== undefined) return best
  }
  return undefined
}

/**
 * The relay an unplaced relay of capacity `capacity` should take the place
 * of (a promotion, protocol/federation-planner.md section 4): an attached
 * relay of smaller capacity, at depth `deepest` or shallower (and above the
 * depth bound, so it still fits one level down), whose parent is not
 * suspected. The shallowest first, then the smallest capacity (the most room
 * gained), then the smallest id; undefined when none qualifies.
 */
export function promotionFor (tree: RelayTree, capacity: number, deepest: number): TreeNode | undefined {
  const last = Math.min(deepest, tree.maxDepth - 1)
  for (let d = 1; d <= last; d++) {
    for (let c = 0; c < capacity; c++) {
      let best: TreeNode | undefined
      for (const v of tree.rankedAt(d, c)) {
        if (v.parent?.suspected === true) continue
        if (best === undefined || v.id < best.id) best = v
      }
      if (best !== undefined) return best
    }
  }
  return undefined
}
