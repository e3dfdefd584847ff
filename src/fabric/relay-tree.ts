/**
 * RelayTree: the planned tree of one fabric stream, with the bookkeeping
 * that keeps every decision cheap at 10^4 relays: an index of the nodes that
 * can take a child, by depth, each depth a heap per ranking, so placement
 * takes the best of the shallowest depth with room in O(log n); an index of
 * relays by depth and capacity, so a promotion finds the relay it displaces
 * without a scan; the waiting relays by capacity; and a list of nodes whose
 * standby must be checked again, filled as nodes move, leave or fall under
 * suspicion, so standbys are recomputed only where they may have gone bad. Every change goes through
 * here and is noted in the call's ChangeJournal first.
 *
 * Mechanism only: which parent a node gets is placement.ts's and planner.ts's
 * decision. Callers keep the rules each method states; a broken rule is a
 * bug in the planner and throws FabricError INTERNAL.
 */
import { FabricError } from '../errors.js'
import { ChangeJournal } from './change-journal.js'
import { SlotHeap, type Purpose } from './slot-heap.js'
import { byId, newNode, subtree, type TreeNode } from './tree-node.js'
import type { RelayLoad } from './types.js'

/** Mutable tree of one stream: the root, every relay, open slots, dirty standbys. */
export class RelayTree {
  readonly root: TreeNode
  readonly maxDepth: number
  readonly journal = new ChangeJournal()
  /** Relays with no place, waiting for room. */
  readonly waiting = new Set<TreeNode>()
  /** waitingBy[c]: the waiting relays of capacity c, so placement takes the largest without sorting them all. */
  private readonly waitingBy: Array<Set<TreeNode>>
  private readonly nodes = new Map<string, TreeNode>()
  /**
   * open[d]: attached, unsuspected nodes at depth d with a free child slot
   * (d < maxDepth), in one heap per ranking (parent, standby).
   */
  private readonly open: Array<{ parent: SlotHeap, standby: SlotHeap }>
  /**
   * ranked[d][c]: attached relays at depth d (1 <= d < maxDepth) of capacity
   * c < maxChildren, the relays a joiner of larger capacity may take the place
   * of (placement.ts): finding one costs a look at maxDepth x maxChildren
   * buckets, not a scan of the tree.
   */
  private readonly ranked: Array<Array<Set<TreeNode>>>
  /** Nodes whose standby may be bad since they or it changed. */
  private readonly standbyDirty = new Set<TreeNode>()
  /**
   * Placed nodes no standby qualified for, each with the deepest depth a
   * standby of theirs may have (maxDepth - 1 - subtree height, at the last
   * try): one is tried again only when a slot opens where it could use it,
   * or its subtree shrinks, not on every call (the top of a large subtree
   * often has no standby, and trying costs a walk of that subtree).
   */
  private readonly standbyless = new Map<TreeNode, number>()

  constructor (rootId: string, rootCapacity: number, maxDepth: number, maxChildren: number) {
    this.maxDepth = maxDepth
    this.open = Array.from({ length: maxDepth }, () => ({ parent: new SlotHeap('parent'), standby: new SlotHeap('standby') }))
    this.waitingBy = Array.from({ length: maxChildren + 1 }, () => new Set<TreeNode>())
    this.ranked = Array.from({ length: maxDepth }, () => Array.from({ length: maxChildren }, () => new Set<TreeNode>()))
    this.root = newNode(rootId, rootCapacity, rootCapacity)
    this.root.state = 'attached'
    this.refreshOpen(this.root)
  }

  /** The relay named `id` (never the root), or undefined. */
  get (id: string): TreeNode | undefined {
    return this.nodes.get(id)
  }

  /** Every relay, in no stated order. */
  relays (): IterableIterator<TreeNode> {
    return this.nodes.values()
  }

  get size (): number {
    return this.nodes.size
  }

  /** Nodes that can take a child at depth `d`, ranked for `purpose`; an empty heap past the bound. */
  slotsAt (d: number, purpose: Purpose): SlotHeap {
    return this.open[d]?.[purpose] ?? NO_SLOTS
  }

  /** Attached relays of capacity `c` at depth `d`, for 1 <= d < maxDepth and c < maxChildren; else an empty set. */
  rankedAt (d: number, c: number): ReadonlySet<TreeNode> {
    return d < 1 ? EMPTY : this.ranked[d]?.[c] ?? EMPTY
  }

