/**
 * Relay-tree planner simulation (issue 10, item 8): the sans-IO TreePlanner
 * (src/fabric/, rules in protocol/federation-planner.md) driven at 10, 100,
 * 1000 and 10000 relays, no network, no timers.
 *
 *   npx tsx bench/planner-sim.ts
 *
 * Per size and operator setting:
 *   - build: that many relays join one at a time, each declaring a capacity
 *     drawn uniformly from 1..maxChildren (seeded PRNG, so every run plans
 *     the same trees); the root feeds maxChildren;
 *   - then FAILURES times: one live relay, drawn at random, fails; its
 *     orphans are reassigned; then it joins again with a fresh capacity, so
 *     the population stays at N (the rejoin is timed as a join, not counted
 *     as moves).
 * Figures: deepest depth and mean depth of placed relays, largest fan-out,
 * relays left unplaced (the bounds admit no more), moves per failure =
 * relays whose parent changed (the failed relay's children, plus any subtree
 * split to fit), depth changes per failure = relays whose depth changed
 * (moved subtrees included), the share of orphans that moved to the standby
 * they had been told, promotions (a joiner taking a smaller relay's place,
 * protocol/federation-planner.md section 4) and the relays they moved per
 * join, and CPU time per planner decision (handle call): mean per join, mean
 * and p99 per failure.
 *
 * Time stands still during the build and advances 1 ms per failure, far
 * below the heartbeat timeout: timeouts are the property tests' business
 * (test/fabric/planner.test.ts), not this simulation's.
 *
 * Environment (optional): PLANNER_SIM_SEED (default 1), PLANNER_SIM_FAILURES
 * (default 100), PLANNER_SIM_SIZES (comma-separated relay counts).
 */
import { TreePlanner, type PlannerInput, type PlannerOutput } from '../src/fabric/index.js'
import { machineInfo, percentile, report, type Target } from './lib/report.js'

const [SEED] = envIntegers('PLANNER_SIM_SEED', [1], 1)
const [FAILURES] = envIntegers('PLANNER_SIM_FAILURES', [100], 1)
const SIZES = envIntegers('PLANNER_SIM_SIZES', [10, 100, 1000, 10000], 2)

/** A comma-separated list of integers >= `min` from the environment, or `fallback` when unset. */
function envIntegers (name: string, fallback: number[], min: number): number[] {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const values = raw.split(',').map(Number)
  if (values.some((n) => !Number.isInteger(n) || n < min)) throw new RangeError(`${name} must list integers >= ${min}, got ${raw}`)
  return values
}

/** Operator settings simulated: the defaults, then the two ways past their 1092-relay limit. */
const SETTINGS = [
  { name: 'defaults', maxChildren: 3, maxDepth: 6 },
  { name: 'depth 16', maxChildren: 3, maxDepth: 16 },
  { name: 'fan-out 8', maxChildren: 8, maxDepth: 6 },
]

/** CIRIS's relay-tree simulation depths at 10/100/1000 peers (issue 10). */
const CIRIS_DEPTH = new Map([[10, 2], [100, 4], [1000, 5]])

/** A small seeded PRNG (xorshift32): the simulation must plan the same trees on every run. */
function prng (seed: number): () => number {
  let s = (seed * 0x9e3779b9) >>> 0 || 1
  return () => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s / 2 ** 32
  }
}

interface Mirror { parent: string | undefined, depth: number | undefined, standby: string | undefined }

/** The plan rebuilt from outputs alone, as a relay-facing shell would hold it. */
function apply (mirror: Map<string, Mirror>, out: PlannerOutput): void {
  for (const id of out.removed) mirror.delete(id)
  for (const a of out.assignments) mirror.set(a.relay, { parent: a.parent, depth: a.depth, standby: a.standby })
  for (const id of out.unplaced) mirror.set(id, { parent: undefined, depth: undefined, standby: undefined })
}

/** CPU µs one call took (user + system, as bench/seal.ts measures). */
function timed (fn: () => PlannerOutput): { out: PlannerOutput, us: number } {
  const before = process.cpuUsage()
  const out = fn()
  const used = process.cpuUsage(before)
  return { out, us: used.user + used.system }
}

