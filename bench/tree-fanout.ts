/**
 * Fan-out through a two-level relay tree of a fabric: publisher -> node A
 * (the stream's home) -> edge nodes B, C, D -> subscribers, paced at 30 fps
 * and 2.5 Mbit/s. The four nodes hold one fabric key; the edges bootstrap
 * from A and join the stream's relay tree under A by themselves when a
 * subscription for it arrives (they locate A through the fabric DHT).
 * Subscribers on A in the same run give the latency the A -> edge hop adds
 * (the edges' minus A's), as bench/two-hop.ts does for a legacy --upstream hop.
 *
 *   npx tsx bench/tree-fanout.ts      (BENCH_QUICK=1 for a short run;
 *                                      TREE_PER_NODE=N subscribers per node)
 *
 * Each node has TREE_PER_NODE load subscribers (trusted relays, one load
 * process per node) and one probe member (the full member path: MLS join
 * through its own node, link seal, SFrame). The probes are also what keeps
 * the edges in the tree: an edge lets a stream go after two link sweeps
 * (15 s each) without a member channel, and trusted-relay subscriptions do
 * not count as member channels (src/node/fabric/stream-links.ts, `sweep`).
 */
import '../src/polyfill.js'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { locateStream } from '../src/client/directory-client.js'
import { REPO_ROOT, nodeStats, sleep, spawnTs, type Proc, type ProcEvent } from '../src/cli/processes.js'
import { libp2pDialer } from '../src/transport/libp2p/dialer.js'
import { createHost } from '../src/transport/libp2p/host.js'
import { throughRelay } from '../src/transport/libp2p/relay.js'
import { benchPeerId } from './lib/keys.js'
import { machineInfo, max, percentile, report } from './lib/report.js'

const QUICK = process.env.BENCH_QUICK === '1'
const PER_NODE = Number(process.env.TREE_PER_NODE ?? (QUICK ? 5 : 20))
const MEASURE_S = QUICK ? 3 : 6
/** The publisher runs this long before the window opens (two-hop's 1.5 s). */
const WARMUP_S = 1.5
const STREAM = 'tree-fanout'
const EDGES = ['B', 'C', 'D'] as const
/** How long the edges may take to locate the stream at A, and a probe to join. */
const SETUP_TIMEOUT_MS = 60_000
/** Attempts of a probe member's join (its process exits on a refusal; it is started again). */
const PROBE_ATTEMPTS = 3
/**
 * As in bench/two-hop.ts: a node cuts a peer whose liveness pong is 5 s late
 * by default, and a bench node's event loop (and its peers') can stall for
 * seconds on this shared machine. For the same reason the home fails a relay
 * whose tree heartbeats stop for 30 s, not the default 1.5 s: a loaded run
 * otherwise moves edges during the window (seen at load 9), and this bench
 * measures the steady tree, not healing (bench/heal.ts does). The tree keeps
 * its other defaults: up to 3 children per node, so B, C, D all sit under A.
 */
const NODE_ARGS = ['--liveness-timeout-ms', '30000', '--tree-heartbeat-timeout-ms', '30000']

if (!Number.isInteger(PER_NODE) || PER_NODE < 1) throw new Error(`TREE_PER_NODE must be a positive integer, not ${process.env.TREE_PER_NODE}`)

interface BenchNode { name: string, proc: Proc, peerId: string, addr: string, adminUrl: string, adminToken: string }

const dir = await mkdtemp(join(tmpdir(), 'fabric-bench-tree-fanout-'))
const procs: Proc[] = []
let probeHost: Libp2p | undefined

/**
 * Starts `fabric-node start --json` as src/cli/processes.ts startNodeProcess
 * does, but records the process before waiting for it, so the finally block
 * stops it even when it never gets ready.
 */
