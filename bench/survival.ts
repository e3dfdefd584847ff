/**
 * Survival: how long members of a stream go without each other's media when
 * their connection drops, when the node dies and comes back, and when the
 * committer dies or freezes; and how many frames they lose.
 *
 * Everything is a separate OS process: one `fabric-node` (its own data
 * directory, so it can restart with its state) and one `fabric join --json`
 * per member, each publishing a VP8 clip of fixtures/media in a loop (30 fps,
 * a keyframe every 30 frames). Members report what they decrypted through
 * their `stats` command on stdin, polled every POLL_MS during a measurement,
 * so a "first frame" time is the first poll that shows the count grew: it is
 * late by at most POLL_MS plus a stdin round trip. Times compare clocks of
 * processes of one machine (the bench's Date.now and the members' event `t`).
 *
 * (a) drop: alice (creator, --open), bob and carol, each dialling the node
 *     through its own TCP proxy in this process (127.0.0.1, port 0, the
 *     node's /p2p/ id after it). A drop resets every socket of one member's
 *     proxy and refuses (resets) new ones for DROP_MS; the member sees its
 *     connection reset and reconnects with its backoff (250 ms doubling to
 *     4 s). Only bob and carol are dropped (alternating), so the committer
 *     stays put. Measured from the drop's end: the member's `resumed` event,
 *     its first frame from every other sender after it, and every other
 *     member's first frame from it; and how long the successful reconnect
 *     attempt itself took (from the end of its backoff wait to `resumed`:
 *     dial, resume, Commit replay, media reopened). Frames lost: growth of
 *     `lostBySender` (sequence gaps) from just before the drop to 1 s after
 *     recovery, per (receiver, sender); `droppedAway`: frames the dropped
 *     member's own track did not send while away.
 * (b) node kill -9, then at once `fabric-node start` again on the same
 *     --data-dir and port: from the restart command to every member having
 *     decrypted a frame of every other sender after its own `resumed`.
 * (c) committer handover, on a fresh stream of three members on the same
 *     node (default --liveness-timeout-ms, 5000): kill -9 or SIGSTOP of the
 *     current committer (alternating), and at once a joiner is started. From
 *     the signal to the first `committer` event with self=true at another
 *     member, and to the joiner's `ready`. The victim is replaced by the
 *     joiner, so every round has three members; a frozen victim is killed
 *     after the round, and one away for the node's grace period (10 s) is
 *     removed by the new committer, so later joiners reuse blank leaves. A
 *     round whose joiner does not get in is counted as failed and the next
 *     one starts on a fresh stream. Baseline: the spawn-to-ready time of
 *     each stream's first two joins, with nothing disrupted.
 *
 *   npx tsx bench/survival.ts      (SURVIVAL_ROUNDS=N of each, default 5; BENCH_QUICK=1: 2)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { memberArgs, REPO_ROOT, sleep, spawnTs, startMember, type MemberProc, type MemberSpec, type Proc, type ProcEvent } from '../src/cli/processes.js'
import type { MemberStats } from '../src/client/stream-member.js'
import { machineInfo, max, percentile, report, RESULTS_DIR, type Target } from './lib/report.js'

const QUICK = process.env.BENCH_QUICK === '1'
const ROUNDS = Number(process.env.SURVIVAL_ROUNDS ?? (QUICK ? 2 : 5))
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1 && ROUNDS <= 50)) throw new Error(`SURVIVAL_ROUNDS wants an integer in [1, 50], got ${process.env.SURVIVAL_ROUNDS}`)
/** Length of a member's network drop, ms. */
const DROP_MS = 2_000
/** Stats poll interval during a measurement, ms: the resolution of every "first frame" time. */
const POLL_MS = 25
/** A recovery not seen this long after the disruption counts as failed. */
const RECOVER_TIMEOUT_MS = 30_000
/** Wait after a recovery before counting lost frames, so frames still in flight (and the gap after them) arrive. */
const SETTLE_MS = 1_000
/** Frames a member must decrypt from each sender, between two polls, to count as receiving it (a steady state before each round). */
const STEADY_FRAMES = 10
const STREAM = 'survival'
const HANDOVER_STREAM = 'survival-handover'
const CLIPS = ['alice', 'bob', 'carol', 'dave'] as const
const clip = (name: string): string => join(REPO_ROOT, 'fixtures', 'media', `${name}.ivf`)

// ---------------------------------------------------------------------------
// A TCP proxy that can drop a member off the network.

