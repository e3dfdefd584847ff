/**
 * What one `handle` call changed: the tree notes each node before its first
 * change in the call, and the journal compares at the end, so a node moved
 * twice (cut loose, then placed back) is reported once, and one put back
 * where it was is not reported at all.
 */
import type { TreeNode } from './tree-node.js'
import { byId } from './tree-node.js'
import type { Assignment } from './types.js'

interface Before {
  parent: TreeNode | undefined
  standby: TreeNode | undefined
  depth: number
  placed: boolean
}

/** Per-call record of nodes' states before their first change. */
export class ChangeJournal {
  private readonly before = new Map<TreeNode, Before | undefined>()

  /** Call before changing `n`'s parent, depth, state or standby. */
  note (n: TreeNode): void {
    if (this.before.has(n)) return
    this.before.set(n, { parent: n.parent, standby: n.standby, depth: n.depth, placed: n.state === 'attached' })
  }

  /** Records a node created in this call: whatever it ends as is news. */
  noteNew (n: TreeNode): void {
    this.before.set(n, undefined)
  }

  /** Nodes noted so far in this call (moved, re-stood-by, created). */
  noted (): IterableIterator<TreeNode> {
    return this.before.keys()
  }

  /**
   * Ends the call: the changed placements and the nodes newly without a
   * place, each by id; removed nodes are left out (the caller lists them).
   */
  drain (): { assignments: Assignment[], unplaced: string[] } {
    const assignments: Assignment[] = []
    const unplaced: string[] = []
    const nodes = [...this.before.keys()].sort(byId)
    for (const n of nodes) {
      if (n.removed) continue
      const b = this.before.get(n)
      if (n.state === 'attached') {
        if (b === undefined || !b.placed || b.parent !== n.parent || b.standby !== n.standby || b.depth !== n.depth) {
          assignments.push({ relay: n.id, parent: n.parent!.id, standby: n.standby?.id, depth: n.depth })
        }
      } else if (b === undefined || b.placed) {
        unplaced.push(n.id)
      }
    }
    this.before.clear()
    return { assignments, unplaced }
  }
}