  /** The waiting relays of capacity `c`. */
  waitingAt (c: number): ReadonlySet<TreeNode> {
    return this.waitingBy[c] ?? EMPTY
  }

  /** True when some node can take a leaf child. */
  hasRoom (): boolean {
    return this.shallowestRoom() !== undefined
  }

  /** The smallest depth at which some node can take a child, or undefined when none can. */
  shallowestRoom (): number | undefined {
    const d = this.open.findIndex((s) => s.parent.size > 0)
    return d < 0 ? undefined : d
  }

  /** Adds an unplaced relay; the caller has checked the id is new. */
  add (id: string, declaredCapacity: number, capacity: number): TreeNode {
    const n = newNode(id, declaredCapacity, capacity)
    this.nodes.set(id, n)
    this.journal.noteNew(n)
    return n
  }

  /**
   * Hangs `n` (floating or unplaced, with its subtree) under `parent`
   * (attached) and sets the depth of every node of the subtree.
   */
  attach (n: TreeNode, parent: TreeNode): void {
    if (n.state === 'attached' || parent.state !== 'attached' || n.parent !== undefined) throw new FabricError('INTERNAL', `cannot attach ${n.id} under ${parent.id}`)
    this.journal.note(n)
    n.parent = parent
    parent.children.add(n)
    this.waiting.delete(n)
    this.waitingBy[n.capacity].delete(n)
    this.refreshOpen(parent)
    this.standbyDirty.add(n)
    for (const m of subtree(n)) {
      this.journal.note(m)
      m.depth = m.parent!.depth + 1
      m.state = 'attached'
      this.refreshOpen(m)
      this.refreshRank(m)
    }
  }

  /** Cuts `n` and its subtree loose from its parent; they float until attached or unplaced. */
  detach (n: TreeNode): void {
    const parent = n.parent
    if (parent === undefined) throw new FabricError('INTERNAL', `${n.id} has no parent to leave`)
    this.journal.note(n)
    parent.children.delete(n)
    n.parent = undefined
    this.refreshOpen(parent)
    // The subtrees above lost height: one that found no standby may fit somewhere now.
    for (let a: TreeNode | undefined = parent; a !== undefined && a !== this.root; a = a.parent) {
      if (a.standby === undefined) this.standbyDirty.add(a)
    }
    for (const m of subtree(n)) {
      this.journal.note(m)
      m.state = 'floating'
      this.refreshOpen(m)
      this.refreshRank(m)
      // Whoever stands by on m must be checked once m lands again: it may
      // land below them, or not land at all. Only a detach makes a node
      // that others stand by on move, so attach need not look.
      for (const r of m.standbyFor) this.standbyDirty.add(r)
    }
  }

  /** Parks a floating or new leaf as unplaced: no parent, no standby, waits for room. */
  unplace (n: TreeNode): void {
    if (n.parent !== undefined || n.children.size > 0) throw new FabricError('INTERNAL', `${n.id} must be a loose leaf to be unplaced`)
    this.journal.note(n)
    n.state = 'unplaced'
    this.waiting.add(n)
    this.waitingBy[n.capacity].add(n)
    this.setStandby(n, undefined)
    this.refreshOpen(n)
    this.refreshRank(n)
  }

  /** Takes a childless, parentless relay out of the tree for good. */
  remove (n: TreeNode): void {
    if (n.parent !== undefined || n.children.size > 0 || n === this.root) throw new FabricError('INTERNAL', `${n.id} must be cut loose before removal`)
    this.setStandby(n, undefined)
    for (const r of n.standbyFor) this.standbyDirty.add(r)
    n.state = 'unplaced'
    this.refreshOpen(n)
    this.refreshRank(n)
    n.removed = true
    this.waiting.delete(n)
    this.waitingBy[n.capacity].delete(n)
    this.standbyless.delete(n)
    this.nodes.delete(n.id)
    this.standbyDirty.delete(n)
  }

  /**
   * Puts the unplaced relay `n` where the attached relay `v` is, with `v`'s
   * children, and hangs `v` below it as a leaf: `v`'s children keep their
   * depth, `v` goes one deeper. The caller has checked that `n` can feed
   * them all and `v` (capacity above `v`'s children) and that `v` is above
   * the depth bound.
   */
  takePlace (n: TreeNode, v: TreeNode): void {
    const parent = v.parent
    if (n.state !== 'unplaced' || v.state !== 'attached' || parent === undefined || n.capacity <= v.children.size || v.depth >= this.maxDepth) {
      throw new FabricError('INTERNAL', `${n.id} cannot take the place of ${v.id}`)
    }
    const children = [...v.children].sort(byId)
    this.detach(v)
    for (const c of children) this.detach(c)
    this.attach(n, parent)
    for (const c of children) this.attach(c, n)
    this.attach(v, n)
  }

