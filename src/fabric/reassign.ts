/**
 * Orphan reassignment (protocol/federation-planner.md section 5): the
 * children of a relay that left or failed move with their subtrees, each to
 * its standby if that still has a free slot within the depth bound, else to
 * the best placement. A subtree too deep to fit anywhere is split: its top
 * is placed as a leaf (or left unplaced) and its children are placed in turn
 * the same way, so every relay ends attached or unplaced, none floating.
 */
import { bestParent } from './placement.js'
import type { RelayTree } from './relay-tree.js'
import { byId, height, type TreeNode } from './tree-node.js'

/** True when `s` can take a subtree `h` levels deep right now. */
function fits (tree: RelayTree, s: TreeNode, h: number): boolean {
  return !s.removed && s.state === 'attached' && !s.suspected && s.children.size < s.capacity && s.depth + 1 + h <= tree.maxDepth
}

/**
 * Places every floating orphan (each the top of a cut-loose subtree).
 * Deepest subtrees go first, since they fit in the fewest places; ties by id.
 */
export function reassignOrphans (tree: RelayTree, orphans: readonly TreeNode[]): void {
  const queue = orphans.filter((n) => !n.removed).map((n) => ({ n, h: height(n) }))
  while (queue.length > 0) {
    queue.sort((a, b) => b.h - a.h || byId(a.n, b.n))
    const { n, h } = queue.shift()!
    const standby = n.standby
    if (standby !== undefined && fits(tree, standby, h)) {
      tree.attach(n, standby)
      continue
    }
    const best = bestParent(tree, h, 'parent')
    if (best !== undefined) {
      tree.attach(n, best)
      continue
    }
    for (const c of [...n.children].sort(byId)) {
      tree.detach(c)
      queue.push({ n: c, h: height(c) })
    }
    const leafParent = bestParent(tree, 0, 'parent')
    if (leafParent !== undefined) tree.attach(n, leafParent)
    else tree.unplace(n)
  }
}