/**
 * Forwards every connection to 127.0.0.1:`targetPort`. `drop(ms)` resets
 * every forwarded connection and resets new ones for `ms`.
 */
class DropProxy {
  port = 0
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private refuseUntil = 0

  constructor (private readonly targetPort: number) {}

  async listen (): Promise<void> {
    const server = createServer((client) => { this.accept(client) })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve() })
    })
    this.port = (server.address() as AddressInfo).port
  }

  private accept (client: Socket): void {
    if (Date.now() < this.refuseUntil) {
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    client.setNoDelay(true)
    const upstream = connect({ host: '127.0.0.1', port: this.targetPort })
    upstream.setNoDelay(true)
    this.sockets.add(client)
    this.sockets.add(upstream)
    const end = (): void => {
      this.sockets.delete(client)
      this.sockets.delete(upstream)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  }

  /** Resets every connection and refuses new ones for `ms`; returns when the refusal ends (ms since the epoch). */
  drop (ms: number): number {
    this.refuseUntil = Date.now() + ms
    for (const s of this.sockets) {
      s.on('error', () => {})
      s.resetAndDestroy()
    }
    this.sockets.clear()
    return this.refuseUntil
  }

  close (): void {
    for (const s of this.sockets) s.destroy()
    this.server?.close()
  }
}

// ---------------------------------------------------------------------------
// Processes.

/** Every process this bench started, so it can kill them all, frozen ones too. */
const procs: Proc[] = []
const running = (p: Proc): boolean => p.child.exitCode === null && p.child.signalCode === null

interface NodeRun { proc: Proc, peerId: string, port: number }

/** Starts `fabric-node start --json` on `port` (0: any) and `dataDir`; resolves when it is ready. */
async function startNode (port: number, dataDir: string): Promise<NodeRun> {
  const proc = spawnTs('node', 'src/cli/fabric-node.ts', ['start', '--json', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--admin', '127.0.0.1:0', '--data-dir', dataDir])
  procs.push(proc)
  let ready: ProcEvent
  try {
    ready = await proc.waitFor((e) => e.event === 'ready', 30_000, 'ready')
  } catch (err) {
    proc.child.kill('SIGKILL')
    throw err
  }
  const addr = (ready.multiaddrs as string[])[0]!
  return { proc, peerId: ready.peerId as string, port: Number(/\/tcp\/(\d+)/.exec(addr)![1]) }
}

/** Starts a member and registers its process. */
async function member (spec: MemberSpec): Promise<MemberProc> {
  const m = await startMember(spec)
  procs.push(m.proc)
  return m
}

/** Kills every process still running (SIGKILL, which also ends a frozen one). */
function killAll (): void {
  for (const p of procs) if (running(p)) p.child.kill('SIGKILL')
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killAll(); process.exit(130) })

/** Asks for `stats` every POLL_MS until the returned function is called. */
function poll (members: readonly MemberProc[]): () => void {
  const timer = setInterval(() => { for (const m of members) if (running(m.proc)) m.proc.send('stats') }, POLL_MS)
  return () => { clearInterval(timer) }
}

interface StatsSample { t: number, stats: MemberStats }

/** Each process's stats events, collected as they come (the event list also holds every other event). */
const sampled = new WeakMap<Proc, { seen: number, list: StatsSample[] }>()

function samples (m: MemberProc): StatsSample[] {
  let s = sampled.get(m.proc)
  if (s === undefined) sampled.set(m.proc, s = { seen: 0, list: [] })
  const events = m.proc.events
  for (; s.seen < events.length; s.seen++) {
    const e = events[s.seen]!
    if (e.event === 'stats') s.list.push({ t: e.t!, stats: e.stats as MemberStats })
  }
  return s.list
}

/** The last stats `m` printed at or before `t` (default: the last one). */
function statsAt (m: MemberProc, t = Infinity): MemberStats | undefined {
  let last: MemberStats | undefined
  for (const s of samples(m)) if (s.t <= t) last = s.stats
  return last
}

const decrypted = (s: MemberStats | undefined, sender: string): number => s?.bySender[sender]?.decrypted ?? 0
const lostFrom = (s: MemberStats | undefined, sender: string): number => s?.lostBySender[sender] ?? 0
const droppedAway = (s: MemberStats | undefined): number => s?.tracks.reduce((n, t) => n + t.droppedAway, 0) ?? 0

/** Time of the first poll after `t` showing `m` decrypted more from `sender` than at `t`; undefined if none yet. */
function firstDecryptAfter (m: MemberProc, sender: string, t: number): number | undefined {
  const base = decrypted(statsAt(m, t), sender)
  return samples(m).find((s) => s.t > t && decrypted(s.stats, sender) > base)?.t
}

/** `m`'s first event matching `pred` at or after `t`. */
function eventAfter (m: { proc: Proc }, t: number, pred: (e: ProcEvent) => boolean): ProcEvent | undefined {
  return m.proc.events.find((e) => (e.t ?? 0) >= t && pred(e))
}

/** Waits until `cond` holds, polling; false after `ms`. */
async function waitUntil (cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) return false
    await sleep(POLL_MS)
  }
  return true
}

