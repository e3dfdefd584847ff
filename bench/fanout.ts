/**
 * Fan-out benchmark: one publisher, N subscribers, through a fabric node
 * (separate process) and, in the same run, through the raw baseline (the
 * same chunks over plain libp2p streams, no sealing, no relay core).
 *
 *   npx tsx bench/fanout.ts            (BENCH_QUICK=1 for a short smoke run)
 *
 * Load subscribers live in other processes (trusted-relay subscriptions:
 * they open the link seal but skip SFrame, like a downstream relay); two
 * probe members run the full member path for latency. Every phase is
 * bounded in time.
 */
import '../src/polyfill.js'
import { join } from 'node:path'
import { REPO_ROOT, nodeStats, sleep, spawnTs, startNodeProcess, type Proc, type ProcEvent } from '../src/cli/processes.js'
import { benchPeerId } from './lib/keys.js'
import { machineInfo, percentile, report, type Target } from './lib/report.js'

const QUICK = process.env.BENCH_QUICK === '1'
const SIZES = process.env.FANOUT_SIZES !== undefined ? process.env.FANOUT_SIZES.split(',').map(Number) : QUICK ? [1, 10, 100] : [1, 10, 100, 300]
const MEASURE_S = QUICK ? 3 : 5
const PER_LOAD_PROCESS = 100
const PROBES = 2
const CLIP = join(REPO_ROOT, 'fixtures', 'media', 'alice.ivf')

interface RunFigures {
  mode: 'paced' | 'unpaced'
  target: 'relay' | 'raw'
  n: number
  seconds: number
  publishedFps: number
  deliveredFps: number
  egressMBps: number
  /** Server CPU seconds per delivered GB. */
  cpuSPerGB: number
  /** Server CPU fraction of one core. */
  cpuCores: number
  rssMiB: number
  p50ms: number
  p99ms: number
  maxms: number
  probeP50ms: number
  probeP99ms: number
  drops: number
  starvedSubscribers: number
  failedOpens: number
}

async function waitReady (p: Proc, what: string, timeoutMs = 120_000): Promise<ProcEvent> {
  return await p.waitFor((e) => e.event === 'ready', timeoutMs, what)
}

async function collect (procs: Proc[], cmd: string, event: string): Promise<ProcEvent[]> {
  const before = procs.map((p) => p.events.length)
  for (const p of procs) p.send(cmd)
  return await Promise.all(procs.map(async (p, i) => await p.waitFor((e) => e.event === event && p.events.indexOf(e) >= before[i], 60_000, event)))
}