async function startNode (name: string, extra: string[]): Promise<BenchNode> {
  const proc = spawnTs(`node-${name}`, 'src/cli/fabric-node.ts', ['start', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0', '--ephemeral', ...NODE_ARGS, ...extra])
  procs.push(proc)
  const ready = await proc.waitFor((e) => e.event === 'ready', 30_000, 'ready')
  const adminToken = (await readFile(ready.adminTokenFile as string, 'utf8')).trim()
  return { name, proc, peerId: ready.peerId as string, addr: (ready.multiaddrs as string[])[0], adminUrl: ready.adminUrl as string, adminToken }
}

/**
 * Waits until `edge` names `home` as the stream's home, asked as a member
 * asks (directly, then through the edge's relay slot on the home, the way
 * a member's join reaches the home): a stream just created takes a moment
 * to be found through the fabric DHT.
 */
async function waitLocatable (host: Libp2p, edge: BenchNode, home: BenchNode, owner: string): Promise<number> {
  const t0 = Date.now()
  const deadline = t0 + SETUP_TIMEOUT_MS
  const via = multiaddr(edge.addr)
  let last = 'no answer yet'
  for (;;) {
    try {
      const direct = await locateStream(libp2pDialer(host, via), owner, STREAM, { timeoutMs: 3_000 })
      if (direct !== home.peerId) last = `${edge.name} located it at ${direct}`
      else {
        const relayed = await locateStream(libp2pDialer(host, throughRelay(via, home.peerId)), owner, STREAM, { timeoutMs: 3_000 })
        if (relayed === home.peerId) return Date.now() - t0
        last = `through ${edge.name}, located at ${relayed}`
      }
    } catch (err) {
      last = (err as Error).message
    }
    if (Date.now() > deadline) throw new Error(`${owner}/${STREAM} not located at ${home.name} from ${edge.name} within ${SETUP_TIMEOUT_MS} ms: ${last}`)
    await sleep(200)
  }
}

/** Starts one probe member on `node`, again when its join fails (it exits), up to PROBE_ATTEMPTS times. */
async function startProbe (node: BenchNode, owner: string): Promise<Proc> {
  for (let attempt = 1; ; attempt++) {
    const p = spawnTs(`probe-${node.name}`, 'bench/lib/load-subscribers.ts', ['--addr', node.addr, '--stream', STREAM, '--owner', owner, '--mode', 'probe', '--count', '1'])
    procs.push(p)
    try {
      await p.waitFor((e) => e.event === 'ready', SETUP_TIMEOUT_MS, 'ready')
      return p
    } catch (err) {
      await p.stop('SIGTERM', 5_000)
      if (attempt >= PROBE_ATTEMPTS) throw err
      process.stderr.write(`tree-fanout: probe on ${node.name} not in (attempt ${attempt}), again: ${(err as Error).message.split('\n')[0]}\n`)
      await sleep(1_000)
    }
  }
}

/** The connections `node` logged as ended in error so far, counted by error and reason ('' for none). */
function connectionErrors (node: Proc): string {
  const counts = new Map<string, number>()
  for (const line of node.stderr.split('\n')) {
    if (!line.includes('"connection.closed"')) continue
    let e: { error?: string, reason?: string }
    try { e = JSON.parse(line) as typeof e } catch { continue }
    if (e.error === undefined) continue
    const key = `${e.error} (${String(e.reason).slice(0, 100)})`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([k, n]) => `${n} x ${k}`).join(', ')
}

/** A subscriber group's figures over the window. */
interface Group { via: string, subscribers: number, expected: number, delivered: number, lat: number[] }

/** Frames the publisher stamped inside a report's window, times the report's subscriptions: what it should have delivered. */
function expectedOf (r: ProcEvent, stamps: number[]): number {
  const from = r.windowStartUs as number
  const to = r.windowEndUs as number
  return (r.count as number) * stamps.filter((t) => t >= from && t <= to).length
}

function group (via: string, reports: ProcEvent[], stamps: number[]): Group {
  return {
    via,
    subscribers: reports.reduce((s, r) => s + (r.count as number) - ((r.failedOpens as number | undefined) ?? 0), 0),
    expected: reports.reduce((s, r) => s + expectedOf(r, stamps), 0),
    delivered: reports.reduce((s, r) => s + (r.windowFrames as number), 0),
    lat: reports.flatMap((r) => r.latencies as number[]),
  }
}

function row (g: Group): Record<string, unknown> {
  return {
    via: g.via,
    subscribers: g.subscribers,
    delivered: g.delivered,
    lost: Math.max(0, g.expected - g.delivered),
    'p50 ms': percentile(g.lat, 50) / 1000,
    'p95 ms': percentile(g.lat, 95) / 1000,
    'p99 ms': percentile(g.lat, 99) / 1000,
    'max ms': max(g.lat) / 1000,
  }
}

try {
  const keyFile = join(dir, 'fabric.key')
  const loadIds = Object.fromEntries(await Promise.all(['A', ...EDGES].map(async (n) => [n, await benchPeerId(`tree-${n.toLowerCase()}`)] as const)))
  // A first: it creates the key file the edges then read.
  const a = await startNode('A', ['--fabric-key', keyFile, '--trusted-relay', loadIds.A])
  const edges = await Promise.all(EDGES.map(async (n) => await startNode(n, ['--fabric-key', keyFile, '--bootstrap', a.addr, '--trusted-relay', loadIds[n]])))
  const nodes = [a, ...edges]

  const publisher = spawnTs('publisher', 'bench/lib/publisher.ts', ['--addr', a.addr, '--stream', STREAM, '--mode', 'relay', '--clip', join(REPO_ROOT, 'fixtures', 'media', 'alice.ivf')])
  procs.push(publisher)
  // The stream is addressed by its owner (the publisher's identity) and name.
  const owner = (await publisher.waitFor((e) => e.event === 'ready', 60_000, 'publisher')).owner as string

  probeHost = await createHost({ listen: [] })
  const host = probeHost
  const locatedMs = await Promise.all(edges.map(async (e) => await waitLocatable(host, e, a, owner)))

  // Probe members first, one at a time (each join is a Commit at the home):
  // an edge joins the tree under A with its probe's media channel.
  const probes: Proc[] = []
  for (const n of nodes) probes.push(await startProbe(n, owner))
  const loaders = nodes.map((n) => spawnTs(`subs-${n.name}`, 'bench/lib/load-subscribers.ts', ['--addr', n.addr, '--stream', STREAM, '--owner', owner, '--mode', 'relay', '--label', `tree-${n.name.toLowerCase()}`, '--count', String(PER_NODE)]))
  procs.push(...loaders)
  const ready = await Promise.all(loaders.map(async (p) => await p.waitFor((e) => e.event === 'ready', SETUP_TIMEOUT_MS, p.name)))
  ready.forEach((e, i) => {
    if (((e.failedOpens as number | undefined) ?? 0) > 0) process.stderr.write(`tree-fanout: ${loaders[i].name}: ${String(e.failedOpens)} subscriptions failed: ${loaders[i].stderr.split('\n')[0]}\n`)
  })

  const stats0 = await Promise.all(nodes.map(async (n) => await nodeStats(n)))
  const all = [...loaders, ...probes]
  const published = publisher.events.length
  publisher.send(`paced ${MEASURE_S + 2} stamps`)
  await sleep(WARMUP_S * 1000)
  for (const p of all) p.send('reset')
  await sleep(MEASURE_S * 1000)
  for (const p of all) p.send('close')
  const done = await publisher.waitFor((e) => e.event === 'done' && publisher.events.indexOf(e) >= published, 30_000, 'done')
  // Frames stamped inside the window still in flight count when they arrive before the report.
  await sleep(1_000)
  for (const p of all) p.send('report')
  const loadReports = await Promise.all(loaders.map(async (p) => await p.waitFor((e) => e.event === 'report', 30_000, `${p.name} report`)))
  const probeReports = await Promise.all(probes.map(async (p) => await p.waitFor((e) => e.event === 'report', 30_000, `${p.name} report`)))
  const stats1 = await Promise.all(nodes.map(async (n) => await nodeStats(n)))
  const mesh = await (await fetch(`${a.adminUrl}/api/v1/mesh`, { headers: { authorization: `Bearer ${a.adminToken}` } })).json() as unknown

  const stamps = done.stampsUs as number[]
  const onA = group('publisher -> A -> subscriber', [loadReports[0]], stamps)
  const perEdge = edges.map((e, i) => group(`publisher -> A -> ${e.name} -> subscriber`, [loadReports[i + 1]], stamps))
  const onEdges = group('publisher -> A -> edge -> subscriber (B, C, D)', loadReports.slice(1), stamps)
  const probeA = group('probe member on A', [probeReports[0]], stamps)
  const probeEdges = group('probe members on B, C, D', probeReports.slice(1), stamps)
  const rows = [onA, ...perEdge, onEdges].map(row)
  const hop = (p: number): number => (percentile(onEdges.lat, p) - percentile(onA.lat, p)) / 1000
  rows.push({ via: 'added by the A -> edge hop', subscribers: onEdges.subscribers, delivered: NaN, lost: NaN, 'p50 ms': hop(50), 'p95 ms': hop(95), 'p99 ms': hop(99), 'max ms': NaN })
  rows.push(row(probeA), row(probeEdges))

  // The tree as the edges and the home saw it: each edge relays the stream from one parent.
  const fabricOf = (s: any): any => s.fabric ?? {} // eslint-disable-line @typescript-eslint/no-explicit-any
  const parents = stats1.slice(1).map((s) => fabricOf(s).links?.parents as number)
  const moves = stats1.slice(1).map((s, i) => (fabricOf(s).links?.moves as number) - (fabricOf(stats0[i + 1]).links?.moves as number))
  const trees = fabricOf(stats1[0]).trees as Record<string, number> | undefined
  const notes = [
    'A is the stream\'s home; B, C, D hold the same --fabric-key and --bootstrap from A; each edge joined the stream\'s relay tree under A by itself (located A through the fabric DHT) and re-seals every chunk per subscriber (protocol/link-seal.md)',
    `relay tree at the end: edges relaying from a parent ${parents.join(' / ')} (B / C / D); moves during the window ${moves.join(' / ')}; home's tree: ${trees === undefined ? 'n/a' : `${trees.relays} relays, depth ${trees.depth}, ${trees.timeouts} heartbeat timeouts`}`,
    `stream located at A from B / C / D after ${locatedMs.join(' / ')} ms; lost = frames stamped in the window (${stamps.length} published in all, ${(done.fps as number).toFixed(1)} fps) not delivered by the report, 1 s after the publisher stopped`,
    'one probe member per node (MLS join, link seal, SFrame) keeps each edge in the tree: trusted-relay subscriptions alone do not count as member channels, and an edge lets the stream go after two 15 s sweeps without one',
  ]
  if (parents.some((p) => p !== 1) || moves.some((m) => m !== 0)) notes.push('WARNING: the tree changed during the run; the figures mix paths')
  const dropped = nodes.map((n) => `${n.name}: ${connectionErrors(n.proc)}`).filter((x) => !x.endsWith(': '))
  if (dropped.length > 0) notes.push(`WARNING: connections ended in error during the run (a probe member on a dropped edge connection is removed from the stream): ${dropped.join('; ')}`)
  await report({
    bench: 'tree-fanout',
    machine: machineInfo(),
    params: { perNode: PER_NODE, edges: EDGES.length, probesPerNode: 1, measureSeconds: MEASURE_S, warmupSeconds: WARMUP_S, paced: '30 fps, 2.5 Mbit/s', quick: QUICK },
    rows,
    targets: [],
    notes,
    extra: { mesh, locatedMs, parents, moves, trees, published: stamps.length },
  })
} finally {
  await Promise.resolve(probeHost?.stop()).catch(() => {})
  for (const p of procs.reverse()) {
    const running = p.child.exitCode === null && p.child.signalCode === null
    if (running && !p.name.startsWith('node-')) { try { p.send('quit') } catch {} }
    await p.stop('SIGTERM', 5_000)
  }
  await rm(dir, { recursive: true, force: true })
}
process.exit(0)
