/**
 * Standby parents (protocol/federation-planner.md section 6): each placed
 * relay is told a second parent to move to if its own dies, so it can open
 * that subscription before it needs it (make-before-break). A standby is
 * chosen as a placement of the relay's whole subtree that avoids its parent
 * and its own subtree (ranked to spread relays over standbys, placement.ts),
 * and is kept while it stays valid, so standbys do not churn with every join.
 */
import { bestParent } from './placement.js'
import type { RelayTree } from './relay-tree.js'
import { inSubtree, subtree, type TreeNode } from './tree-node.js'

/**
 * True while `n`'s standby can take a child (attached, unsuspected, a free
 * slot, above the depth bound: in the open-slot index) and is outside the
 * subtree of `n`'s parent: not the parent, not in `n`'s own subtree, and
 * not a sibling or below one, since those lose their way to the root in the
 * same failure (two siblings standing by on each other would move under
 * each other when their parent dies, a cycle with no source). A standby
 * that fills up is replaced, so the standby a relay was told is one it can
 * move to as long as nothing else changed; whether its whole subtree still
 * fits is checked when it is used.
 */
export function standbyValid (n: TreeNode): boolean {
  const s = n.standby
  return s !== undefined && s.openAt !== undefined && !orphanedWith(s, n)
}

/** True when `c` is cut off from the root whenever `n`'s parent fails: in that parent's subtree (the parent itself included). */
function orphanedWith (c: TreeNode, n: TreeNode): boolean {
  return n.parent === undefined || inSubtree(c, n.parent)
}

/**
 * Chooses a new standby for every node the tree marked whose standby is
 * invalid; a node for which none qualifies is handed back to the tree to
 * be marked again when that may have changed.
 */
export function refreshStandbys (tree: RelayTree): void {
  for (const n of tree.takeStandbyDirty()) {
    if (n === tree.root) continue
    if (n.state !== 'attached') {
      tree.setStandby(n, undefined)
      continue
    }
    if (standbyValid(n)) continue
    // The subtree's height: a standby must have room for all of it.
    let h = 0
    for (const m of subtree(n)) if (m.depth - n.depth > h) h = m.depth - n.depth
    tree.setStandby(n, bestParent(tree, h, 'standby', (c) => orphanedWith(c, n)))
    if (n.standby === undefined) tree.noStandbyFor(n, tree.maxDepth - 1 - h)
  }
}
