/**
 * The main-job scenario, in separate OS processes over real libp2p TCP on
 * 127.0.0.1: a node; alice creates the stream, admitting bob and carol by
 * name; bob and carol join; each publishes its VP8 clip and records the
 * others; an outsider, eve, tries to join by name and with an invitation
 * she forged, and is refused both times; dave joins mid-stream on an
 * invitation alice signed; alice removes carol; alice, the creator and
 * committer, leaves mid-call, and bob and dave go on: one of them takes the
 * committer role and removes her leaf, and they keep decrypting each other.
 * Returns the per-member figures and a list of checks (the demo prints them;
 * the end-to-end test asserts them).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkDecodes, FfmpegNotFoundError, findFfmpeg, type FfmpegTool } from '../media/ffmpeg-check.js'
import { readIvfFile } from '../media/ivf-file.js'
import { loadOrCreateIdentity } from './identity-file.js'
import {
  REPO_ROOT, inviteToken, nodeStats, sleep, startMember, startNodeProcess, startRefusedMember, type MemberProc, type Proc, type ProcEvent,
} from './processes.js'
import type { MemberStats } from '../client/stream-member.js'

/** Frames a sender sent or a receiver got: [sequence, hash, keyframe 0/1, epoch]. */
type FrameLog = Array<[number, string, number, string]>

/** One check of the scenario. */
export interface Check {
  name: string
  ok: boolean
  detail: string
}

/** Per-member row of the demo table. */
export interface MemberRow {
  name: string
  identity: string
  sent: number
  /** Per sender name: received, decrypted, before-keys, failures. */
  from: Record<string, { received: number, decrypted: number, beforeKeys: number, failures: number, firstKeyframeMs?: number }>
  failures: number
  /** Each recording of another member's video: its file, frames written, what ffmpeg decoded. */
  recordings: Array<{ sender: string, path: string, frames: number, decodes: boolean, decodedFrames: number, errors: string }>
}

/** One refused attempt of the outsider. */
export interface Refusal {
  /** How eve tried. */
  attempt: string
  /** The error code her `fabric join` printed. */
  code: string
  /** Its exit status. */
  exitCode: number | null
}

/** What the scenario measured. */
export interface ScenarioReport {
  rows: MemberRow[]
  /** The outsider's attempts. */
  refusals: Refusal[]
  checks: Check[]
  node: { peerId: string, captureBytes: number, stats: unknown }
  /** Scratch directory: rec/NAME/ recordings, NAME-events.json, NAME.log (stderr), node-traffic.bin, keys.log. */
  workDir: string
  /** The ffmpeg the recordings were checked with. */
  ffmpeg: FfmpegTool
}

/** Options of the scenario. */
export interface ScenarioOptions {
  /** Scratch directory (recordings, capture, key log); default REPO_ROOT/.tmp/demo. */
  workDir?: string
  /** Seconds of media before dave joins, after he joins, after carol's removal, after alice leaves. */
  phaseSeconds?: number
  /** Progress lines. */
  log?: (line: string) => void
  /** The ffmpeg to check recordings with; default {@link findFfmpeg}'s. */
  ffmpeg?: FfmpegTool
}

const CLIPS = ['alice', 'bob', 'carol', 'dave'] as const
/** The members still in the call after alice (the creator) leaves. */
const STAYING = ['bob', 'dave'] as const

/** What the members that stayed did after the creator left. */
interface AfterLeave {
  /** When alice was told to leave (ms since the epoch). */
  at: number
  /** Her `summary` event's reason and her exit code. */
  reason: string
  exitCode: number | null | 'running'
  /** The first `committer` event with self=true at bob or dave after the leave. */
  committer: { name: string, ms: number, epoch: string } | undefined
  /** Per member that stayed: the epoch that removed alice, if one came. */
  removalEpoch: Record<string, string | undefined>
  /** Per member that stayed: its stats when alice's removal had been seen (or at the leave), and one phase later. */
  before: Record<string, MemberStats | undefined>
  after: Record<string, MemberStats | undefined>
  /** ms between the two stats. */
  spanMs: number
}

