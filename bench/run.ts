/**
 * `npm run bench`: every benchmark, one after another (each in its own
 * process so they never share a CPU with each other), results under
 * results/. Set BENCH_QUICK=1 for a short smoke run; pass names to run a
 * subset: `npm run bench -- seal fanout`.
 */
import { spawnSync } from 'node:child_process'
import { REPO_ROOT } from '../src/cli/processes.js'

const ALL = ['seal', 'joins', 'fanout', 'two-hop', 'tree-fanout', 'planner-sim', 'heal', 'survival', 'web']
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL
let failed = 0
for (const name of chosen) {
  if (!ALL.includes(name)) throw new Error(`unknown benchmark ${name}; choose from ${ALL.join(', ')}`)
  process.stdout.write(`\n### bench/${name}.ts\n`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { cwd: REPO_ROOT, stdio: 'inherit' })
  if (r.status !== 0) failed++
  if (name === 'fanout' && r.status === 0) spawnSync(process.execPath, ['--import', 'tsx', 'bench/charts.ts'], { cwd: REPO_ROOT, stdio: 'inherit' })
}
process.exit(failed === 0 ? 0 : 1)
