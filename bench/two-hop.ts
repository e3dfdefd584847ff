/**
 * Two hops: publisher -> node A -> node B -> subscribers, paced at 30 fps and
 * 2.5 Mbit/s. Subscribers on A and on B in the same run give the latency one
 * hop adds (B's minus A's), next to the publisher-to-A figure.
 *
 *   npx tsx bench/two-hop.ts          (BENCH_QUICK=1 for a short run)
 */
import '../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { REPO_ROOT, sleep, spawnTs, startNodeProcess, type Proc } from '../src/cli/processes.js'
import { loadOrCreatePeerKey } from '../src/transport/libp2p/host.js'
import { benchPeerId } from './lib/keys.js'
import { machineInfo, max, percentile, report } from './lib/report.js'

const QUICK = process.env.BENCH_QUICK === '1'
const PER_NODE = QUICK ? 5 : 20
const MEASURE_S = QUICK ? 3 : 6
const STREAM = 'two-hop'
/**
 * A node cuts a peer that leaves a liveness ping unanswered for 5 s by
 * default; a bench node's event loop (and its peers') can stall for seconds
 * on this shared machine, and a late pong reads as a dead peer. 30 s is what
 * members' hosts allow and what nodes allowed before the 5 s default. The
 * subscribers (and B, on A) are trusted relays, exempt from the
 * per-identity connection bound and allowed 4096 subscriptions per stream.
 */
const NODE_ARGS = ['--liveness-timeout-ms', '30000']

const dir = await mkdtemp(join(tmpdir(), 'fabric-bench-two-hop-'))
const procs: Proc[] = []
try {
  const bKey = await loadOrCreatePeerKey(join(dir, 'b'))
  const loadA = await benchPeerId('hop-a')
  const loadB = await benchPeerId('hop-b')
  const a = await startNodeProcess({ extra: [...NODE_ARGS, '--trusted-relay', peerIdFromPrivateKey(bKey).toString(), '--trusted-relay', loadA] })
  procs.push(a.proc)
  const b = await startNodeProcess({ dataDir: join(dir, 'b'), extra: [...NODE_ARGS, '--upstream', a.addr, '--trusted-relay', loadB] })
  procs.push(b.proc)
  const publisher = spawnTs('publisher', 'bench/lib/publisher.ts', ['--addr', a.addr, '--stream', STREAM, '--mode', 'relay', '--clip', join(REPO_ROOT, 'fixtures', 'media', 'alice.ivf')])
  procs.push(publisher)
  // The stream is addressed by its owner (the publisher's identity) and name.
  const owner = (await publisher.waitFor((e) => e.event === 'ready', 60_000, 'publisher')).owner as string
  const subsA = spawnTs('subs-a', 'bench/lib/load-subscribers.ts', ['--addr', a.addr, '--stream', STREAM, '--owner', owner, '--mode', 'relay', '--label', 'hop-a', '--count', String(PER_NODE)])
  const subsB = spawnTs('subs-b', 'bench/lib/load-subscribers.ts', ['--addr', b.addr, '--stream', STREAM, '--owner', owner, '--mode', 'relay', '--label', 'hop-b', '--count', String(PER_NODE)])
  procs.push(subsA, subsB)
  await Promise.all([subsA, subsB].map(async (p) => await p.waitFor((e) => e.event === 'ready', 60_000, p.name)))

  publisher.send(`paced ${MEASURE_S + 2}`)
  await sleep(1_500)
  subsA.send('reset')
  subsB.send('reset')
  await sleep(MEASURE_S * 1000)
  subsA.send('report')
  subsB.send('report')
  const [ra, rb] = await Promise.all([subsA, subsB].map(async (p) => await p.waitFor((e) => e.event === 'report', 30_000, 'report')))
  const la = ra.latencies as number[]
  const lb = rb.latencies as number[]
  const row = (via: string, lat: number[], frames: number) => ({
    via,
    subscribers: PER_NODE,
    frames,
    'p50 ms': percentile(lat, 50) / 1000,
    'p99 ms': percentile(lat, 99) / 1000,
    'max ms': max(lat) / 1000,
  })
  const rows = [row('publisher -> A -> subscriber', la, ra.frames as number), row('publisher -> A -> B -> subscriber', lb, rb.frames as number)]
  const hopP50 = (percentile(lb, 50) - percentile(la, 50)) / 1000
  const hopP99 = (percentile(lb, 99) - percentile(la, 99)) / 1000
  rows.push({ via: 'added by the A -> B hop', subscribers: PER_NODE, frames: 0, 'p50 ms': hopP50, 'p99 ms': hopP99, 'max ms': NaN })
  await report({
    bench: 'two-hop',
    machine: machineInfo(),
    params: { perNode: PER_NODE, measureSeconds: MEASURE_S, paced: '30 fps, 2.5 Mbit/s' },
    rows,
    targets: [],
    notes: ['node B pulls the stream from A as a trusted relay and re-seals it per subscriber (protocol/link-seal.md)'],
  })
} finally {
  for (const p of procs.reverse()) {
    if (p.name !== 'node') { try { p.send('quit') } catch {} }
    await p.stop('SIGTERM', 5_000)
  }
  await rm(dir, { recursive: true, force: true })
}
process.exit(0)
