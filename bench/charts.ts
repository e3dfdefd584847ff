/**
 * Draws the fan-out curves from results/fanout-latest.json as SVG:
 * results/fanout-egress.svg (zero-loss egress by N, relay vs raw baseline) and
 * results/fanout-latency.svg (paced p99 added latency by N).
 *
 *   npx tsx bench/charts.ts [OUT_DIR] [RESULT_JSON]
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { lineChart } from './lib/chart.js'
import { RESULTS_DIR } from './lib/report.js'

type Row = Record<string, number | string>
const out = process.argv[2] ?? RESULTS_DIR
const input = process.argv[3] ?? join(RESULTS_DIR, 'fanout-latest.json')
const rows = (JSON.parse(await readFile(input, 'utf8')) as { rows: Row[] }).rows
const curve = (mode: string, via: string, key: string): Array<[number, number]> =>
  rows.filter((r) => (r.phase ?? r.mode) === mode && r.via === via).map((r) => [Number(r.N), Number(r[key])])

await writeFile(join(out, 'fanout-egress.svg'), lineChart({
  title: 'Zero-loss fan-out throughput: egress by subscribers (one run)',
  xLabel: 'subscribers N (log scale)',
  yLabel: 'egress MB/s',
  series: [
    { name: 'fabric-node (sealed per subscriber)', points: curve('unpaced', 'relay', 'egress MB/s') },
    { name: 'raw libp2p baseline', points: curve('unpaced', 'raw', 'egress MB/s') },
    { name: 'raw libp2p, gathered socket writes', points: curve('unpaced', 'raw-gather', 'egress MB/s') },
  ].filter((s) => s.points.length > 0),
}))
await writeFile(join(out, 'fanout-latency.svg'), lineChart({
  title: 'Paced fan-out (30 fps, 2.5 Mbit/s): p99 added latency',
  xLabel: 'subscribers N (log scale)',
  yLabel: 'p99 latency, ms',
  series: [
    { name: 'fabric-node', points: curve('paced', 'relay', 'p99 ms') },
    { name: 'raw libp2p baseline', points: curve('paced', 'raw', 'p99 ms') },
    { name: 'probe members (full path)', points: curve('paced', 'relay', 'probe p99 ms') },
  ],
}))
process.stdout.write(`charts written to ${out}\n`)