/** Waits (polling stats) until every member decrypts STEADY_FRAMES more from every other one. */
async function steady (members: readonly MemberProc[], ms = RECOVER_TIMEOUT_MS): Promise<void> {
  const stop = poll(members)
  try {
    const t = Date.now()
    await sleep(2 * POLL_MS)
    const ok = await waitUntil(() => members.every((r) => members.every((s) => s === r ||
      decrypted(statsAt(r), s.identity) >= decrypted(statsAt(r, t), s.identity) + STEADY_FRAMES)), ms)
    if (!ok) throw new Error(`the members do not all decrypt each other within ${ms} ms`)
  } finally {
    stop()
  }
}

const ms = (t: number | undefined, from: number): number | null => t === undefined ? null : t - from

/**
 * The time `m`'s successful reconnect attempt took: from the end of that
 * attempt's backoff wait (its `reconnecting` event's time plus `delayMs`)
 * to `resumed`, i.e. dial, resume, Commit replay and media reopened.
 */
function resumeWork (m: MemberProc, resumed: ProcEvent | undefined): number | null {
  if (resumed === undefined) return null
  const attempt = m.proc.events.filter((e) => e.event === 'reconnecting' && e.t! <= resumed.t!).at(-1)
  return attempt === undefined ? null : resumed.t! - (attempt.t! + (attempt.delayMs as number))
}

// ---------------------------------------------------------------------------
// (a) member drop and (b) node restart.

/** What a member's reconnect came to; null where it did not resume. */
interface ResumeFigures {
  /** From the disruption's end (the drop's end, the restart command) to `resumed`, ms. */
  resumedMs: number | null
  /** The reconnect attempt that succeeded. */
  attempt: number | null
  /** That attempt's own time, ms (resumeWork). */
  resumeWorkMs: number | null
  /** Away time as the member counted it, ms. */
  awayMs: number | null
  rejoined: boolean | null
  commitsReplayed: number | null
}

/** `m`'s first `resumed` (and `reconnected`) at or after `since`, its time counted from `from`. */
function resumeFigures (m: MemberProc, since: number, from: number): ResumeFigures & { resumed: ProcEvent | undefined } {
  const r = eventAfter(m, since, (e) => e.event === 'resumed')
  return {
    resumed: r,
    resumedMs: ms(r?.t, from),
    attempt: r === undefined ? null : (eventAfter(m, since, (e) => e.event === 'reconnected')?.attempt as number ?? null),
    resumeWorkMs: resumeWork(m, r),
    awayMs: (r?.awayMs as number | undefined) ?? null,
    rejoined: (r?.rejoined as boolean | undefined) ?? null,
    commitsReplayed: (r?.commitsReplayed as number | undefined) ?? null,
  }
}

interface DropRound extends ResumeFigures {
  victim: string
  /** Drop end to the victim's first frame from each other sender after its `resumed`, ms. */
  decryptMs: Record<string, number | null>
  /** Drop end to each other member's first frame from the victim after its `resumed`, ms. */
  seenMs: Record<string, number | null>
  /** Frames of each other sender the victim never got. */
  lostByVictim: Record<string, number>
  /** Frames of the victim each other member never got. */
  lostOfVictim: Record<string, number>
  /** Frames the victim's own track did not send while away. */
  droppedAway: number
}

interface RestartRound {
  /** Restart command to the node's `ready`, ms. */
  nodeReadyMs: number
  /** Kill to the restart command, ms. */
  killToRestartMs: number
  members: Array<ResumeFigures & {
    name: string
    /** Restart command to its first frame from each other sender after `resumed`, ms. */
    decryptMs: Record<string, number | null>
    /** Frames of each other sender it never got. */
    lost: Record<string, number>
    droppedAway: number
  }>
  /** Restart command to every member decrypting every other again, ms. */
  allMs: number | null
}