  /** Sets (or clears) `n`'s standby parent. */
  setStandby (n: TreeNode, standby: TreeNode | undefined): void {
    if (n.standby === standby) return
    this.journal.note(n)
    // Standby ranking counts the relays standing by on a node: each count
    // change is re-sifted at once, as a heap fixes one changed key at a time.
    const was = n.standby
    if (was !== undefined) {
      was.standbyFor.delete(n)
      if (was.openAt !== undefined) this.open[was.openAt].standby.update(was)
    }
    n.standby = standby
    if (standby !== undefined) {
      standby.standbyFor.add(n)
      if (standby.openAt !== undefined) this.open[standby.openAt].standby.update(standby)
    }
  }

  /** Records `n`'s last reported load (its bytes forwarded rank it among free slots). */
  setLoad (n: TreeNode, load: RelayLoad): void {
    n.load = load
    if (n.openAt !== undefined) this.reorder(n, n.openAt)
  }

  /** A suspected node takes no new child and stands by for nobody. */
  setSuspected (n: TreeNode, suspected: boolean): void {
    if (n.suspected === suspected) return
    n.suspected = suspected
    this.refreshOpen(n)
    for (const r of n.standbyFor) this.standbyDirty.add(r)
  }

  /** Records that no standby qualified for `n`, whose standby could be at most `deepest` deep. */
  noStandbyFor (n: TreeNode, deepest: number): void {
    this.standbyless.set(n, deepest)
  }

  /** The nodes whose standby must be checked, by id; empties the list (they leave the standbyless list too). */
  takeStandbyDirty (): TreeNode[] {
    const out = [...this.standbyDirty].filter((n) => !n.removed).sort(byId)
    this.standbyDirty.clear()
    for (const n of out) this.standbyless.delete(n)
    return out
  }

  /** Puts `n` in the open-slot bucket its state allows, or in none. */
  private refreshOpen (n: TreeNode): void {
    const want = n.state === 'attached' && !n.suspected && !n.removed && n.children.size < n.capacity && n.depth < this.maxDepth ? n.depth : undefined
    if (want === n.openAt) {
      // Still open at the same depth, but its children (its load) may have changed.
      if (want !== undefined) this.reorder(n, want)
      return
    }
    // A standby with no free slot is no standby: the relays counting on it need another.
    if (want === undefined) for (const r of n.standbyFor) this.standbyDirty.add(r)
    if (n.openAt !== undefined) {
      this.open[n.openAt].parent.delete(n)
      this.open[n.openAt].standby.delete(n)
    }
    if (want !== undefined) {
      this.open[want].parent.add(n)
      this.open[want].standby.add(n)
    }
    n.openAt = want
    if (want !== undefined && this.standbyless.size > 0) this.slotOpened(n, want)
  }

  /** Re-sifts `n`, open at depth `d`, in both rankings. */
  private reorder (n: TreeNode, d: number): void {
    this.open[d].parent.update(n)
    this.open[d].standby.update(n)
  }

  /** Puts `n` in the promotion bucket its state, depth and capacity allow, or in none. */
  private refreshRank (n: TreeNode): void {
    const want = n.state === 'attached' && !n.removed && n !== this.root && n.depth >= 1 && n.depth < this.maxDepth ? n.depth : undefined
    const bucket = want === undefined ? undefined : this.ranked[want][n.capacity]
    if (bucket === n.rankedIn) return
    n.rankedIn?.delete(n)
    bucket?.add(n)
    n.rankedIn = bucket
  }

  /** Marks the standbyless nodes that could stand by on `n`, just opened at depth `d`. */
  private slotOpened (n: TreeNode, d: number): void {
    const above = new Set<TreeNode>()
    for (let a: TreeNode | undefined = n; a !== undefined; a = a.parent) above.add(a)
    for (const [m, deepest] of this.standbyless) {
      if (d <= deepest && !above.has(m) && m.parent !== n) this.standbyDirty.add(m)
    }
  }
}

const EMPTY: ReadonlySet<TreeNode> = new Set()
const NO_SLOTS = new SlotHeap('parent')
