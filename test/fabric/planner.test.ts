import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isFabricError } from '../../src/errors.js'
import { meshReport, PROMOTIONS_PER_CALL, TreePlanner, type PlannerInput, type PlannerOutput, type PlanSnapshot } from '../../src/fabric/index.js'
import { SlotHeap, type Purpose } from '../../src/fabric/slot-heap.js'
import { newNode, type TreeNode } from '../../src/fabric/tree-node.js'
import { planProblems } from './check-plan.js'

const ROOT = 'home'
const load = (bytesForwarded = 0, childrenServed = 0) => ({ framesForwarded: 0, bytesForwarded, childrenServed })

/** One step of a random run: time passes by `dt` ms, then `input` is handled. */
interface Step { dt: number, input: PlannerInput }

function stepArb (ids: string[]): fc.Arbitrary<Step> {
  // The root's id is in the pool now and then, so the refusals of root inputs are exercised too.
  const id = fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: fc.constant(ROOT) })
  const input: fc.Arbitrary<PlannerInput> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ type: fc.constant('join' as const), relay: id, capacity: fc.integer({ min: 0, max: 6 }) }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('leave' as const), relay: id }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('fail' as const), relay: id }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('suspect' as const), relay: id }) },
    { weight: 4, arbitrary: fc.record({ type: fc.constant('heartbeat' as const), relay: id, load: fc.record({ framesForwarded: fc.nat(1000), bytesForwarded: fc.nat(10_000), childrenServed: fc.nat(4) }) }) },
    { weight: 1, arbitrary: fc.constant({ type: 'tick' as const }) },
  )
  return fc.record({ dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1500 })), input })
}

const optionsArb: fc.Arbitrary<Options> = fc.record({
  maxChildren: fc.integer({ min: 1, max: 4 }),
  maxDepth: fc.integer({ min: 1, max: 5 }),
  heartbeatTimeoutMs: fc.integer({ min: 500, max: 5000 }),
  rootCapacity: fc.integer({ min: 0, max: 5 }),
})

type Placement = { parent: string, standby: string | undefined, depth: number } | 'unplaced'

/**
 * Runs `steps` against a planner and a model of what must be true, checking
 * the plan's invariants after every step; throws on the first broken rule.
 */
interface Options { maxChildren: number, maxDepth: number, heartbeatTimeoutMs: number, rootCapacity: number }

function runChecked (options: Options, steps: Step[]): PlannerOutput[] {
  const planner = new TreePlanner({ root: ROOT, ...options })
  const lastSeen = new Map<string, number>()
  /** The plan as rebuilt from the outputs alone. */
  const mirror = new Map<string, Placement>()
  const ignored = { heartbeat: 0, leave: 0, fail: 0, suspect: 0 }
  const outputs: PlannerOutput[] = []
  let now = 1000
  for (const { dt, input } of steps) {
    now += dt
    const relay = input.type === 'tick' ? undefined : input.relay
    const refused = relay === ROOT ? input.type !== 'heartbeat' : input.type === 'join' && lastSeen.has(input.relay)
    if (refused) {
      expect(() => planner.handle(input, now)).toThrowError(expect.objectContaining({ code: 'INVALID_STATE' }))
      continue
    }
    const out = planner.handle(input, now)
    outputs.push(out)
    const expectedRemoved: string[] = []
    if (relay !== undefined && relay !== ROOT) {
      const known = lastSeen.has(relay)
      if (input.type === 'join' || (input.type === 'heartbeat' && known)) lastSeen.set(relay, now)
      else if (!known && input.type !== 'tick') ignored[input.type]++
      if ((input.type === 'leave' || input.type === 'fail') && known) {
        lastSeen.delete(relay)
        expectedRemoved.push(relay)
      }
    }
    const expired = [...lastSeen].filter(([, at]) => now - at >= options.heartbeatTimeoutMs).map(([id]) => id).sort()
    for (const id of expired) lastSeen.delete(id)
    expectedRemoved.push(...expired)
    expect(out.removed).toEqual(expectedRemoved)
    const deadline = lastSeen.size === 0 ? undefined : Math.min(...lastSeen.values()) + options.heartbeatTimeoutMs
    expect(out.deadline).toBe(deadline)

    // Moves outside orphan healing come from promotions only: at most
    // maxChildren placed relays (the displaced one and its children) each.
    const healed = subtreesOf(mirror, out.removed)
    const moved = out.assignments.filter((a) => {
      const was = mirror.get(a.relay)
      return was !== undefined && was !== 'unplaced' && was.parent !== a.parent && !healed.has(a.relay)
    })
    expect(moved.length, 'moves besides orphan healing').toBeLessThanOrEqual(PROMOTIONS_PER_CALL * options.maxChildren)

    for (const id of out.removed) mirror.delete(id)
    for (const a of out.assignments) mirror.set(a.relay, { parent: a.parent, standby: a.standby, depth: a.depth })
    for (const id of out.unplaced) mirror.set(id, 'unplaced')

    const plan = planner.snapshot()
    expect(planProblems(plan)).toEqual([])
    expect(plan.relays.map((r) => r.id)).toEqual([...lastSeen.keys()].sort())
    expect(plan.ignored).toEqual(ignored)
    for (const r of plan.relays) {
      const want: Placement = plan.unplaced.includes(r.id) ? 'unplaced' : { parent: r.parent!, standby: r.standby, depth: r.depth! }
      expect(mirror.get(r.id), `outputs rebuild ${r.id}'s placement`).toEqual(want)
    }
    expect(mirror.size).toBe(plan.relays.length)
  }
  return outputs
}