function simulate (n: number, setting: typeof SETTINGS[number], seed: number): Record<string, unknown> {
  const random = prng(seed)
  const capacity = (): number => 1 + Math.floor(random() * setting.maxChildren)
  const planner = new TreePlanner({ root: 'home', maxChildren: setting.maxChildren, maxDepth: setting.maxDepth })
  const mirror = new Map<string, Mirror>()
  const ids = Array.from({ length: n }, (_, i) => `relay-${String(i).padStart(5, '0')}`)
  const handle = (input: PlannerInput, now: number): { out: PlannerOutput, us: number } => {
    const r = timed(() => planner.handle(input, now))
    apply(mirror, r.out)
    return r
  }

  let joinUs = 0
  let joins = 0
  const joinMoves: number[] = []
  const join = (id: string, now: number): void => {
    const { out, us } = timed(() => planner.handle({ type: 'join', relay: id, capacity: capacity() }, now))
    joinUs += us
    joins++
    joinMoves.push(out.assignments.filter((a) => {
      const was = mirror.get(a.relay)?.parent
      return was !== undefined && was !== a.parent
    }).length)
    apply(mirror, out)
  }
  for (const id of ids) join(id, 0)
  const built = planner.snapshot()
  const placed = built.relays.filter((r) => r.depth !== undefined)
  const depth = Math.max(0, ...placed.map((r) => r.depth!))
  const meanDepth = placed.reduce((a, r) => a + r.depth!, 0) / Math.max(1, placed.length)
  const largestFanOut = Math.max(built.root.children.length, ...built.relays.map((r) => r.children.length))

  const failUs: number[] = []
  const moves: number[] = []
  const depthChanges: number[] = []
  let orphans = 0
  let toStandby = 0
  let now = 0
  for (let f = 0; f < FAILURES; f++) {
    const victim = ids[Math.floor(random() * n)]
    const before = new Map([...mirror].map(([id, m]) => [id, m] as const))
    const children = [...before].filter(([, m]) => m.parent === victim).map(([id, m]) => ({ id, standby: m.standby }))
    const { out, us } = handle({ type: 'fail', relay: victim }, ++now)
    failUs.push(us)
    let moved = 0
    let deeper = 0
    for (const a of out.assignments) {
      const was = before.get(a.relay)
      if (was?.parent !== undefined && was.parent !== a.parent) moved++
      if (was?.depth !== undefined && was.depth !== a.depth) deeper++
    }
    moves.push(moved)
    depthChanges.push(deeper)
    orphans += children.length
    for (const c of children) if (c.standby !== undefined && mirror.get(c.id)?.parent === c.standby) toStandby++
    join(victim, now)
  }
  const final = planner.snapshot()
  return {
    setting: setting.name,
    relays: n,
    placed: placed.length,
    unplaced: built.unplaced.length,
    depth,
    'mean depth': meanDepth,
    'largest fan-out': largestFanOut,
    'moves/failure': moves.reduce((a, b) => a + b, 0) / moves.length,
    'max moves': Math.max(...moves),
    'depth changes/failure': depthChanges.reduce((a, b) => a + b, 0) / depthChanges.length,
    'to standby %': orphans === 0 ? '' : 100 * toStandby / orphans,
    promotions: final.promotions,
    'moves/join': joinMoves.reduce((a, b) => a + b, 0) / joinMoves.length,
    'max join moves': Math.max(...joinMoves),
    'join µs': joinUs / joins,
    'fail µs': failUs.reduce((a, b) => a + b, 0) / failUs.length,
    'fail p99 µs': percentile(failUs, 99),
    'unplaced after': final.unplaced.length,
  }
}

async function main (): Promise<void> {
  const started = Date.now()
  const rows: Array<Record<string, unknown>> = []
  for (const setting of SETTINGS) for (const n of SIZES) rows.push(simulate(n, setting, SEED))

  const targets: Target[] = []
  for (const [n, ciris] of CIRIS_DEPTH) {
    const row = rows.find((r) => r.setting === 'defaults' && r.relays === n)
    if (row === undefined) continue
    targets.push({
      name: `tree depth at ${n} relays no deeper than CIRIS's simulation (${ciris})`,
      met: (row.depth as number) <= ciris && row.unplaced === 0,
      figure: `depth ${String(row.depth)}, ${String(row.unplaced)} unplaced, capacities 1..3 (CIRIS's peer capacities are not published)`,
      // Depth d holds at most 3 + 9 + ... + 3^d relays under a ceiling of 3 children.
      ...((3 ** (ciris + 1) - 3) / 2 < n ? { reason: `a ceiling of 3 children holds at most ${(3 ** (ciris + 1) - 3) / 2} relays within depth ${ciris}` } : {}),
    })
  }
  const notes = [
    `seed ${SEED}; ${FAILURES} failures per row, each followed by a rejoin of the failed relay; capacities uniform in 1..maxChildren, root capacity maxChildren`,
    'moves/join = relays already placed whose parent changed in a join\'s output (promotions: the displaced relay and its children); moves/failure = relays whose parent changed in the failure\'s output; depth changes/failure = relays whose depth changed (whole moved subtrees); to standby % = orphans that landed on the standby they had been told',
    'µs = process CPU time (user + system) of one handle call, including the planner\'s change journal; join µs averages the build and the rejoins',
    `the defaults (maxChildren 3, maxDepth 6) hold at most ${(3 ** 7 - 1) / 2 - 1} relays below the root; relays beyond what the drawn capacities admit stay unplaced (reported, placed when room appears)`,
    `wall time ${((Date.now() - started) / 1000).toFixed(1)} s`,
  ]
  await report({
    bench: 'planner-sim',
    machine: machineInfo(),
    params: { seed: SEED, failures: FAILURES, sizes: SIZES, settings: SETTINGS },
    rows,
    targets,
    notes,
  })
}

await main()