/** One measured run against the node ('relay') or the baseline ('raw'). */
async function run (target: 'relay' | 'raw', mode: 'paced' | 'unpaced', n: number): Promise<RunFigures> {
  const procs: Proc[] = []
  const stream = `bench-${mode}-${n}`
  const loads = Math.ceil(n / PER_LOAD_PROCESS)
  const labels = Array.from({ length: loads }, (_, i) => `load-${i}`)
  try {
    let addr: string
    let server: Proc
    let adminUrl: string | undefined
    if (target === 'relay') {
      const trusted = await Promise.all(labels.map(benchPeerId))
      const node = await startNodeProcess({ extra: trusted.flatMap((id) => ['--trusted-relay', id]) })
      server = node.proc
      addr = node.addr
      adminUrl = node.adminUrl
    } else {
      server = spawnTs('raw-server', 'bench/lib/raw-server.ts', [])
      addr = (await waitReady(server, 'raw server')).addr as string
    }
    procs.push(server)
    const publisher = spawnTs('publisher', 'bench/lib/publisher.ts', ['--addr', addr, '--stream', stream, '--mode', target, '--clip', CLIP])
    procs.push(publisher)
    await waitReady(publisher, 'publisher')
    const loaders = labels.map((label, i) => spawnTs(label, 'bench/lib/load-subscribers.ts', [
      '--addr', addr, '--stream', stream, '--mode', target, '--label', label,
      '--count', String(Math.min(PER_LOAD_PROCESS, n - i * PER_LOAD_PROCESS)),
    ]))
    procs.push(...loaders)
    const probes = target === 'relay'
      ? [spawnTs('probes', 'bench/lib/load-subscribers.ts', ['--addr', addr, '--stream', stream, '--mode', 'probe', '--count', String(PROBES)])]
      : []
    procs.push(...probes)
    const ready = await Promise.all([...loaders, ...probes].map(async (p) => await waitReady(p, p.name)))
    ready.forEach((e, i) => {
      if (((e.failedOpens as number | undefined) ?? 0) > 0) process.stderr.write(`fanout: ${[...loaders, ...probes][i].name}: ${String(e.failedOpens)} subscriptions failed: ${[...loaders, ...probes][i].stderr.split('\n')[0]}\n`)
    })

    // Warm up, then measure a window.
    publisher.send(`${mode} ${MEASURE_S + 2}`)
    await sleep(1_500)
    const cpu0 = target === 'relay' ? (await nodeStats(adminUrl!)).cpu : (await collect([server], 'stats', 'stats'))[0].cpu
    const t0 = performance.now()
    for (const p of [...loaders, ...probes]) p.send('reset')
    await sleep(MEASURE_S * 1000)
    const reports = await collect(loaders, 'report', 'report')
    const probeReports = probes.length > 0 ? await collect(probes, 'report', 'report') : []
    const seconds = (performance.now() - t0) / 1000
    const stats = target === 'relay' ? await nodeStats(adminUrl!) : (await collect([server], 'stats', 'stats'))[0]
    const cpu1 = stats.cpu as { user: number, system: number }
    const done = await publisher.waitFor((e) => e.event === 'done', 60_000, 'done')

    const frames = reports.reduce((s, r) => s + (r.frames as number), 0)
    const bytes = reports.reduce((s, r) => s + (r.bytes as number), 0)
    const lat = reports.flatMap((r) => r.latencies as number[])
    const probeLat = probeReports.flatMap((r) => r.latencies as number[])
    const cpuS = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / 1e6
    const drops = target === 'relay'
      ? (stats.relay.subscribers as Array<{ dropped: number }>).reduce((s, x) => s + x.dropped, 0)
      : stats.dropped as number
    return {
      mode,
      target,
      n,
      seconds,
      publishedFps: done.fps as number,
      deliveredFps: frames / seconds,
      egressMBps: bytes / seconds / 1e6,
      cpuSPerGB: bytes > 0 ? cpuS / (bytes / 1e9) : NaN,
      cpuCores: cpuS / seconds,
      rssMiB: (stats.memory.rss as number) / 2 ** 20,
      p50ms: percentile(lat, 50) / 1000,
      p99ms: percentile(lat, 99) / 1000,
      maxms: lat.length > 0 ? Math.max(...lat) / 1000 : NaN,
      probeP50ms: percentile(probeLat, 50) / 1000,
      probeP99ms: percentile(probeLat, 99) / 1000,
      drops,
      starvedSubscribers: reports.reduce((s, r) => s + ((r.minPerSub as number) === 0 ? 1 : 0), 0),
      failedOpens: reports.reduce((s, r) => s + ((r.failedOpens as number | undefined) ?? 0), 0),
    }
  } finally {
    for (const p of procs.reverse()) {
      if (p.name !== 'node') { try { p.send('quit') } catch {} }
      await p.stop('SIGTERM', 5_000)
    }
  }
}

/** Node RSS growth per idle subscription (no media flowing). */
async function idleMemory (n: number): Promise<{ perSubscriberKiB: number, heapPerSubscriberKiB: number }> {
  const labels = Array.from({ length: Math.ceil(n / PER_LOAD_PROCESS) }, (_, i) => `idle-${i}`)
  const trusted = await Promise.all(labels.map(benchPeerId))
  const node = await startNodeProcess({ extra: trusted.flatMap((id) => ['--trusted-relay', id]) })
  const procs: Proc[] = [node.proc]
  try {
    const publisher = spawnTs('publisher', 'bench/lib/publisher.ts', ['--addr', node.addr, '--stream', 'idle', '--mode', 'relay', '--clip', CLIP])
    procs.push(publisher)
    await waitReady(publisher, 'publisher')
    // A baseline with the loaders' connections open but no subscriptions would
    // need another mode; connections are counted in, which only overstates.
    await sleep(1_000)
    const before = await nodeStats(node.adminUrl)
    const loaders = labels.map((label, i) => spawnTs(label, 'bench/lib/load-subscribers.ts', [
      '--addr', node.addr, '--stream', 'idle', '--mode', 'relay', '--label', label, '--count', String(Math.min(PER_LOAD_PROCESS, n - i * PER_LOAD_PROCESS)),
    ]))
    procs.push(...loaders)
    await Promise.all(loaders.map(async (p) => await waitReady(p, p.name)))
    await sleep(2_000)
    const after = await nodeStats(node.adminUrl)
    return {
      perSubscriberKiB: (after.memory.rss - before.memory.rss) / n / 1024,
      heapPerSubscriberKiB: (after.memory.heapUsed - before.memory.heapUsed) / n / 1024,
    }
  } finally {
    for (const p of procs.reverse()) {
      if (p.name !== 'node') { try { p.send('quit') } catch {} }
      await p.stop('SIGTERM', 5_000)
    }
  }
}

