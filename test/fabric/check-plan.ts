/**
 * The planner's invariants, checked from a snapshot by recomputing the tree
 * from its parent links alone (nothing the planner caches is trusted).
 * Returns the broken rules, empty when the plan holds.
 */
import type { PlannedRelay, PlanSnapshot } from '../../src/fabric/index.js'

export function planProblems (plan: PlanSnapshot): string[] {
  const problems: string[] = []
  const byId = new Map<string, PlannedRelay>([[plan.root.id, plan.root], ...plan.relays.map((r) => [r.id, r] as const)])
  const unplaced = new Set(plan.unplaced)

  /** Depth from the parent links, or undefined when they loop or dangle. */
  const walkDepth = (id: string): number | undefined => {
    let d = 0
    let at = byId.get(id)
    while (at !== undefined && at.id !== plan.root.id) {
      if (++d > byId.size) return undefined
      at = at.parent === undefined ? undefined : byId.get(at.parent)
    }
    return at === undefined ? undefined : d
  }
  /** True when `a` is `top` or below it, by parent links. */
  const below = (a: string, top: string): boolean => {
    let at = byId.get(a)
    for (let i = 0; at !== undefined && i <= byId.size; i++) {
      if (at.id === top) return true
      at = at.parent === undefined ? undefined : byId.get(at.parent)
    }
    return false
  }
  const heightOf = (id: string): number => {
    const kids = byId.get(id)?.children ?? []
    return kids.length === 0 ? 0 : 1 + Math.max(...kids.map(heightOf))
  }
  const placed = (r: PlannedRelay): boolean => r.id === plan.root.id || (r.parent !== undefined && !unplaced.has(r.id))
  const hasRoom = (r: PlannedRelay): boolean => placed(r) && !r.suspected && r.children.length < r.capacity && r.depth! < plan.maxDepth

  if (plan.root.parent !== undefined || plan.root.depth !== 0) problems.push('root has a parent or a depth other than 0')
  for (const r of [plan.root, ...plan.relays]) {
    if (r.capacity !== Math.min(r.declaredCapacity, plan.maxChildren)) problems.push(`${r.id}: capacity ${r.capacity} is not min(declared ${r.declaredCapacity}, ceiling ${plan.maxChildren})`)
    if (r.children.length > Math.min(r.declaredCapacity, plan.maxChildren)) problems.push(`${r.id}: ${r.children.length} children over min(declared ${r.declaredCapacity}, ceiling ${plan.maxChildren})`)
    for (const c of r.children) if (byId.get(c)?.parent !== r.id) problems.push(`${r.id} lists child ${c} whose parent is ${byId.get(c)?.parent}`)
  }
  for (const r of plan.relays) {
    if (unplaced.has(r.id)) {
      if (r.parent !== undefined || r.children.length > 0 || r.standby !== undefined || r.depth !== undefined) problems.push(`unplaced ${r.id} has a parent, children, standby or depth`)
      continue
    }
    if (r.parent === undefined) { problems.push(`${r.id} neither placed nor unplaced`); continue }
    if (!(byId.get(r.parent)?.children.includes(r.id) ?? false)) problems.push(`${r.id}'s parent ${r.parent} does not list it`)
    const d = walkDepth(r.id)
    if (d === undefined) { problems.push(`${r.id} does not reach the root (cycle or dangling parent)`); continue }
    if (d !== r.depth) problems.push(`${r.id}: reported depth ${r.depth}, recomputed ${d}`)
    if (d > plan.maxDepth) problems.push(`${r.id}: depth ${d} over ${plan.maxDepth}`)
    if (r.standby !== undefined) {
      const s = byId.get(r.standby)
      if (s === undefined || !placed(s)) problems.push(`${r.id}: standby ${r.standby} is not placed`)
      else if (r.standby === r.parent) problems.push(`${r.id}: standby is its parent`)
      else if (below(r.standby, r.id)) problems.push(`${r.id}: standby ${r.standby} is in its own subtree`)
      else if (below(r.standby, r.parent)) problems.push(`${r.id}: standby ${r.standby} is in its parent's subtree (orphaned by the same failure)`)
      else if (!hasRoom(s)) problems.push(`${r.id}: standby ${r.standby} has no free slot (or is suspected)`)
    } else {
      const h = heightOf(r.id)
      const could = [...byId.values()].find((s) => hasRoom(s) && !below(s.id, r.parent!) && s.depth! + 1 + h <= plan.maxDepth)
      if (could !== undefined) problems.push(`${r.id} has no standby though ${could.id} qualifies`)
    }
  }
  if (unplaced.size > 0) {
    const room = [...byId.values()].find(hasRoom)
    if (room !== undefined) problems.push(`${[...unplaced].join(',')} unplaced though ${room.id} has a free slot`)
  }
  for (const id of unplaced) if (!byId.has(id)) problems.push(`unplaced ${id} is not a relay`)
  return problems
}