/**
 * Runs the whole scenario; always stops every process it started.
 * @throws FfmpegNotFoundError before starting anything when no ffmpeg runs
 *   (the recordings could not be checked)
 */
export async function runScenario (opts: ScenarioOptions = {}): Promise<ScenarioReport> {
  const log = opts.log ?? (() => {})
  const ffmpeg = opts.ffmpeg ?? await findFfmpeg()
  if (ffmpeg === undefined) throw new FfmpegNotFoundError()
  const workDir = opts.workDir ?? join(REPO_ROOT, '.tmp', 'demo')
  const phaseMs = (opts.phaseSeconds ?? 3) * 1000
  await rm(workDir, { recursive: true, force: true })
  await mkdir(workDir, { recursive: true })
  const capture = join(workDir, 'node-traffic.bin')
  const keyLog = join(workDir, 'keys.log')
  const stream = 'demo'
  const clip = (n: string): string => join(REPO_ROOT, 'fixtures', 'media', `${n}.ivf`)

  // Each member's identity lives in a file, as `fabric id` makes it.
  const idFile = (n: string): string => join(workDir, `${n}.id`)
  const ids = new Map<string, string>()
  for (const n of [...CLIPS, 'eve']) ids.set(n, (await loadOrCreateIdentity(idFile(n))).identity.peerId)
  const alicePeer = ids.get('alice')!

  const node = await startNodeProcess({ trafficCapture: capture })
  log(`node ${node.peerId} at ${node.addr}`)
  const members = new Map<string, MemberProc>()
  const summaries = new Map<string, ProcEvent>()
  const refusals: Refusal[] = []
  const safetyCodes = new Map<string, { safetyCode: string, epoch: string }>()
  let removalEpoch = -1n
  let daveJoinEpoch = -1n
  let statsAfterRemoval: any // eslint-disable-line @typescript-eslint/no-explicit-any
  let statsAfterEve: any // eslint-disable-line @typescript-eslint/no-explicit-any
  let afterLeave: AfterLeave | undefined
  try {
    const spec = (name: string) => ({
      name, node: node.addr, stream, identity: idFile(name), publish: clip(name), loop: true, record: join(workDir, 'rec', name), keyLog,
    })
    members.set('alice', await startMember({ ...spec('alice'), create: true, allow: [ids.get('bob')!, ids.get('carol')!] }))
    log('alice created the stream, admitting bob and carol')
    const [bob, carol] = await Promise.all([startMember({ ...spec('bob'), owner: alicePeer }), startMember({ ...spec('carol'), owner: alicePeer })])
    members.set('bob', bob)
    members.set('carol', carol)
    log('bob and carol joined')
    await sleep(phaseMs)

    // The outsider knows the stream's name and its owner, and tries twice.
    const eve = { name: 'eve', node: node.addr, identity: idFile('eve'), record: join(workDir, 'rec', 'eve') }
    const byName = await startRefusedMember({ ...eve, stream, owner: alicePeer })
    refusals.push({ attempt: 'by name', code: byName.code, exitCode: byName.exitCode })
    await keepLogs(workDir, 'eve-by-name', byName.proc)
    const forged = await inviteToken({ identity: idFile('eve'), owner: alicePeer, stream })
    const withForged = await startRefusedMember({ ...eve, invite: forged })
    refusals.push({ attempt: 'with an invitation she signed herself', code: withForged.code, exitCode: withForged.exitCode })
    await keepLogs(workDir, 'eve-forged', withForged.proc)
    statsAfterEve = await nodeStats(node)
    log(`eve was refused: ${refusals.map((r) => `${r.attempt} ${r.code}`).join(', ')}`)

    const invitation = await inviteToken({ identity: idFile('alice'), stream, for: ids.get('dave')! })
    const dave = await startMember({ ...spec('dave'), stream: undefined, invite: invitation })
    members.set('dave', dave)
    daveJoinEpoch = BigInt(dave.ready.epoch as string)
    log(`dave joined mid-stream at epoch ${daveJoinEpoch} on alice's invitation`)
    await sleep(phaseMs)

    const alice = members.get('alice')!
    alice.proc.send(`remove ${carol.identity}`)
    const removed = await carol.proc.waitFor((e) => e.event === 'removed', 30_000, 'removed')
    const done = await alice.proc.waitFor((e) => e.event === 'removed-member', 30_000, 'removed-member')
    removalEpoch = BigInt(done.epoch as string)
    log(`alice removed carol (carol saw it at epoch ${String(removed.epoch)}, group now at epoch ${removalEpoch})`)
    await sleep(phaseMs)
    statsAfterRemoval = await nodeStats(node)
    // Safety codes while nobody is leaving: each member's at this moment.
    for (const n of ['alice', 'bob', 'dave']) safetyCodes.set(n, await statsOf(members.get(n)!))

    // The creator, who commits for the stream, leaves mid-call: the node
    // hands the committer role to bob or dave, who removes her leaf, and the
    // two go on decrypting each other.
    afterLeave = await creatorLeaves(alice, STAYING.map((n) => members.get(n)!), alice.identity, phaseMs)
    log(`alice left mid-call; ${afterLeave.committer === undefined ? 'NO member took the committer role' : `${afterLeave.committer.name} commits for the stream now (${afterLeave.committer.ms} ms after)`}, ` +
      `alice's leaf removed at epoch ${Object.values(afterLeave.removalEpoch).find((e) => e !== undefined) ?? '(none seen)'}`)

    for (const [name, m] of members) {
      if (name !== 'carol' && name !== 'alice') m.proc.send('stop')
    }
    for (const [name, m] of members) summaries.set(name, await m.proc.waitFor((e) => e.event === 'summary', 30_000, 'summary'))
  } finally {
    for (const m of members.values()) await m.proc.stop('SIGTERM')
    await node.proc.stop('SIGTERM')
    // What each process printed, kept for a look afterwards (the demo says where).
    for (const [name, m] of members) await keepLogs(workDir, name, m.proc)
    await keepLogs(workDir, 'node', node.proc)
  }

  const identityOf = new Map([...members].map(([n, m]) => [m.identity, n]))
  const nameOf = (id: string): string => identityOf.get(id) ?? id.slice(-8)
  const rows: MemberRow[] = []
  const checks: Check[] = []
  const check = (name: string, ok: boolean, detail = ''): void => { checks.push({ name, ok, detail }) }

  for (const name of CLIPS) {
    const s = summaries.get(name)
    if (s === undefined) continue
    const stats = s.stats as { bySender: Record<string, { received: number, decrypted: number, beforeKeys: number, failures: number }> }
    const firstKf = s.firstKeyframeMs as Record<string, number>
    const row: MemberRow = { name, identity: members.get(name)!.identity, sent: (s.sent as FrameLog).length, from: {}, failures: 0, recordings: [] }
    for (const [id, st] of Object.entries(stats.bySender)) {
      row.from[nameOf(id)] = { ...st, firstKeyframeMs: firstKf[`${id}/0`] }
      row.failures += st.failures
    }
    for (const r of s.recordings as Array<{ path: string, frames: number }>) {
      const sender = nameOf(r.path.split('/').pop()!.replace(/-\d+\.ivf$/, ''))
      const d = await checkDecodes(r.path, ffmpeg)
      row.recordings.push({ sender, path: r.path, frames: r.frames, decodes: d.ok, decodedFrames: d.frames, errors: d.errors.slice(0, 200) })
    }
    rows.push(row)
  }

  // Every member sees every other member (all of them overlapped in time).
  for (const r of CLIPS) {
    for (const s of CLIPS) {
      if (r === s) continue
      const got = rows.find((x) => x.name === r)?.from[s]
      check(`${r} decrypts ${s}`, (got?.decrypted ?? 0) > 0, `${got?.decrypted ?? 0} frames`)
    }
  }
  for (const row of rows) check(`${row.name} has no decrypt failures`, row.failures === 0, `${row.failures} failures`)

  // Byte identity with no gap: after the receiver's first keyframe from a
  // sender, every frame the sender sent up to the last one received arrived
  // with the same content hash.
  for (const r of CLIPS) {
    const rs = summaries.get(r)
    if (rs === undefined) continue
    const received = rs.received as Record<string, FrameLog>
    for (const s of CLIPS) {
      if (s === r) continue
      const ss = summaries.get(s)
      const got = received[`${members.get(s)!.identity}/0`]
      if (ss === undefined || got === undefined || got.length === 0) continue
      const firstKey = got.find((f) => f[2] === 1)
      if (firstKey === undefined) { check(`${r} got a keyframe from ${s}`, false); continue }
      const last = got[got.length - 1][0]
      const byHash = new Map(got.map((f) => [f[0], f[1]]))
      const expected = (ss.sent as FrameLog).filter((f) => f[0] >= firstKey[0] && f[0] <= last)
      const missing = expected.filter((f) => !byHash.has(f[0])).length
      const differ = expected.filter((f) => byHash.has(f[0]) && byHash.get(f[0]) !== f[1]).length
      check(`${r} got every frame ${s} sent, byte-identical`, missing === 0 && differ === 0 && expected.length > 0,
        `${expected.length} frames from seq ${firstKey[0]}: ${missing} missing, ${differ} differ`)
    }
  }

  // The late joiner decrypts nothing from before its Welcome.
  const daveRecv = summaries.get('dave')?.received as Record<string, FrameLog> | undefined
  const daveEarly = Object.values(daveRecv ?? {}).flat().filter((f) => BigInt(f[3]) < daveJoinEpoch).length
  check('dave decrypts nothing from before his Welcome', daveRecv !== undefined && daveEarly === 0, `joined at epoch ${daveJoinEpoch}, ${daveEarly} earlier frames`)
  const daveFirst = rows.find((r) => r.name === 'dave')?.from
  const daveKf = Math.max(...['alice', 'bob', 'carol'].map((s) => daveFirst?.[s]?.firstKeyframeMs ?? Infinity))
  check('dave sees every sender from a keyframe', Number.isFinite(daveKf), `${daveKf} ms from join request to the last sender's first keyframe`)

  // The removed member decrypts nothing of any later epoch; the node stops
  // forwarding to it; the others continue.
  const carolRecv = summaries.get('carol')?.received as Record<string, FrameLog> | undefined
  const carolLate = Object.values(carolRecv ?? {}).flat().filter((f) => BigInt(f[3]) >= removalEpoch).length
  check('carol decrypts no frame of a later epoch', carolRecv !== undefined && carolLate === 0, `removal epoch ${removalEpoch}, ${carolLate} later frames`)
  const carolId = members.get('carol')?.identity
  const carolSubs = (statsAfterRemoval?.relay?.subscribers as Array<{ identity: string }> | undefined)?.filter((x) => x.identity === carolId).length ?? -1
  check('the node stops forwarding to carol', carolSubs === 0, `${carolSubs} subscriptions left`)
  for (const r of ['alice', 'bob', 'dave']) {
    const got = (summaries.get(r)?.received as Record<string, FrameLog> | undefined) ?? {}
    const afterRemoval = Object.values(got).flat().filter((f) => BigInt(f[3]) >= removalEpoch).length
    check(`${r} continues after the removal`, afterRemoval > 0, `${afterRemoval} frames at epoch >= ${removalEpoch}`)
  }

  // Every recording decodes with ffmpeg (report.ffmpeg says which).
  for (const row of rows) {
    for (const rec of row.recordings) check(`${row.name}'s recording of ${rec.sender} decodes`, rec.decodes && rec.decodedFrames === rec.frames, `${rec.decodedFrames}/${rec.frames} frames ${rec.errors}`)
  }

  // The node handled ciphertext only: no source frame and no epoch key appears
  // in the bytes it received and sent.
  const traffic = await readFile(capture)
  let plaintextHits = 0
  let probes = 0
  for (const name of CLIPS) {
    const ivf = await readIvfFile(clip(name))
    for (const f of ivf.frames) {
      if (f.data.byteLength < 64) continue
      probes++
      const mid = Math.floor(f.data.byteLength / 2)
      if (traffic.indexOf(f.data.subarray(mid, mid + 32)) >= 0) plaintextHits++
    }
  }
  check('the node never saw a plaintext frame', probes > 0 && plaintextHits === 0 && traffic.byteLength > 0, `${probes} frames probed in ${traffic.byteLength} captured bytes, ${plaintextHits} found`)
  const keys = (await readFile(keyLog, 'utf8')).trim().split('\n').map((l) => l.split(' ')[2]).filter((k) => k !== undefined)
  const keyHits = keys.filter((k) => traffic.indexOf(Buffer.from(k, 'hex')) >= 0).length
  check('the node never saw key material', keys.length > 0 && keyHits === 0, `${new Set(keys).size} epoch keys searched, ${keyHits} found`)

  // The outsider: refused each time with NOT_ADMITTED and a non-zero exit,
  // never subscribed, never a member, so nothing reached her to decrypt.
  for (const r of refusals) check(`eve is refused ${r.attempt}`, r.code === 'NOT_ADMITTED' && r.exitCode !== 0, `${r.code || 'no error'}, exit ${String(r.exitCode)}`)
  const eveId = ids.get('eve')!
  const eveSubs = (statsAfterEve?.relay?.subscribers as Array<{ identity: string }> | undefined)?.filter((x) => x.identity === eveId).length ?? -1
  const eveMember = (statsAfterEve?.group?.streams as Array<{ members: string[] }> | undefined)?.some((x) => x.members.includes(eveId)) ?? true
  check('eve decrypts nothing (never a member, never subscribed)', refusals.length === 2 && eveSubs === 0 && !eveMember, `${eveSubs} subscriptions, member: ${String(eveMember)}`)
  // Every member that stayed ends in one epoch with one safety code.
  const codes = new Set(['alice', 'bob', 'dave'].map((n) => safetyCodes.get(n)?.safetyCode))
  check('alice, bob and dave show the same safety code', codes.size === 1 && !codes.has(undefined) && !codes.has(''),
    ['alice', 'bob', 'dave'].map((n) => `${n} epoch ${safetyCodes.get(n)?.epoch}: ${safetyCodes.get(n)?.safetyCode}`).join('; '))

  // The creator left mid-call and the others went on.
  const al = afterLeave
  check('alice (the creator) leaves mid-call', al !== undefined && al.reason === 'leave' && al.exitCode === 0,
    al === undefined ? 'not reached' : `summary reason ${al.reason || 'none'}, exit ${String(al.exitCode)}`)
  check('bob or dave takes over as committer after alice left', al?.committer !== undefined,
    al?.committer === undefined ? 'no committer event with self=true at bob or dave' : `${al.committer.name} at epoch ${al.committer.epoch}, ${al.committer.ms} ms after the leave`)
  check('bob and dave remove alice\'s leaf', al !== undefined && STAYING.every((n) => al.removalEpoch[n] !== undefined),
    STAYING.map((n) => `${n}: ${al?.removalEpoch[n] === undefined ? 'no epoch removing her' : `epoch ${al.removalEpoch[n]}`}`).join('; '))
  for (const [r, s] of [['bob', 'dave'], ['dave', 'bob']] as const) {
    const sender = members.get(s)?.identity ?? ''
    const before = al?.before[r]?.bySender[sender]?.decrypted ?? 0
    const after = al?.after[r]?.bySender[sender]?.decrypted ?? 0
    // At least half the clip's 30 fps over the phase.
    const wanted = Math.max(1, Math.floor(((al?.spanMs ?? 0) / 1000) * 15))
    check(`${r} keeps decrypting ${s} after alice left`, al?.after[r] !== undefined && after - before >= wanted,
      `${after - before} more frames in ${al?.spanMs ?? 0} ms after her removal (at least ${wanted} wanted)`)
  }
  const leftCodes = new Set(STAYING.map((n) => al?.after[n]?.safetyCode))
  check('bob and dave show the same safety code after alice left', al !== undefined && leftCodes.size === 1 && !leftCodes.has(undefined) && !leftCodes.has(''),
    STAYING.map((n) => `${n} epoch ${al?.after[n]?.epoch}: ${al?.after[n]?.safetyCode}`).join('; '))

  return { rows, refusals, checks, node: { peerId: node.peerId, captureBytes: traffic.byteLength, stats: statsAfterRemoval }, workDir, ffmpeg }
}