// ---------------------------------------------------------------------------
// (c) committer handover.

type Signal = 'SIGKILL' | 'SIGSTOP'
const LABEL = { SIGKILL: 'kill -9', SIGSTOP: 'SIGSTOP' } as const

interface HandoverRound {
  stream: string
  signal: Signal
  victim: string
  /** Signal to the first `committer` event with self=true elsewhere, ms. */
  committerMs: number | null
  newCommitter: string | null
  /** Signal to the joiner's `ready`, ms. */
  joinReadyMs: number | null
  /** The joiner's own join time (join request to ready), ms. */
  joinMs: number | null
  /** Whether the joiner's request was made before the new committer took the role (so it was handed over). */
  requestBeforeHandover: boolean | null
  joinError?: string
}

// ---------------------------------------------------------------------------

const started = Date.now()
const dataDir = await mkdtemp(join(tmpdir(), 'survival-node-'))
const dropRounds: DropRound[] = []
const restartRounds: RestartRound[] = []
const handoverRounds: HandoverRound[] = []
const calmJoins: Array<{ spawnToReadyMs: number, joinMs: number }> = []
const problems: string[] = []
let node: NodeRun | undefined
const proxies: DropProxy[] = []
const abMembers: MemberProc[] = []
const hMembers: MemberProc[] = []
const nodeLogs: string[] = []

/** Names of identities, for the tables. */
const names = new Map<string, string>()
const nameOf = (id: string): string => names.get(id) ?? id.slice(-6)