const rows: Array<Record<string, unknown>> = []
const figures: RunFigures[] = []
for (const mode of ['unpaced', 'paced'] as const) {
  for (const n of SIZES) {
    for (const target of ['raw', 'relay'] as const) {
      process.stderr.write(`fanout: ${mode} N=${n} ${target}...\n`)
      const f = await run(target, mode, n)
      figures.push(f)
      const base = figures.find((x) => x.mode === mode && x.n === n && x.target === 'raw')
      rows.push({
        mode,
        N: n,
        via: target,
        'pub fps': f.publishedFps,
        'deliv fps': f.deliveredFps,
        'egress MB/s': f.egressMBps,
        'vs raw': target === 'relay' && base !== undefined ? f.egressMBps / base.egressMBps : 1,
        'cpu s/GB': f.cpuSPerGB,
        'cpu cores': f.cpuCores,
        'rss MiB': f.rssMiB,
        'p50 ms': f.p50ms,
        'p99 ms': f.p99ms,
        'max ms': f.maxms,
        'probe p99 ms': f.probeP99ms,
        drops: f.drops,
        'failed subs': f.failedOpens,
      })
    }
  }
}
const idleN = QUICK ? 100 : 300
const idle = await idleMemory(idleN)

const targets: Target[] = []
for (const n of SIZES.filter((x) => x >= 100)) {
  const relay = figures.find((x) => x.mode === 'unpaced' && x.n === n && x.target === 'relay')!
  const raw = figures.find((x) => x.mode === 'unpaced' && x.n === n && x.target === 'raw')!
  const ratio = relay.egressMBps / raw.egressMBps
  targets.push({ name: `relay egress at N=${n} >= 80% of raw libp2p`, met: ratio >= 0.8, figure: `${(ratio * 100).toFixed(0)}% (${relay.egressMBps.toFixed(1)} vs ${raw.egressMBps.toFixed(1)} MB/s)` })
}
const pacedMax = figures.filter((x) => x.mode === 'paced' && x.target === 'relay').sort((a, b) => b.n - a.n)[0]
const perCore = pacedMax.n / pacedMax.cpuCores
targets.push({ name: '>= 500 paced 2.5 Mbit/s subscribers per core of node CPU', met: perCore >= 500, figure: `${perCore.toFixed(0)} per core (N=${pacedMax.n} used ${pacedMax.cpuCores.toFixed(2)} cores)` })
targets.push({ name: 'paced p99 added latency <= 50 ms', met: pacedMax.p99ms <= 50, figure: `${pacedMax.p99ms.toFixed(1)} ms at N=${pacedMax.n} (probe members ${pacedMax.probeP99ms.toFixed(1)} ms)` })
const pacedDrops = figures.filter((x) => x.mode === 'paced' && x.target === 'relay').reduce((s, x) => s + x.drops, 0)
targets.push({ name: 'no drops on healthy paced subscribers', met: pacedDrops === 0, figure: `${pacedDrops} drops` })
targets.push({ name: 'node memory per idle subscriber <= 64 KiB', met: idle.perSubscriberKiB <= 64, figure: `${idle.perSubscriberKiB.toFixed(1)} KiB RSS, ${idle.heapPerSubscriberKiB.toFixed(1)} KiB heap (N=${idleN})` })

await report({
  bench: 'fanout',
  machine: machineInfo(),
  params: { sizes: SIZES, measureSeconds: MEASURE_S, perLoadProcess: PER_LOAD_PROCESS, probes: PROBES, clip: 'alice.ivf scaled to 2.5 Mbit/s at 30 fps', quick: QUICK },
  rows,
  targets,
  notes: [
    'all processes share this 2-core machine: the node competes with the publisher and the load processes for CPU',
    'latency = subscriber receive time minus the publisher send timestamp in the chunk (one clock)',
  ],
})
process.exit(0)