/** Asks a member process for its `stats` and resolves with them. */
async function statsOf (m: MemberProc): Promise<MemberStats> {
  const asked = m.proc.events.length
  m.proc.send('stats')
  const ev = await m.proc.waitFor((e) => e.event === 'stats' && m.proc.events.indexOf(e) >= asked, 10_000, 'stats')
  return ev.stats as MemberStats
}

/**
 * Tells `creator` to leave, then waits (bounded) for a member of `staying`
 * to take the committer role and for each to see the epoch that removes
 * the creator, and takes each one's stats then and `phaseMs` later. Never
 * throws for what it waits for: a missing event is left undefined, for the
 * checks to report.
 */
async function creatorLeaves (creator: MemberProc, staying: MemberProc[], creatorId: string, phaseMs: number): Promise<AfterLeave> {
  const at = Date.now()
  creator.proc.send('leave')
  const summary = await creator.proc.waitFor((e) => e.event === 'summary', 30_000, 'summary')
  const exitCode = await Promise.race([creator.proc.exited, sleep(15_000).then(() => 'running' as const)])
  const after = (e: ProcEvent): boolean => (e.t ?? 0) >= at
  const committer = await Promise.any(staying.map(async (m) => {
    const e = await m.proc.waitFor((e) => after(e) && e.event === 'committer' && e.self === true, 30_000, 'committer')
    return { name: m.name, ms: e.t! - at, epoch: String(e.epoch) }
  })).catch(() => undefined)
  const removalEpoch: Record<string, string | undefined> = {}
  for (const m of staying) {
    const e = await m.proc.waitFor((e) => after(e) && e.event === 'epoch' && (e.removed as string[] | undefined)?.includes(creatorId) === true, 30_000, 'epoch')
      .catch(() => undefined)
    removalEpoch[m.name] = e === undefined ? undefined : String(e.epoch)
  }
  const before: Record<string, MemberStats | undefined> = {}
  const afterPhase: Record<string, MemberStats | undefined> = {}
  const t0 = Date.now()
  for (const m of staying) before[m.name] = await statsOf(m).catch(() => undefined)
  await sleep(phaseMs)
  for (const m of staying) afterPhase[m.name] = await statsOf(m).catch(() => undefined)
  return { at, reason: String(summary.reason ?? ''), exitCode, committer, removalEpoch, before, after: afterPhase, spanMs: Date.now() - t0 }
}

/**
 * Writes a process's JSON events to NAME-events.json and its stderr to
 * NAME.log in `dir`. Never throws: logs are an aid, and this runs in
 * `finally` blocks whose own error matters more.
 */
async function keepLogs (dir: string, name: string, proc: Proc): Promise<void> {
  try {
    await writeFile(join(dir, `${name}-events.json`), JSON.stringify(proc.events, null, 1))
    await writeFile(join(dir, `${name}.log`), proc.stderr)
  } catch {}
}