try {
  node = await startNode(0, dataDir)
  const port = node.port
  process.stdout.write(`node ${node.peerId} on port ${port}, data dir ${dataDir}\n`)
  const viaProxy = async (): Promise<string> => {
    const p = new DropProxy(port)
    await p.listen()
    proxies.push(p)
    return `/ip4/127.0.0.1/tcp/${p.port}/p2p/${node!.peerId}`
  }

  // ---- setup of (a) and (b)
  const alice = await member({ name: 'alice', node: await viaProxy(), stream: STREAM, create: true, open: true, publish: clip('alice'), loop: true })
  const [bob, carol] = await Promise.all(['bob', 'carol'].map(async (n) => member({ name: n, node: await viaProxy(), stream: STREAM, owner: alice.identity, publish: clip(n), loop: true })))
  abMembers.push(alice, bob!, carol!)
  for (const m of abMembers) names.set(m.identity, m.name)
  await steady(abMembers)
  process.stdout.write(`alice, bob and carol in stream ${STREAM}, each through its own proxy, all decrypting each other\n`)

  // ---- (a) a member's network drop
  for (let i = 0; i < ROUNDS; i++) {
    const vi = 1 + (i % 2)
    const victim = abMembers[vi]!
    const others = abMembers.filter((m) => m !== victim)
    await steady(abMembers)
    const stop = poll(abMembers)
    try {
      await sleep(10 * POLL_MS)
      const tDrop = Date.now()
      const end = proxies[vi]!.drop(DROP_MS)
      const resumedEv = (): ProcEvent | undefined => eventAfter(victim, tDrop, (e) => e.event === 'resumed')
      const recovered = (): boolean => {
        const r = resumedEv()
        return r !== undefined && others.every((s) => firstDecryptAfter(victim, s.identity, r.t!) !== undefined) &&
          others.every((o) => firstDecryptAfter(o, victim.identity, r.t!) !== undefined)
      }
      const ok = await waitUntil(recovered, DROP_MS + RECOVER_TIMEOUT_MS)
      if (ok) await sleep(SETTLE_MS)
      const { resumed: r, ...figures } = resumeFigures(victim, tDrop, end)
      const before = (m: MemberProc): MemberStats | undefined => statsAt(m, tDrop)
      const round: DropRound = {
        victim: victim.name,
        ...figures,
        decryptMs: Object.fromEntries(others.map((s) => [s.name, r === undefined ? null : ms(firstDecryptAfter(victim, s.identity, r.t!), end)])),
        seenMs: Object.fromEntries(others.map((o) => [o.name, r === undefined ? null : ms(firstDecryptAfter(o, victim.identity, r.t!), end)])),
        lostByVictim: Object.fromEntries(others.map((s) => [s.name, lostFrom(statsAt(victim), s.identity) - lostFrom(before(victim), s.identity)])),
        lostOfVictim: Object.fromEntries(others.map((o) => [o.name, lostFrom(statsAt(o), victim.identity) - lostFrom(before(o), victim.identity)])),
        droppedAway: droppedAway(statsAt(victim)) - droppedAway(before(victim)),
      }
      dropRounds.push(round)
      if (!ok) problems.push(`drop ${i + 1}: ${victim.name} did not recover within ${RECOVER_TIMEOUT_MS} ms of the drop's end (resumed: ${r === undefined ? 'no' : 'yes'})`)
      process.stdout.write(`  drop ${i + 1} of ${victim.name}: resumed ${round.resumedMs ?? 'NEVER'} ms after the drop's end (attempt ${round.attempt} took ${round.resumeWorkMs} ms, away ${round.awayMs} ms${round.rejoined === true ? ', REJOINED' : ''}), ` +
        `decrypts ${Object.entries(round.decryptMs).map(([n, v]) => `${n} ${v ?? '-'}`).join(', ')} ms, seen by ${Object.entries(round.seenMs).map(([n, v]) => `${n} ${v ?? '-'}`).join(', ')} ms; ` +
        `lost ${Object.entries(round.lostByVictim).map(([n, v]) => `${v} of ${n}`).join(', ')}; others lost ${Object.values(round.lostOfVictim).join('/')} of it; ${round.droppedAway} not sent while away\n`)
    } finally {
      stop()
    }
  }

  // ---- (b) node kill -9 and restart
  for (let i = 0; i < ROUNDS; i++) {
    await steady(abMembers)
    const stop = poll(abMembers)
    try {
      await sleep(10 * POLL_MS)
      const tKill = Date.now()
      node.proc.child.kill('SIGKILL')
      await node.proc.exited
      nodeLogs.push(node.proc.stderr)
      const tRestart = Date.now()
      node = await startNode(port, dataDir)
      const nodeReady = Date.now()
      const resumedOf = (m: MemberProc): ProcEvent | undefined => eventAfter(m, tKill, (e) => e.event === 'resumed')
      const recovered = (): boolean => abMembers.every((m) => {
        const r = resumedOf(m)
        return r !== undefined && abMembers.every((s) => s === m || firstDecryptAfter(m, s.identity, r.t!) !== undefined)
      })
      const ok = await waitUntil(recovered, RECOVER_TIMEOUT_MS)
      if (ok) await sleep(SETTLE_MS)
      const round: RestartRound = {
        nodeReadyMs: nodeReady - tRestart,
        killToRestartMs: tRestart - tKill,
        members: abMembers.map((m) => {
          const { resumed: r, ...figures } = resumeFigures(m, tKill, tRestart)
          const others = abMembers.filter((s) => s !== m)
          return {
            name: m.name,
            ...figures,
            decryptMs: Object.fromEntries(others.map((s) => [s.name, r === undefined ? null : ms(firstDecryptAfter(m, s.identity, r.t!), tRestart)])),
            lost: Object.fromEntries(others.map((s) => [s.name, lostFrom(statsAt(m), s.identity) - lostFrom(statsAt(m, tKill), s.identity)])),
            droppedAway: droppedAway(statsAt(m)) - droppedAway(statsAt(m, tKill)),
          }
        }),
        allMs: null,
      }
      const all = round.members.flatMap((m) => Object.values(m.decryptMs))
      round.allMs = all.some((v) => v === null) ? null : Math.max(...(all as number[]))
      restartRounds.push(round)
      if (!ok) problems.push(`node restart ${i + 1}: not every member decrypted every other within ${RECOVER_TIMEOUT_MS} ms of the restart (resumed: ${round.members.map((m) => `${m.name} ${m.resumedMs === null ? 'no' : 'yes'}`).join(', ')})`)
      process.stdout.write(`  node restart ${i + 1}: node ready in ${round.nodeReadyMs} ms; ` +
        round.members.map((m) => `${m.name} resumed ${m.resumedMs ?? 'NEVER'} ms (attempt ${m.attempt} took ${m.resumeWorkMs} ms${m.rejoined === true ? ', REJOINED' : ''}), decrypts ${Object.entries(m.decryptMs).map(([n, v]) => `${n} ${v ?? '-'}`).join('/')} ms, lost ${Object.values(m.lost).join('/')}`).join('; ') +
        `; all decrypting ${round.allMs ?? 'NEVER'} ms after the restart command\n`)
    } finally {
      stop()
    }
  }
  for (const m of abMembers) m.proc.send('stop')
  await Promise.all(abMembers.map(async (m) => { await Promise.race([m.proc.exited, sleep(10_000)]); if (running(m.proc)) m.proc.child.kill('SIGKILL') }))
  for (const p of proxies) p.close()

  // ---- (c) committer handover
  const direct = `/ip4/127.0.0.1/tcp/${port}/p2p/${node.peerId}`
  let clipIndex = 0
  const nextClip = (): string => clip(CLIPS[clipIndex++ % CLIPS.length]!)
  let joiners = 0
  let streams = 0
  let stream = ''
  const spec = (owner?: string): MemberSpec => ({
    name: `h${++joiners}`, node: direct, stream, publish: nextClip(), loop: true,
    ...(owner === undefined ? { create: true, open: true } : { owner }),
  })
  let owner = ''
  /** A fresh stream: its creator, then two joins one after the other (the calm-join baseline). */
  const freshStream = async (): Promise<MemberProc> => {
    for (const m of hMembers.splice(0)) if (running(m.proc)) m.proc.child.kill('SIGKILL')
    stream = `${HANDOVER_STREAM}-${++streams}`
    const creator = await member(spec())
    hMembers.push(creator)
    owner = creator.identity
    const calm: number[] = []
    for (let i = 0; i < 2; i++) {
      const t = Date.now()
      const m = await member(spec(owner))
      calmJoins.push({ spawnToReadyMs: m.ready.t! - t, joinMs: m.ready.joinMs as number })
      calm.push(m.ready.t! - t)
      hMembers.push(m)
    }
    for (const m of hMembers) names.set(m.identity, m.name)
    await steady(hMembers)
    process.stdout.write(`${hMembers.map((m) => m.name).join(', ')} in stream ${stream} (${creator.name} created it); calm joins ${calm.join(', ')} ms from spawn to ready\n`)
    return creator
  }
  let committer = await freshStream()
  for (let i = 0; i < 2 * ROUNDS; i++) {
    const signal: Signal = i % 2 === 0 ? 'SIGKILL' : 'SIGSTOP'
    const victim = committer
    const live = hMembers.filter((m) => m !== victim)
    const tSig = Date.now()
    victim.proc.child.kill(signal)
    const jspec = spec(owner)
    const joiner = spawnTs(jspec.name, 'src/cli/fabric.ts', memberArgs(jspec))
    procs.push(joiner)
    const isNewCommitter = (e: ProcEvent): boolean => (e.t ?? 0) >= tSig && ((e.event === 'committer' && e.self === true) || (e.event === 'ready' && e.committer === true))
    const claim = (): { proc: Proc, e: ProcEvent } | undefined => {
      const found = [...live.map((m) => m.proc), joiner].flatMap((p) => p.events.filter(isNewCommitter).map((e) => ({ proc: p, e })))
      return found.sort((a, b) => a.e.t! - b.e.t!)[0]
    }
    const joined = (): ProcEvent | undefined => joiner.events.find((e) => e.event === 'ready' || e.event === 'error')
    await waitUntil(() => (claim() !== undefined && joined() !== undefined) || !running(joiner), RECOVER_TIMEOUT_MS * 2)
    const c = claim()
    const j = joined()
    const ready = j?.event === 'ready' ? j : undefined
    const round: HandoverRound = {
      stream,
      signal,
      victim: victim.name,
      committerMs: ms(c?.e.t, tSig),
      newCommitter: c === undefined ? null : c.proc.name,
      joinReadyMs: ms(ready?.t, tSig),
      joinMs: (ready?.joinMs as number | undefined) ?? null,
      requestBeforeHandover: ready === undefined || c === undefined ? null : ready.t! - (ready.joinMs as number) < c.e.t!,
      ...(j?.event === 'error' ? { joinError: `${String(j.code)}: ${String(j.message)}` } : {}),
    }
    handoverRounds.push(round)
    if (signal === 'SIGSTOP') victim.proc.child.kill('SIGKILL')
    await victim.proc.exited
    if (c === undefined || ready === undefined) {
      problems.push(`handover ${i + 1} (${LABEL[signal]} of ${victim.name} in ${stream}): ${c === undefined ? 'no member took the committer role' : `${c.proc.name} took the committer role after ${round.committerMs} ms`}; ` +
        `${ready === undefined ? `the joiner ${jspec.name} did not get in (${round.joinError ?? 'no ready'})` : 'the joiner got in'}`)
      process.stdout.write(`  handover ${i + 1}, ${LABEL[signal]} of ${victim.name}: FAILED (${problems[problems.length - 1]}); the next round starts on a fresh stream\n`)
      if (running(joiner)) joiner.child.kill('SIGKILL')
      if (i + 1 < 2 * ROUNDS) committer = await freshStream()
      continue
    }
    const jm: MemberProc = { name: jspec.name, proc: joiner, identity: ready.identity as string, ready }
    names.set(jm.identity, jm.name)
    hMembers.splice(hMembers.indexOf(victim), 1, jm)
    committer = hMembers.find((m) => m.proc === c.proc)!
    process.stdout.write(`  handover ${i + 1}, ${LABEL[signal]} of ${victim.name}: ${round.newCommitter} commits after ${round.committerMs} ms; ` +
      `joiner ${jm.name} ready after ${round.joinReadyMs} ms (its join ${round.joinMs} ms, request ${round.requestBeforeHandover === true ? 'before' : 'after'} the handover)\n`)
    await steady(hMembers)
  }
} catch (err) {
  problems.push(`the bench broke off: ${err instanceof Error ? err.message : String(err)}`)
  process.stdout.write(`the bench broke off: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
} finally {
  for (const p of proxies) p.close()
  if (node !== undefined) nodeLogs.push(node.proc.stderr)
  killAll()
}

// Logs for a post-mortem when something did not recover.
let logDir: string | undefined
if (problems.length > 0) {
  logDir = join(RESULTS_DIR, `survival-logs-${new Date(started).toISOString().replace(/[:.]/g, '-')}`)
  await mkdir(logDir, { recursive: true })
  await writeFile(join(logDir, 'node.log'), nodeLogs.join('\n--- restart ---\n'))
  for (const p of procs) {
    if (p.name === 'node') continue
    await writeFile(join(logDir, `${p.name}-events.json`), JSON.stringify(p.events.filter((e) => e.event !== 'stats'), null, 1))
    await writeFile(join(logDir, `${p.name}.log`), p.stderr)
  }
}
await rm(dataDir, { recursive: true, force: true })

// ---------------------------------------------------------------------------
// Report.

const fin = (xs: Array<number | null>): number[] => xs.map((x) => x ?? Infinity)
const row = (scenario: string, measured: string, xs: Array<number | null>, lost?: number[]): Record<string, unknown> => ({
  scenario,
  measured,
  samples: xs.length,
  failed: xs.filter((x) => x === null).length,
  'p50 ms': percentile(fin(xs), 50),
  'p99 ms': percentile(fin(xs), 99),
  'max ms': max(fin(xs)),
  'lost p50': lost === undefined ? '' : percentile(lost, 50),
  'lost max': lost === undefined ? '' : max(lost),
})
const maxOf = (rec: Record<string, number | null>): number | null => Object.values(rec).some((v) => v === null) ? null : Math.max(...Object.values(rec) as number[])
const kills = handoverRounds.filter((r) => r.signal === 'SIGKILL')
const stops = handoverRounds.filter((r) => r.signal === 'SIGSTOP')
const rows = [
  row('member drop 2 s', 'drop end -> its resumed', dropRounds.map((r) => r.resumedMs)),
  row('member drop 2 s', 'successful attempt -> resumed', dropRounds.map((r) => r.resumeWorkMs)),
  row('member drop 2 s', 'drop end -> it decrypts every other sender', dropRounds.map((r) => maxOf(r.decryptMs)), dropRounds.flatMap((r) => Object.values(r.lostByVictim))),
  row('member drop 2 s', 'drop end -> every other decrypts it', dropRounds.map((r) => maxOf(r.seenMs)), dropRounds.flatMap((r) => Object.values(r.lostOfVictim))),
  row('node kill -9 + restart', 'restart -> node ready', restartRounds.map((r) => r.nodeReadyMs)),
  row('node kill -9 + restart', 'restart -> each member resumed', restartRounds.flatMap((r) => r.members.map((m) => m.resumedMs))),
  row('node kill -9 + restart', 'successful attempt -> resumed', restartRounds.flatMap((r) => r.members.map((m) => m.resumeWorkMs))),
  row('node kill -9 + restart', 'restart -> every member decrypts every other', restartRounds.map((r) => r.allMs), restartRounds.flatMap((r) => r.members.flatMap((m) => Object.values(m.lost)))),
  row('committer kill -9', 'signal -> new committer', kills.map((r) => r.committerMs)),
  row('committer kill -9', 'signal -> joiner ready', kills.map((r) => r.joinReadyMs)),
  row('committer SIGSTOP', 'signal -> new committer', stops.map((r) => r.committerMs)),
  row('committer SIGSTOP', 'signal -> joiner ready', stops.map((r) => r.joinReadyMs)),
  row('calm join (baseline)', 'spawn -> ready', calmJoins.map((j) => j.spawnToReadyMs)),
]
const rejoinedDrops = dropRounds.filter((r) => r.rejoined === true).length
const rejoinedRestarts = restartRounds.flatMap((r) => r.members).filter((m) => m.rejoined === true).length
const targets: Target[] = [
  { name: 'every dropped member resumes and decrypts the others again', met: dropRounds.length === ROUNDS && dropRounds.every((r) => maxOf(r.decryptMs) !== null && maxOf(r.seenMs) !== null), figure: `${dropRounds.filter((r) => maxOf(r.decryptMs) !== null && maxOf(r.seenMs) !== null).length} of ${ROUNDS} drops` },
  { name: 'a 2 s drop resumes without rejoining', met: dropRounds.length > 0 && rejoinedDrops === 0 && dropRounds.every((r) => r.rejoined === false), figure: `${rejoinedDrops} rejoins in ${dropRounds.length} drops` },
  { name: 'after a node restart every member decrypts every other again', met: restartRounds.length === ROUNDS && restartRounds.every((r) => r.allMs !== null), figure: `${restartRounds.filter((r) => r.allMs !== null).length} of ${ROUNDS} restarts` },
  { name: 'members resume across a node restart without rejoining', met: restartRounds.length > 0 && restartRounds.every((r) => r.members.every((m) => m.rejoined === false)), figure: `${rejoinedRestarts} rejoins in ${restartRounds.length * 3} resumes` },
  { name: 'the committer role is taken over after every kill -9 and SIGSTOP', met: handoverRounds.length === 2 * ROUNDS && handoverRounds.every((r) => r.committerMs !== null), figure: `${handoverRounds.filter((r) => r.committerMs !== null).length} of ${2 * ROUNDS} handovers` },
  { name: 'the join started at the signal completes', met: handoverRounds.length === 2 * ROUNDS && handoverRounds.every((r) => r.joinReadyMs !== null), figure: `${handoverRounds.filter((r) => r.joinReadyMs !== null).length} of ${2 * ROUNDS} joins` },
]
await report({
  bench: 'survival',
  machine: machineInfo(),
  params: { rounds: ROUNDS, dropMs: DROP_MS, pollMs: POLL_MS, settleMs: SETTLE_MS, recoverTimeoutMs: RECOVER_TIMEOUT_MS, members: 3, livenessTimeoutMs: 5_000, memberGraceMs: 10_000, seconds: Math.round((Date.now() - started) / 1000) },
  rows,
  targets,
  notes: [
    `separate processes: one fabric-node, one fabric join --json per member, every member publishing a VP8 clip at 30 fps (keyframe every 30 frames); ${Math.round((Date.now() - started) / 1000)} s in all`,
    `"first frame" times are the first ${POLL_MS} ms stats poll that shows the count grew (late by up to ${POLL_MS} ms plus a stdin round trip)`,
    'drops: bob and carol alternately (the committer, alice, is never dropped); lost: frames per (receiver, sender) never received, from sequence gaps, counted 1 s after recovery',
    'node restart: the kill and the restart command are back to back; lost is per (member, sender)',
    `handover joins: a kill -9 is seen at once, so the joiner (process start included) mostly asks after the handover (${kills.filter((r) => r.requestBeforeHandover === true).length} of ${kills.length} before); after SIGSTOP its request waits for the liveness cut (${stops.filter((r) => r.requestBeforeHandover === true).length} of ${stops.length} before)`,
    `handover rounds ran on ${new Set(handoverRounds.map((r) => r.stream)).size} stream(s): a fresh one after each round whose joiner did not get in`,
    ...problems.map((p) => `PROBLEM: ${p}`),
    ...(logDir === undefined ? [] : [`logs of every process: ${relative(REPO_ROOT, logDir)}`]),
  ],
  extra: { dropRounds, restartRounds, handoverRounds, calmJoins },
})
process.exit(problems.length === 0 ? 0 : 1)