/** `tops` and every relay below them, by the parent links of `mirror`. */
function subtreesOf (mirror: ReadonlyMap<string, Placement>, tops: readonly string[]): Set<string> {
  const children = new Map<string, string[]>()
  for (const [id, p] of mirror) if (p !== 'unplaced') children.set(p.parent, [...(children.get(p.parent) ?? []), id])
  const out = new Set<string>()
  const stack = [...tops]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (out.has(id)) continue
    out.add(id)
    stack.push(...(children.get(id) ?? []))
  }
  return out
}

/**
 * Most relays a tree can hold with these capacities: the largest capacities
 * at the shallowest depths, level by level (any other order leaves fewer
 * slots at some level, and so at every level below it).
 */
function mostPlaceable (capacities: readonly number[], options: Options): number {
  const caps = capacities.map((c) => Math.min(c, options.maxChildren)).sort((a, b) => b - a)
  let slots = Math.min(options.rootCapacity, options.maxChildren)
  let placed = 0
  for (let d = 1; d <= options.maxDepth && slots > 0 && placed < caps.length; d++) {
    const level = caps.slice(placed, placed + slots)
    placed += level.length
    slots = level.reduce((a, c) => a + c, 0)
  }
  return placed
}

/** Placed relays of capacity below `capacity` that a relay of `capacity` could take the place of (section 4). */
function displaceable (plan: PlanSnapshot, capacity: number): string[] {
  const suspected = new Set([plan.root, ...plan.relays].filter((r) => r.suspected).map((r) => r.id))
  return plan.relays.filter((r) => r.depth !== undefined && r.depth < plan.maxDepth && r.capacity < capacity && !suspected.has(r.parent!)).map((r) => r.id)
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${String(i).padStart(3, '0')}`)

describe('TreePlanner properties', () => {
  it('after any sequence of joins, leaves, failures, suspicions, heartbeats and ticks the plan holds its invariants', () => {
    fc.assert(fc.property(optionsArb, fc.array(stepArb(ids(12)), { maxLength: 60 }), (options, steps) => {
      runChecked(options, steps)
    }), { numRuns: 1500 })
  })

  it('holds them with many relays and few failures, where subtrees are deep', () => {
    const steps = fc.array(stepArb(ids(80)), { minLength: 100, maxLength: 250 })
    fc.assert(fc.property(optionsArb, steps, (options, s) => {
      runChecked(options, s)
    }), { numRuns: 150 })
  })

  it('places as many relays as the capacities allow once joins settle, and leaves no promotion undone', () => {
    // Joins only, time standing still; then ticks until one changes nothing
    // (each call promotes at most PROMOTIONS_PER_CALL relays, so a burst of
    // joins may leave promotions for the calls after it).
    const caps = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 120 })
    fc.assert(fc.property(optionsArb, caps, (options, capacities) => {
      const p = new TreePlanner({ root: ROOT, ...options })
      capacities.forEach((capacity, i) => p.handle({ type: 'join', relay: `r${String(i).padStart(3, '0')}`, capacity }, 0))
      for (let i = 0; i <= capacities.length; i++) if (p.handle({ type: 'tick' }, 0).assignments.length === 0) break
      const plan = p.snapshot()
      expect(planProblems(plan)).toEqual([])
      const largestWaiting = Math.max(-1, ...plan.relays.filter((r) => plan.unplaced.includes(r.id)).map((r) => r.capacity))
      expect(displaceable(plan, largestWaiting), 'a waiting relay could take a smaller relay\'s place').toEqual([])
      expect(plan.relays.length - plan.unplaced.length).toBe(Math.min(capacities.length, mostPlaceable(capacities, options)))
    }), { numRuns: 500 })
  })

  it('is deterministic: the same inputs give the same outputs', () => {
    fc.assert(fc.property(optionsArb, fc.array(stepArb(ids(10)), { maxLength: 40 }), (options, steps) => {
      const run = (): unknown => {
        const p = new TreePlanner({ root: ROOT, ...options })
        let now = 0
        const outs: unknown[] = []
        for (const { dt, input } of steps) {
          now += dt
          try { outs.push(p.handle(input, now)) } catch (err) { outs.push(isFabricError(err) ? err.code : err) }
        }
        return [outs, p.snapshot()]
      }
      expect(run()).toEqual(run())
    }), { numRuns: 150 })
  })
})

describe('SlotHeap (free slots ranked for placement)', () => {
  /** Section 4's ranking (section 6's for standbys), by brute force: the heap must agree. */
  const rank = (purpose: Purpose) => (a: TreeNode, b: TreeNode): number =>
    a.children.size * b.capacity - b.children.size * a.capacity ||
    (purpose === 'standby' ? a.standbyFor.size - b.standbyFor.size : 0) ||
    a.load.bytesForwarded - b.load.bytesForwarded ||
    (a.id < b.id ? -1 : 1)
  const op = fc.record({
    node: fc.nat(7),
    kind: fc.constantFrom('add', 'add', 'delete', 'change', 'change', 'best'),
    children: fc.nat(3),
    standbys: fc.nat(3),
    bytes: fc.nat(4),
    excluded: fc.uniqueArray(fc.nat(7), { maxLength: 7 }),
  })

  it('gives the best node not excluded, as a scan of every node would, while ranked figures change', () => {
    fc.assert(fc.property(fc.constantFrom<Purpose>('parent', 'standby'), fc.array(op, { minLength: 20, maxLength: 120 }), (purpose, ops) => {
      const heap = new SlotHeap(purpose)
      const nodes = Array.from({ length: 8 }, (_, i) => newNode(`n${i}`, 4, 1 + (i % 4)))
      const inHeap = new Set<TreeNode>()
      const filler = (k: number, tag: string): TreeNode[] => Array.from({ length: k }, (_, i) => newNode(`${tag}${i}`, 0, 0))
      for (const o of ops) {
        const n = nodes[o.node]
        if (o.kind === 'add' && !inHeap.has(n)) { heap.add(n); inHeap.add(n) }
        if (o.kind === 'delete' && inHeap.has(n)) { heap.delete(n); inHeap.delete(n) }
        if (o.kind === 'change') {
          // One ranked figure at a time, each followed by an update, as the tree does.
          n.children.clear(); for (const c of filler(Math.min(o.children, n.capacity - 1), 'c')) n.children.add(c); heap.update(n)
          n.standbyFor.clear(); for (const c of filler(o.standbys, 's')) n.standbyFor.add(c); heap.update(n)
          n.load = { ...n.load, bytesForwarded: o.bytes }; heap.update(n)
        }
        if (o.kind === 'best') {
          const skip = new Set(o.excluded.map((i) => nodes[i]))
          const want = [...inHeap].filter((m) => !skip.has(m)).sort(rank(purpose))[0]
          expect(heap.best((m) => skip.has(m))).toBe(want)
          expect(heap.best()).toBe([...inHeap].sort(rank(purpose))[0])
        }
        expect(heap.size).toBe(inHeap.size)
      }
    }), { numRuns: 400 })
  })
})

describe('TreePlanner examples', () => {
  it('places shallowest first, then least loaded, then fewest bytes, then by id', () => {
    // Promotion never fires here: every joiner finds a slot no deeper than any smaller relay.
    const p = new TreePlanner({ root: ROOT, maxChildren: 2 })
    const parentOf = (out: PlannerOutput, id: string): string | undefined => out.assignments.find((a) => a.relay === id)?.parent
    expect(parentOf(p.handle({ type: 'join', relay: 'a', capacity: 2 }, 0), 'a')).toBe(ROOT)
    expect(parentOf(p.handle({ type: 'join', relay: 'b', capacity: 2 }, 0), 'b')).toBe(ROOT)
    // Root full: depth 1, a and b both empty: id breaks the tie.
    expect(parentOf(p.handle({ type: 'join', relay: 'c', capacity: 0 }, 0), 'c')).toBe('a')
    // a is half full, b empty.
    expect(parentOf(p.handle({ type: 'join', relay: 'd', capacity: 0 }, 0), 'd')).toBe('b')
    // Equal load; a has forwarded more bytes.
    p.handle({ type: 'heartbeat', relay: 'a', load: load(5000, 1) }, 0)
    p.handle({ type: 'heartbeat', relay: 'b', load: load(100, 1) }, 0)
    expect(parentOf(p.handle({ type: 'join', relay: 'e', capacity: 0 }, 0), 'e')).toBe('b')
    expect(parentOf(p.handle({ type: 'join', relay: 'f', capacity: 0 }, 0), 'f')).toBe('a')
    expect(planProblems(p.snapshot())).toEqual([])
  })

  it('lets a larger relay take the place of a smaller, shallower one and adopt it with its children', () => {
    const p = new TreePlanner({ root: ROOT, rootCapacity: 1, maxChildren: 3, maxDepth: 3 })
    p.handle({ type: 'join', relay: 'a', capacity: 1 }, 0)
    p.handle({ type: 'join', relay: 'b', capacity: 0 }, 0)
    // home -> a -> b: no free slot. c feeds 3, a only 1: c takes a's place,
    // b keeps its depth under c, a becomes c's leaf; two slots are left
    // where there were none.
    const out = p.handle({ type: 'join', relay: 'c', capacity: 3 }, 0)
    expect(out.assignments).toEqual([
      { relay: 'a', parent: 'c', standby: undefined, depth: 2 },
      // a, b's sibling, would be cut off with b when c fails: no standby qualifies.
      { relay: 'b', parent: 'c', standby: undefined, depth: 2 },
      { relay: 'c', parent: ROOT, standby: undefined, depth: 1 },
    ])
    expect(out.unplaced).toEqual([])
    expect(p.snapshot().promotions).toBe(1)
    // d fits in c's free slot at depth 2; a (capacity 1, depth 2) is no shallower than that slot, so no swap.
    expect(p.handle({ type: 'join', relay: 'd', capacity: 2 }, 0).assignments.find((x) => x.relay === 'd')).toMatchObject({ parent: 'c', depth: 2 })
    expect(p.snapshot().promotions).toBe(1)
    expect(planProblems(p.snapshot())).toEqual([])
  })

  it('promotes at most once per call: a second relay that could swap takes a free slot instead', () => {
    const p = new TreePlanner({ root: ROOT, rootCapacity: 1, maxChildren: 2, maxDepth: 3 })
    p.handle({ type: 'join', relay: 'p', capacity: 2 }, 0)
    for (const id of ['a', 'b']) p.handle({ type: 'join', relay: id, capacity: 0 }, 0)
    // home -> p -> {a, b}, full. With p suspected, nothing may be swapped in below it: x and y wait.
    p.handle({ type: 'suspect', relay: 'p' }, 0)
    expect(p.handle({ type: 'join', relay: 'x', capacity: 2 }, 0).unplaced).toEqual(['x'])
    expect(p.handle({ type: 'join', relay: 'y', capacity: 2 }, 0).unplaced).toEqual(['y'])
    const out = p.handle({ type: 'heartbeat', relay: 'p', load: load() }, 0)
    // x takes a's place (smaller id); y could take b's, but the call's one
    // promotion is spent, so y goes to x's free slot.
    expect(out.assignments.map((x) => [x.relay, x.parent, x.depth])).toEqual([
      ['a', 'x', 3], ['x', 'p', 2], ['y', 'x', 3],
    ])
    expect(p.snapshot().promotions).toBe(1)
    expect(planProblems(p.snapshot())).toEqual([])
  })

  it('clamps declared capacity to the ceiling and bounds depth', () => {
    const p = new TreePlanner({ root: ROOT, maxChildren: 1, maxDepth: 2 })
    p.handle({ type: 'join', relay: 'a', capacity: 50 }, 0)
    p.handle({ type: 'join', relay: 'b', capacity: 50 }, 0)
    const out = p.handle({ type: 'join', relay: 'c', capacity: 50 }, 0)
    expect(out.unplaced).toEqual(['c'])
    const plan = p.snapshot()
    expect(plan.relays.map((r) => [r.id, r.capacity, r.depth])).toEqual([['a', 1, 1], ['b', 1, 2], ['c', 1, undefined]])
  })

  it('moves orphans with their subtrees and updates every depth below them', () => {
    // A chain: home -> a -> b -> c -> d (equal capacities, so no joiner displaces another).
    const p = new TreePlanner({ root: ROOT, rootCapacity: 1, maxChildren: 1 })
    for (const id of ['a', 'b', 'c', 'd']) p.handle({ type: 'join', relay: id, capacity: 1 }, 0)
    expect(p.snapshot().relays.map((r) => r.depth)).toEqual([1, 2, 3, 4])
    const out = p.handle({ type: 'fail', relay: 'b' }, 10)
    expect(out.removed).toEqual(['b'])
    expect(out.assignments).toEqual([
      { relay: 'c', parent: 'a', standby: undefined, depth: 2 },
      { relay: 'd', parent: 'c', standby: undefined, depth: 3 },
    ])
    expect(planProblems(p.snapshot())).toEqual([])
  })

  it('moves an orphan to its standby when the standby still has room, before a shallower free slot', () => {
    const p = new TreePlanner({ root: ROOT, rootCapacity: 2, maxChildren: 3 })
    p.handle({ type: 'join', relay: 'a', capacity: 2 }, 0)
    p.handle({ type: 'join', relay: 'b', capacity: 2 }, 0)
    const joined = p.handle({ type: 'join', relay: 'c', capacity: 0 }, 0)
    expect(joined.assignments).toEqual([{ relay: 'c', parent: 'a', standby: 'b', depth: 2 }])
    const out = p.handle({ type: 'leave', relay: 'a' }, 0)
    // The root has a free slot now, but c was told b and may already be subscribed there.
    expect(out.assignments.find((x) => x.relay === 'c')).toEqual({ relay: 'c', parent: 'b', standby: ROOT, depth: 2 })
    expect(planProblems(p.snapshot())).toEqual([])
  })

  it('keeps the depth bound when an orphan takes its standby: a standby too deep for the subtree is passed over', () => {
    const p = new TreePlanner({ root: ROOT, maxChildren: 2, maxDepth: 3, rootCapacity: 2 })
    p.handle({ type: 'join', relay: 'a', capacity: 2 }, 0)
    p.handle({ type: 'heartbeat', relay: 'a', load: load(1) }, 0)
    for (const [id, capacity] of [['b', 1], ['c', 1], ['d', 1], ['e', 0]] as const) p.handle({ type: 'join', relay: id, capacity }, 0)
    // home -> a -> {d, e}, home -> b -> c. The root's children have no standby
    // (every other node is under the root); d and e stand by on c (depth 2),
    // outside a's subtree: not on each other, siblings that lose a together.
    expect(p.snapshot().relays.map((r) => [r.id, r.parent, r.standby])).toEqual([
      ['a', ROOT, undefined], ['b', ROOT, undefined], ['c', 'b', 'd'], ['d', 'a', 'c'], ['e', 'a', 'c'],
    ])
    const out = p.handle({ type: 'fail', relay: 'a' }, 0)
    // d takes its standby c (depth 3 is within the bound), though the root
    // has a free slot; e's standby c is full then, so e takes the root's
    // slot; c's standby d is now below it, so c has none (c's line).
    expect(out.assignments).toEqual([
      { relay: 'c', parent: 'b', standby: undefined, depth: 2 },
      { relay: 'd', parent: 'c', standby: undefined, depth: 3 },
      { relay: 'e', parent: ROOT, standby: undefined, depth: 1 },
    ])
    expect(planProblems(p.snapshot())).toEqual([])
  })

  it('places an unplaced relay once room appears', () => {
    // Equal capacities, and depth 1 is the bound: b cannot displace a, it waits.
    const p = new TreePlanner({ root: ROOT, rootCapacity: 1, maxDepth: 1 })
    p.handle({ type: 'join', relay: 'a', capacity: 3 }, 0)
    expect(p.handle({ type: 'join', relay: 'b', capacity: 3 }, 0).unplaced).toEqual(['b'])
    expect(p.snapshot().unplaced).toEqual(['b'])
    const out = p.handle({ type: 'leave', relay: 'a' }, 0)
    expect(out).toEqual({ assignments: [{ relay: 'b', parent: ROOT, standby: undefined, depth: 1 }], unplaced: [], removed: ['a'], deadline: 3000 })
  })

  it('fails a silent relay at the deadline it returned, and a heartbeat moves the deadline', () => {
    const p = new TreePlanner({ root: ROOT })
    expect(p.handle({ type: 'join', relay: 'a', capacity: 3 }, 1000).deadline).toBe(4000)
    expect(p.handle({ type: 'join', relay: 'b', capacity: 3 }, 2000).deadline).toBe(4000)
    expect(p.handle({ type: 'heartbeat', relay: 'a', load: load() }, 2500).deadline).toBe(5000)
    expect(p.handle({ type: 'tick' }, 4999)).toEqual({ assignments: [], unplaced: [], removed: [], deadline: 5000 })
    const out = p.handle({ type: 'tick' }, 5000)
    expect(out.removed).toEqual(['b'])
    expect(out.deadline).toBe(5500)
    expect(p.handle({ type: 'tick' }, 5500)).toEqual({ assignments: [], unplaced: [], removed: ['a'], deadline: undefined })
    expect(p.snapshot().timeouts).toBe(2)
  })

  it('gives a suspected relay no new child until it is heard from again', () => {
    // b (capacity 3) could not displace a (capacity 3) anyway; a suspected parent also bars a swap below it.
    const p = new TreePlanner({ root: ROOT, rootCapacity: 1 })
    p.handle({ type: 'join', relay: 'a', capacity: 3 }, 0)
    p.handle({ type: 'suspect', relay: 'a' }, 10)
    expect(p.handle({ type: 'join', relay: 'b', capacity: 3 }, 20).unplaced).toEqual(['b'])
    const out = p.handle({ type: 'heartbeat', relay: 'a', load: load() }, 30)
    expect(out.assignments).toEqual([{ relay: 'b', parent: 'a', standby: undefined, depth: 2 }])
  })

  it('ignores and counts remote input naming an unknown relay; refuses bad shapes and impossible requests', () => {
    const p = new TreePlanner({ root: ROOT })
    const none = { assignments: [], unplaced: [], removed: [], deadline: undefined }
    expect(p.handle({ type: 'heartbeat', relay: 'ghost', load: load() }, 0)).toEqual(none)
    expect(p.handle({ type: 'fail', relay: 'ghost' }, 0)).toEqual(none)
    expect(p.handle({ type: 'leave', relay: 'ghost' }, 0)).toEqual(none)
    expect(p.snapshot().ignored).toEqual({ heartbeat: 1, leave: 1, fail: 1, suspect: 0 })
    const code = (f: () => unknown): string | undefined => { try { f() } catch (err) { return isFabricError(err) ? err.code : 'other' } }
    expect(code(() => p.handle({ type: 'join', relay: 'a', capacity: -1 }, 0))).toBe('MALFORMED')
    expect(code(() => p.handle({ type: 'join', relay: 'a', capacity: 1.5 }, 0))).toBe('MALFORMED')
    expect(code(() => p.handle({ type: 'join', relay: '', capacity: 1 }, 0))).toBe('MALFORMED')
    expect(code(() => p.handle({ type: 'tick' }, Number.NaN))).toBe('MALFORMED')
    expect(code(() => p.handle({ type: 'heartbeat', relay: 'a', load: load(-5) }, 0))).toBe('MALFORMED')
    expect(code(() => p.handle({ type: 'nap' } as unknown as PlannerInput, 0))).toBe('MALFORMED')
    expect(code(() => p.handle({ type: 'fail', relay: ROOT }, 0))).toBe('INVALID_STATE')
    p.handle({ type: 'join', relay: 'a', capacity: 1 }, 0)
    expect(code(() => p.handle({ type: 'join', relay: 'a', capacity: 1 }, 0))).toBe('INVALID_STATE')
    expect(code(() => new TreePlanner({ root: ROOT, maxChildren: 0 }))).toBe('MALFORMED')
    expect(code(() => new TreePlanner({ root: ROOT, heartbeatTimeoutMs: -1 }))).toBe('MALFORMED')
    expect(code(() => new TreePlanner({ root: '' }))).toBe('MALFORMED')
  })

  it('treats a clock that steps back as standing still', () => {
    const p = new TreePlanner({ root: ROOT })
    p.handle({ type: 'join', relay: 'a', capacity: 1 }, 5000)
    expect(p.handle({ type: 'tick' }, 1000).deadline).toBe(8000)
    expect(p.snapshot().nowMs).toBe(5000)
  })

  it('reports intended against actual fan-out per node, as JSON', () => {
    const p = new TreePlanner({ root: ROOT, rootCapacity: 1 })
    p.handle({ type: 'join', relay: 'a', capacity: 2 }, 0)
    p.handle({ type: 'join', relay: 'b', capacity: 0 }, 0)
    p.handle({ type: 'join', relay: 'c', capacity: 0 }, 0)
    p.handle({ type: 'heartbeat', relay: ROOT, load: { framesForwarded: 300, bytesForwarded: 9000, childrenServed: 1 } }, 500)
    p.handle({ type: 'heartbeat', relay: 'a', load: { framesForwarded: 300, bytesForwarded: 9000, childrenServed: 1 } }, 1000)
    const r = meshReport(p.snapshot(), 1500)
    expect(JSON.parse(JSON.stringify(r))).toEqual(r)
    expect(r).toMatchObject({ root: ROOT, relays: 3, depth: 2, largestFanOut: 2, unplaced: [], fedRatio: 2 / 3 })
    expect(r.nodes.map((n) => [n.id, n.intendedChildren, n.actualChildren, n.fedRatio, n.lastHeartbeatAgeMs])).toEqual([
      [ROOT, 1, 1, 1, null], ['a', 2, 1, 0.5, 500], ['b', 0, 0, null, 1500], ['c', 0, 0, null, 1500],
    ])
  })
})
