/**
 * The free slots of one depth of the relay tree, ranked for one purpose
 * (protocol/federation-planner.md section 4): the heap behind placement.ts's
 * choices, in a module of its own so the tree (relay-tree.ts), which keeps
 * the heaps, and placement.ts, which reads the tree, do not import each other.
 */
import type { TreeNode } from './tree-node.js'

/** Which ranking a choice uses. */
export type Purpose = 'parent' | 'standby'

/**
 * The nodes with a free slot at one depth, in a binary heap by the ranking
 * of one purpose, so a placement costs O(log n) instead of a comparison with
 * every open node at the depth (the 0.2-0.3 ms joins of 10^4-relay trees).
 * Each node keeps its position in the heap of each purpose (`slotIndex`);
 * the tree re-sifts a node whenever a ranked figure of it changes (children,
 * bytes forwarded, relays standing by on it).
 */
export class SlotHeap {
  readonly purpose: Purpose
  private readonly items: TreeNode[] = []
  private readonly k: 0 | 1

  constructor (purpose: Purpose) {
    this.purpose = purpose
    this.k = purpose === 'parent' ? 0 : 1
  }

  get size (): number {
    return this.items.length
  }

  /** Adds `n`, which is in no heap of this purpose. */
  add (n: TreeNode): void {
    n.slotIndex[this.k] = this.items.length
    this.items.push(n)
    this.up(this.items.length - 1)
  }

  /** Takes `n` out; it must be in this heap. */
  delete (n: TreeNode): void {
    const i = n.slotIndex[this.k]
    const last = this.items.pop()!
    n.slotIndex[this.k] = -1
    if (last === n) return
    this.items[i] = last
    last.slotIndex[this.k] = i
    if (!this.up(i)) this.down(i)
  }

  /** Puts `n` back in order after one of its ranked figures changed; a no-op when it is in no heap. */
  update (n: TreeNode): void {
    const i = n.slotIndex[this.k]
    if (i >= 0 && !this.up(i)) this.down(i)
  }

  /**
   * The best node not `excluded`. The heap is searched best-first from its
   * top (a node's heap children never rank before it), so the cost grows
   * with the excluded nodes that rank before the answer, not with the heap.
   */
  best (excluded?: (n: TreeNode) => boolean): TreeNode | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    if (excluded === undefined || !excluded(items[0])) return items[0]
    const frontier = new IndexHeap((i, j) => better(items[i], items[j], this.purpose))
    const below = (i: number): void => {
      for (const c of [2 * i + 1, 2 * i + 2]) if (c < items.length) frontier.push(c)
    }
    below(0)
    for (let i = frontier.pop(); i !== undefined; i = frontier.pop()) {
      if (!excluded(items[i])) return items[i]
      below(i)
    }
    return undefined
  }

  private up (i: number): boolean {
    const items = this.items
    const n = items[i]
    const start = i
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!better(n, items[p], this.purpose)) break
      items[i] = items[p]
      items[i].slotIndex[this.k] = i
      i = p
    }
    items[i] = n
    n.slotIndex[this.k] = i
    return i !== start
  }

  private down (i: number): void {
    const items = this.items
    const n = items[i]
    for (;;) {
      const l = 2 * i + 1
      if (l >= items.length) break
      const c = l + 1 < items.length && better(items[l + 1], items[l], this.purpose) ? l + 1 : l
      if (!better(items[c], n, this.purpose)) break
      items[i] = items[c]
      items[i].slotIndex[this.k] = i
      i = c
    }
    items[i] = n
    n.slotIndex[this.k] = i
  }
}

/** A plain binary min-heap of indices into a SlotHeap (its best-first search frontier). */
class IndexHeap {
  private readonly a: number[] = []
  private readonly ranks: (i: number, j: number) => boolean

  constructor (ranks: (i: number, j: number) => boolean) {
    this.ranks = ranks
  }

  push (i: number): void {
    const a = this.a
    a.push(i)
    for (let k = a.length - 1; k > 0;) {
      const p = (k - 1) >> 1
      if (!this.ranks(a[k], a[p])) break
      const t = a[k]
      a[k] = a[p]
      a[p] = t
      k = p
    }
  }

  pop (): number | undefined {
    const a = this.a
    if (a.length === 0) return undefined
    const top = a[0]
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      for (let k = 0; ;) {
        const l = 2 * k + 1
        if (l >= a.length) break
        const c = l + 1 < a.length && this.ranks(a[l + 1], a[l]) ? l + 1 : l
        if (!this.ranks(a[c], a[k])) break
        const t = a[k]
        a[k] = a[c]
        a[c] = t
        k = c
      }
    }
    return top
  }
}

/** True when `a` ranks before `b` at the same depth. */
function better (a: TreeNode, b: TreeNode, purpose: Purpose): boolean {
  // children/capacity compared without division: both capacities are > 0 for open nodes.
  const load = a.children.size * b.capacity - b.children.size * a.capacity
  if (load !== 0) return load < 0
  if (purpose === 'standby') {
    const wait = a.standbyFor.size - b.standbyFor.size
    if (wait !== 0) return wait < 0
  }
  const bytes = a.load.bytesForwarded - b.load.bytesForwarded
  if (bytes !== 0) return bytes < 0
  return a.id < b.id
}

