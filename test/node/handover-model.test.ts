/**
 * Model check of the group service's committer handover (protocol/survival.md
 * section 7): the real GroupServiceCore, with a fake, pure `inspectCommit`,
 * driven by simulated members that behave like the reference committer
 * (src/client/committer.ts) over a simulated network with per-conn FIFO
 * queues in both directions. Like a TLA+ model of a designated-committer
 * scheme, it checks every interleaving of small configurations (BFS with
 * state deduplication) and long random runs of larger ones (fast-check).
 *
 * The model. Each actor is one identity; its conn carries requests up
 * (client -> core) and replies and notices down (core -> client), each
 * delivered one message per step, in order (in the exhaustive check a
 * member reads what it is sent at once: Config.eager says why that loses
 * no behaviour). A member tracks its MLS epoch
 * from CommitDelivery, Welcome and the `ok` to its own Commit, and its view
 * of the MLS tree is the tree the accepted Commits made at that epoch. A
 * Roster naming it makes it committer (with empty queues: the core hands a
 * new committer every pending join and departure again); one naming another
 * takes the role away. As committer it collects JoinRequested,
 * LeaveRequested and JoinWithdrawn; at a `flush` step it denies the joins
 * the group's policy refuses (identities starting with 'x') and prepares one
 * Commit at its epoch with the removals it knows (never itself) and the
 * admitted joins not in its tree (a rejoiner's old leaf is removed first, by
 * an earlier Commit), each added at the leftmost blank leaf; at a later
 * `submit` step it sends it. STALE_EPOCH or NOT_COMMITTER drops the Commit
 * and the requests stay for a later flush. At any step a member may crash
 * (its conn breaks: what the core had sent it is lost, what it had sent
 * still arrives, then the close), including between flush and submit and
 * right after submit; a crashed member keeps its MLS state, its in-flight
 * Commit and its belief of being committer, and may later `resume` on a new
 * conn at its epoch (pipelining a Commit behind the resume), rejoin with a
 * fresh join, or never come back. Members may leave; joiners open a conn
 * and join; `tick` advances time by a second (the grace period is two
 * ticks in the exhaustive check, five in the random runs). The random runs
 * add acks, the owner's `end`, and node restarts (the core is rebuilt from
 * the last persisted snapshot, every conn breaks).
 *
 * Invariants, checked after every step:
 * I1 (one Commit per epoch) at most one Commit is accepted per epoch: the
 *    epoch moves by +1 only, only when an `ok` answers a SubmitCommit, and
 *    the accepted Commit came from the committer designated when it
 *    arrived, made at the current epoch. The leaves the core keeps are the
 *    ones the Commits make (Removes first, then leftmost blank leaves).
 * I2 (joins) a join is added at most once: an added identity was not a
 *    member, and a joiner gets at most one Welcome. Liveness: from every
 *    reachable state (exhaustive) or after a run (random), a quiescence
 *    phase (no more crashes, leaves, joins or resumes; live members act
 *    fairly: every message is delivered, committers flush and submit, time
 *    passes) ends within a bound of steps with no joiner still pending.
 * I3 (someone can move) whenever some member is live (has a conn) and its
 *    departure is not under way, the designated committer is such a
 *    member, and a newly designated one is the one with the lowest leaf;
 *    when none is, the stream either waits for a member away within its
 *    grace period or has ended. A stream ends only then, or by `end`.
 * I4 (nobody left behind) every Commit a member receives is the next one
 *    of the accepted chain, every Roster it receives is at its epoch, a
 *    resume never finds the service behind the member (nor does a restart
 *    lose an epoch), and after quiescence every member in the roster is
 *    live at the core's epoch, nobody is away, and the committer has no
 *    work left.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { GroupServiceCore, type CommitInfo, type GroupAction, type StreamSnapshot } from '../../src/node/group-core.js'
import { PROTOCOL_VERSION } from '../../src/wire/message-codec.js'
import type { GroupClientMessage, GroupServerMessage } from '../../src/wire/pb/group.js'
import { streamKey } from '../../src/wire/stream-tag.js'

const OWNER = 'alice'
const NAME = 's'
const KEY = streamKey(OWNER, NAME)
const GID = new Uint8Array([0x67, 0x69, 0x64])
const WELCOME = new Uint8Array([0x57])
const NONE = new Uint8Array()
const UNIT_MS = 1000
/** A budget that never runs out. */
const UNBOUNDED = 1e9
/** Timeouts that must never fire in the model: a join that expires was never answered (I2). */
const NEVER_MS = 1e12

/** Request ids by kind: at most one request of a kind is awaited per conn, so replies are told apart by id. */
const REQ = { create: 1, join: 2, resume: 3, commit: 4, leave: 5, deny: 6, end: 7 } as const

/** The group's admission policy, the same for every committer: identities starting with 'x' are refused. */
const admitted = (id: string): boolean => !id.startsWith('x')

// ---- the fake Commit: 'C' || JSON of what the core reads from one ----

interface FakeCommit {
  /** Epoch it was made in. */
  e: number
  /** Sender leaf. */
  s: number
  /** Identities added, in order. */
  a: string[]
  /** Leaves removed. */
  r: number[]
}

const encodeCommit = (c: FakeCommit): string => `C${JSON.stringify(c)}`
const decodeCommit = (text: string): FakeCommit => JSON.parse(text.slice(1)) as FakeCommit

function inspectModelCommit (bytes: Uint8Array): CommitInfo {
  const text = Buffer.from(bytes).toString('utf8')
  if (!text.startsWith('C')) throw new Error('not a model commit')
  const c = decodeCommit(text)
  return { groupId: GID, epoch: BigInt(c.e), senderLeafIndex: c.s, addedIdentities: c.a, removedLeafIndices: c.r, proposalRefs: 0 }
}

type Tree = Array<string | null>

/** RFC 9420 section 12.3: Removes blank their leaves, then each Add takes the leftmost blank leaf; trailing blanks go. */
function applyToTree (tree: Tree, c: FakeCommit): Tree {
  const t = [...tree]
  for (const leaf of c.r) t[leaf] = null
  for (const id of c.a) {
    const blank = t.indexOf(null)
    t[blank < 0 ? t.length : blank] = id
  }
  while (t.length > 0 && t[t.length - 1] === null) t.pop()
  return t
}

// ---- the model's state: plain data, so it clones and compares cheaply ----

/** What the core sent down a conn, as the member reads it (EpochReady and GoingAway change nothing here and are dropped). */
type Down =
  | { t: 'ok', req: number, epoch: number }
  | { t: 'err', req: number, code: string, epoch: number }
  | { t: 'commit', epoch: number, commit: string }
  | { t: 'welcome', epoch: number }
  | { t: 'roster', epoch: number, members: string[], committer: string }
  | { t: 'jr' | 'jw' | 'lr', id: string }

interface Prepared {
  /** Epoch it was made in. */
  epoch: number
  added: string[]
  removed: string[]
  commit: string
}

/** What a member sent up a conn; `close` is the conn breaking behind what was sent. */
type Up =
  | { t: 'create' | 'join' | 'leave' | 'end' | 'close' }
  | { t: 'resume' | 'ack', epoch: number }
  | { t: 'commit', c: Prepared }
  | { t: 'deny', id: string }

interface Conn {
  id: number
  actor: string
  up: Up[]
  down: Down[]
  /** The member still reads and writes it. */
  memberOpen: boolean
  /** The core has not closed it (or been told it closed). */
  coreOpen: boolean
}

type Status = 'idle' | 'joining' | 'resuming' | 'live' | 'away' | 'ended'

/** Adversarial events still allowed, over all actors. */
interface Budget { crash: number, resume: number, leave: number }

interface Actor {
  id: string
  /** idle: no conn and no membership; away: a member whose conn broke, holding its MLS state. */
  status: Status
  conn: number | null
  /** MLS epoch; null without MLS state (idle, joining). */
  epoch: number | null
  committer: boolean
  joins: string[]
  removals: string[]
  prepared: Prepared | null
  inflight: (Prepared & { conn: number }) | null
  /** A Welcome arrived for the current join. */
  welcomed: boolean
  /** Joins (and rejoins) it may still start. */
  joinsLeft: number
}

interface World {
  now: number
  ended: boolean
  /** history[e]: the MLS tree at epoch e, as the accepted Commits made it. */
  history: Tree[]
  /** accepted[e]: the Commit that started epoch e ('' for 0). */
  accepted: string[]
  /** Members whose departure is under way (left, grace expired, or REJOIN_NEEDED). */
  departing: string[]
  /** Since when each member the core holds away is away (ms). */
  awaySince: Record<string, number>
  actors: Record<string, Actor>
  conns: Record<number, Conn>
  nextConn: number
  left: Budget
  ticks: number
  restarts: number
  ends: number
}

/** One step of the model. */
type Step =
  | { k: 'down' | 'flush' | 'submit' | 'leave' | 'crash' | 'resume' | 'join' | 'rejoin', who: string }
  | { k: 'up', conn: number }
  | { k: 'tick' | 'end' | 'restart' }

interface Config {
  /** Members at the start, the owner first; all added by epoch 1. */
  members: string[]
  /** Identities that may join later. */
  joiners: string[]
  /** Budgets over all actors after the setup. */
  crashes: number
  resumes: number
  leaves: number
  /** Joins per joiner; members get them too when `rejoin`. */
  joins: number
  /** Away members may give up their MLS state and join afresh. */
  rejoin: boolean
  ticks: number
  /** The core's memberGraceMs; a tick is UNIT_MS. */
  graceMs: number
  commitLogEntries: number
  acks: boolean
  /**
   * Members read what the core sends them at once, in the step that sent it
   * (the exhaustive check). This loses no behaviour: reading is local, so a
   * member acting before reading a message is the same run as the member
   * acting before the core sent it, and a crash that loses an unread
   * message is the same as a crash before it was sent (the core cannot
   * tell until it gets the close). Otherwise each read is a step of its own.
   */
  eager: boolean
  restarts: number
  ends: number
}

class Violation extends Error {
  constructor (readonly invariant: string, message: string) {
    super(`${invariant}: ${message}`)
  }
}

function fail (invariant: string, message: string): never {
  throw new Violation(invariant, message)
}

/**
 * Deep copy that keeps prototypes and shared references (the core's conn
 * states point at their stream's state); typed arrays and functions are
 * shared, as neither the core nor the model ever writes into one.
 */
function deepClone<T> (value: T, memo = new Map<unknown, unknown>()): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value
  const known = memo.get(value)
  if (known !== undefined) return known as T
  if (value instanceof Map) {
    const m = new Map()
    memo.set(value, m)
    for (const [k, v] of value) m.set(deepClone(k, memo), deepClone(v, memo))
    return m as T
  }
  if (value instanceof Set) {
    const s = new Set()
    memo.set(value, s)
    for (const v of value) s.add(deepClone(v, memo))
    return s as T
  }
  if (Array.isArray(value)) {
    const a: unknown[] = new Array(value.length)
    memo.set(value, a)
    for (let i = 0; i < value.length; i++) a[i] = deepClone(value[i], memo)
    return a as T
  }
  const proto = Object.getPrototypeOf(value) as object | null
  const o = (proto === Object.prototype ? { ...value } : Object.assign(Object.create(proto), value)) as Record<string, unknown>
  memo.set(value, o)
  for (const k in o) {
    const v = o[k]
    if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) o[k] = deepClone(v, memo)
  }
  return o as T
}

/**
 * Copies a world. Down and Up messages, Prepared Commits, trees and the
 * actors' lists are never changed in place (they are replaced), so the copy
 * shares them; the containers the steps change in place are copied.
 */
function cloneWorld (w: World): World {
  const actors: Record<string, Actor> = {}
  for (const id in w.actors) actors[id] = { ...w.actors[id]! }
  const conns: Record<number, Conn> = {}
  for (const id in w.conns) {
    const c = w.conns[id]!
    conns[id] = { ...c, up: c.up.slice(), down: c.down.slice() }
  }
  return { ...w, history: w.history.slice(), accepted: w.accepted.slice(), awaySince: { ...w.awaySince }, actors, conns, left: { ...w.left } }
}

/** What the runs went through: error codes the core sent, handovers, restarts (so a test can tell the model reached them). */
const seenEvents = new Set<string>()

function newCore (cfg: Config): GroupServiceCore {
  return new GroupServiceCore({
    inspectCommit: inspectModelCommit,
    memberGraceMs: cfg.graceMs,
    pendingJoinTimeoutMs: NEVER_MS,
    bindTimeoutMs: NEVER_MS,
    epochReadyTimeoutMs: UNIT_MS,
    commitLogEntries: cfg.commitLogEntries,
  })
}

function toDown (m: GroupServerMessage): Down | undefined {
  const req = Number(m.requestId)
  if (m.ok !== undefined) return { t: 'ok', req, epoch: Number(m.ok.epoch) }
  if (m.error !== undefined) return { t: 'err', req, code: m.error.code, epoch: Number(m.error.currentEpoch) }
  if (m.commit !== undefined) return { t: 'commit', epoch: Number(m.commit.epoch), commit: Buffer.from(m.commit.commit).toString('utf8') }
  if (m.welcome !== undefined) return { t: 'welcome', epoch: Number(m.welcome.epoch) }
  if (m.roster !== undefined) return { t: 'roster', epoch: Number(m.roster.epoch), members: [...m.roster.members], committer: m.roster.committer }
  if (m.joinRequested !== undefined) return { t: 'jr', id: m.joinRequested.identity }
  if (m.joinWithdrawn !== undefined) return { t: 'jw', id: m.joinWithdrawn.identity }
  if (m.leaveRequested !== undefined) return { t: 'lr', id: m.leaveRequested.identity }
  return undefined
}

function toClient (u: Exclude<Up, { t: 'close' }>): GroupClientMessage {
  const m = (requestId: number, body: Omit<GroupClientMessage, 'version' | 'requestId'>): GroupClientMessage =>
    ({ version: PROTOCOL_VERSION, requestId: BigInt(requestId), ...body })
  switch (u.t) {
    case 'create': return m(REQ.create, { create: { stream: NAME, groupId: GID } })
    case 'join': return m(REQ.join, { join: { stream: NAME, owner: OWNER, redemption: NONE } })
    case 'resume': return m(REQ.resume, { resume: { stream: NAME, owner: OWNER, epoch: BigInt(u.epoch) } })
    case 'ack': return m(0, { ack: { epoch: BigInt(u.epoch) } })
    case 'leave': return m(REQ.leave, { leave: {} })
    case 'end': return m(REQ.end, { end: {} })
    case 'deny': return m(REQ.deny, { deny: { identity: u.id, reason: 'the policy refuses it' } })
    case 'commit': {
      const c = u.c
      return m(REQ.commit, {
        commit: { epoch: BigInt(c.epoch), commit: new Uint8Array(Buffer.from(c.commit, 'utf8')), welcome: c.added.length > 0 ? WELCOME : NONE, added: c.added, removed: c.removed },
      })
    }
  }
  throw new Error(`no client message for ${u.t}`)
}

function downLabel (d: Down): string {
  switch (d.t) {
    case 'ok': return `ok{req ${d.req}, epoch ${d.epoch}}`
    case 'err': return `error{req ${d.req}, ${d.code}, epoch ${d.epoch}}`
    case 'commit': return `CommitDelivery{${d.epoch}}`
    case 'welcome': return `Welcome{${d.epoch}}`
    case 'roster': return `Roster{${d.epoch}, [${d.members.join(',')}], committer ${d.committer}}`
    default: return `${d.t === 'jr' ? 'JoinRequested' : d.t === 'jw' ? 'JoinWithdrawn' : 'LeaveRequested'}{${d.id}}`
  }
}

function stepLabel (s: Step, w: World): string {
  switch (s.k) {
    case 'up': {
      const c = w.conns[s.conn]!
      const u = c.up[0]!
      const what = u.t === 'commit' ? `commit{epoch ${u.c.epoch}, added [${u.c.added.join(',')}], removed [${u.c.removed.join(',')}]}`
        : u.t === 'resume' || u.t === 'ack' ? `${u.t}{epoch ${u.epoch}}` : u.t === 'deny' ? `deny{${u.id}}` : u.t
      return `core <- ${c.actor}#${c.id}: ${what}`
    }
    case 'down': {
      const a = w.actors[s.who]!
      return `${s.who} <- ${downLabel(w.conns[a.conn!]!.down[0]!)}`
    }
    case 'tick': return `tick (now ${w.now + UNIT_MS} ms)`
    case 'end': return `${OWNER} sends end`
    case 'restart': return 'node restarts'
    default: return `${s.who} ${s.k}${s.k === 'flush' ? 'es' : 's'}`
  }
}

/** The core, the model world, and the last persisted snapshot (what a restart restores). */
class Sim {
  core: GroupServiceCore
  w: World
  persisted: StreamSnapshot | undefined
  readonly cfg: Config
  /** Ran the quiescence phase: nothing adversarial happens any more. */
  private calm = false

  private constructor (cfg: Config, core: GroupServiceCore, w: World, persisted: StreamSnapshot | undefined) {
    this.cfg = cfg
    this.core = core
    this.w = w
    this.persisted = persisted
  }

  clone (): Sim {
    const memo = new Map<unknown, unknown>()
    return new Sim(this.cfg, deepClone(this.core, memo), cloneWorld(this.w), deepClone(this.persisted, memo))
  }

  /** The owner creates the stream, the other members join, and the owner adds them at epoch 1. */
  static initial (cfg: Config): Sim {
    const w: World = {
      now: 0, ended: false, history: [[cfg.members[0]!]], accepted: [''], departing: [], awaySince: {},
      actors: {}, conns: {}, nextConn: 1, left: { crash: 0, resume: 0, leave: 0 }, ticks: 0, restarts: 0, ends: 0,
    }
    for (const id of [...cfg.members, ...cfg.joiners].sort()) {
      w.actors[id] = { id, status: 'idle', conn: null, epoch: null, committer: false, joins: [], removals: [], prepared: null, inflight: null, welcomed: false, joinsLeft: 1 }
    }
    const sim = new Sim(cfg, newCore(cfg), w, undefined)
    const owner = w.actors[cfg.members[0]!]!
    sim.openConn(owner, { t: 'create' })
    owner.status = 'joining'
    for (const id of cfg.members.slice(1)) sim.apply({ k: 'join', who: id })
    sim.settle()
    const r = sim.core.roster(KEY)
    if (r?.epoch !== 1n || r.members.length !== cfg.members.length) throw new Error(`setup failed: ${JSON.stringify(r, (_, v: unknown) => typeof v === 'bigint' ? Number(v) : v)}`)
    for (const a of Object.values(w.actors)) a.joinsLeft = cfg.members.includes(a.id) && !cfg.rejoin ? 0 : cfg.joins
    w.left = { crash: cfg.crashes, resume: cfg.resumes, leave: cfg.leaves }
    return sim
  }

  // ---- what may happen next ----

  steps (): Step[] {
    const w = this.w
    const out: Step[] = []
    const actors = Object.values(w.actors)
    for (const a of actors) if (a.conn !== null && w.conns[a.conn]!.down.length > 0) out.push({ k: 'down', who: a.id })
    for (const c of Object.values(w.conns)) if (c.coreOpen && c.up.length > 0) out.push({ k: 'up', conn: c.id })
    // Once the stream is gone, only what is on the way arrives.
    if (w.ended) return out
    for (const a of actors) {
      if (this.canFlush(a)) out.push({ k: 'flush', who: a.id })
      if (this.canSubmit(a)) out.push({ k: 'submit', who: a.id })
      if (this.calm) continue
      if (a.status === 'live' && w.left.leave > 0) out.push({ k: 'leave', who: a.id })
      if ((a.status === 'live' || a.status === 'resuming' || a.status === 'joining') && w.left.crash > 0) out.push({ k: 'crash', who: a.id })
      if (a.status === 'away' && w.left.resume > 0) out.push({ k: 'resume', who: a.id })
      if (a.status === 'away' && this.cfg.rejoin && a.joinsLeft > 0) out.push({ k: 'rejoin', who: a.id })
      if (a.status === 'idle' && a.joinsLeft > 0) out.push({ k: 'join', who: a.id })
    }
    if (this.waiting().length > 0 && (this.calm || w.ticks < this.cfg.ticks)) out.push({ k: 'tick' })
    if (!this.calm && w.ends < this.cfg.ends && w.actors[OWNER]!.status === 'live') out.push({ k: 'end' })
    if (!this.calm && w.restarts < this.cfg.restarts) out.push({ k: 'restart' })
    return out
  }

  /** Members the core holds away whose departure is not under way: what time passing changes. */
  private waiting (): string[] {
    return Object.keys(this.w.awaySince).filter(id => !this.w.departing.includes(id))
  }

  /** The committer's next Commit and denials, from what it collected and its view of the tree. */
  private work (a: Actor): { deny: string[], add: string[], remove: string[] } {
    const tree = this.w.history[a.epoch!]!
    return {
      deny: a.joins.filter(id => !admitted(id)),
      add: a.joins.filter(id => admitted(id) && !tree.includes(id)).sort(),
      remove: a.removals.filter(id => id !== a.id && tree.includes(id)).sort(),
    }
  }

  private canFlush (a: Actor): boolean {
    if (!a.committer || a.epoch === null || a.conn === null || a.prepared !== null || a.inflight !== null) return false
    if (a.status !== 'live' && a.status !== 'resuming') return false
    const { deny, add, remove } = this.work(a)
    return deny.length + add.length + remove.length > 0
  }

  private canSubmit (a: Actor): boolean {
    return a.prepared !== null && a.conn !== null && (a.status === 'live' || a.status === 'resuming')
  }

  // ---- steps ----

  apply (s: Step): void {
    const w = this.w
    const before = this.observe()
    let sender: string | undefined
    let delivered: Up | undefined
    const seen: Seen = { commitOk: false, closed: false }
    switch (s.k) {
      case 'up': {
        const c = w.conns[s.conn]!
        const u = c.up.shift()!
        sender = c.actor
        delivered = u
        if (u.t === 'close') {
          c.coreOpen = false
          if (!c.memberOpen) delete w.conns[c.id]
          this.run({ kind: 'closed', conn: c.id }, seen, c.id)
        } else {
          if (u.t === 'leave' && this.core.isMember(KEY, c.actor)) seen.leaving = c.actor
          this.run({ kind: 'message', conn: c.id, message: toClient(u) }, seen, c.id)
        }
        break
      }
      case 'down': {
        const a = w.actors[s.who]!
        this.receive(a, w.conns[a.conn!]!.down.shift()!)
        break
      }
      case 'flush': this.flush(w.actors[s.who]!); break
      case 'submit': {
        const a = w.actors[s.who]!
        const p = a.prepared!
        a.prepared = null
        a.inflight = { ...p, conn: a.conn! }
        w.conns[a.conn!]!.up.push({ t: 'commit', c: p })
        break
      }
      case 'leave': {
        const a = w.actors[s.who]!
        w.left.leave--
        w.conns[a.conn!]!.up.push({ t: 'leave' })
        this.giveUp(a)
        break
      }
      case 'crash': {
        const a = w.actors[s.who]!
        w.left.crash--
        this.dropConn(a)
        a.welcomed = false
        if (a.epoch === null) this.forget(a, 'idle')
        else a.status = 'away'
        break
      }
      case 'resume': {
        const a = w.actors[s.who]!
        w.left.resume--
        this.openConn(a, { t: 'resume', epoch: a.epoch! })
        a.status = 'resuming'
        break
      }
      case 'rejoin':
      case 'join': {
        const a = w.actors[s.who]!
        a.joinsLeft--
        this.forget(a, 'joining')
        this.openConn(a, { t: 'join' })
        break
      }
      case 'tick':
        w.now += UNIT_MS
        w.ticks++
        this.run({ kind: 'tick' }, seen)
        break
      case 'end':
        w.ends++
        w.conns[w.actors[OWNER]!.conn!]!.up.push({ t: 'end' })
        break
      case 'restart':
        this.restart()
        break
    }
    this.check(s, before, sender, delivered, seen)
    if (this.cfg.eager) this.readAll()
  }

  /** Every member reads everything queued for it, in order (`eager`). */
  private readAll (): void {
    for (const a of Object.values(this.w.actors)) {
      while (a.conn !== null && this.w.conns[a.conn]!.down.length > 0) this.receive(a, this.w.conns[a.conn]!.down.shift()!)
    }
  }

  private openConn (a: Actor, first: Up): void {
    const id = this.w.nextConn++
    this.w.conns[id] = { id, actor: a.id, up: [first], down: [], memberOpen: true, coreOpen: true }
    a.conn = id
    this.run({ kind: 'opened', conn: id, peer: a.id }, { commitOk: false, closed: false })
  }

  /** The member's side of its conn breaks: what the core sent is lost, what the member sent arrives, then the close. */
  private dropConn (a: Actor): void {
    if (a.conn === null) return
    const c = this.w.conns[a.conn]!
    c.memberOpen = false
    c.down = []
    if (c.coreOpen) c.up.push({ t: 'close' })
    else delete this.w.conns[c.id]
    a.conn = null
  }

  /** Closes the actor's conn and drops its state: it is out, and may join again later. */
  private giveUp (a: Actor): void {
    this.dropConn(a)
    this.forget(a, 'idle')
  }

  /** Drops the actor's MLS state and committer duty. */
  private forget (a: Actor, status: Status): void {
    a.status = status
    a.epoch = null
    a.committer = false
    a.joins = []
    a.removals = []
    a.prepared = null
    a.inflight = null
    a.welcomed = false
  }

  private flush (a: Actor): void {
    const { deny, add, remove } = this.work(a)
    const up = this.w.conns[a.conn!]!.up
    for (const id of deny) up.push({ t: 'deny', id })
    a.joins = a.joins.filter(id => !deny.includes(id))
    a.removals = remove
    if (add.length + remove.length === 0) return
    const tree = this.w.history[a.epoch!]!
    const c: FakeCommit = { e: a.epoch!, s: tree.indexOf(a.id), a: add, r: remove.map(id => tree.indexOf(id)) }
    a.prepared = { epoch: a.epoch!, added: add, removed: remove, commit: encodeCommit(c) }
  }

  private restart (): void {
    const w = this.w
    w.restarts++
    seenEvents.add('restart')
    // GoingAway to every member first; the model's members reconnect whenever they like.
    this.run({ kind: 'going-away', reason: 'restart', addresses: [], retryAfterMs: 0 }, { commitOk: false, closed: false })
    this.core = newCore(this.cfg)
    for (const a of Object.values(w.actors)) {
      if (a.conn !== null) w.conns[a.conn]!.memberOpen = false
      a.conn = null
      if (a.status === 'live' || a.status === 'resuming') a.status = 'away'
      if (a.status === 'joining') this.forget(a, 'idle')
    }
    w.conns = {}
    w.departing = []
    w.awaySince = {}
    if (this.persisted === undefined) {
      w.ended = true
      return
    }
    const refused = this.core.restore([this.persisted], w.now)
    if (refused.length > 0) fail('I4', 'the persisted stream was not restored')
    const r = this.core.roster(KEY)!
    if (Number(r.epoch) !== w.history.length - 1) fail('I4', `the restart restored epoch ${r.epoch}, the members reached ${w.history.length - 1}`)
    for (const id of r.away) w.awaySince[id] = w.now
  }

  /** Feeds one event to the core and carries out its actions (a `close` is reported back as `closed`). */
  private run (event: Parameters<GroupServiceCore['handle']>[0], seen: Seen, stepConn?: number): void {
    const closing: number[] = []
    this.carryOut(this.core.handle(event, this.w.now), seen, stepConn, closing)
    while (closing.length > 0) this.carryOut(this.core.handle({ kind: 'closed', conn: closing.shift()! }, this.w.now), seen, undefined, closing)
  }

  private carryOut (actions: GroupAction[], seen: Seen, stepConn: number | undefined, closing: number[]): void {
    const w = this.w
    for (const act of actions) {
      switch (act.kind) {
        case 'send': {
          const m = act.message
          if (m.error !== undefined) seenEvents.add(m.error.code)
          if (act.conn === stepConn && m.requestId === BigInt(REQ.commit) && m.ok !== undefined) seen.commitOk = true
          if (act.conn === stepConn && m.requestId === BigInt(REQ.leave) && m.ok !== undefined && seen.leaving !== undefined) this.depart(seen.leaving)
          if (act.conn === stepConn && m.requestId === BigInt(REQ.resume) && m.error?.code === 'REJOIN_NEEDED') this.depart(w.conns[stepConn]!.actor)
          // A member that joins again (away, or leaving) has its old leaf's removal asked for.
          if (act.conn === stepConn && m.requestId === BigInt(REQ.join) && m.ok !== undefined) this.depart(w.conns[stepConn]!.actor)
          if (m.leaveRequested !== undefined) this.depart(m.leaveRequested.identity)
          const c = w.conns[act.conn]
          const d = toDown(m)
          if (c !== undefined && c.memberOpen && d !== undefined) c.down.push(d)
          break
        }
        case 'close': {
          const c = w.conns[act.conn]
          if (c !== undefined) {
            c.coreOpen = false
            c.up = []
            if (!c.memberOpen) delete w.conns[c.id]
          }
          closing.push(act.conn)
          break
        }
        case 'persist':
          this.persisted = this.core.snapshot(KEY)
          break
        case 'streamClosed':
          seen.closed = true
          w.ended = true
          this.persisted = undefined
          break
        case 'committer':
          if (act.committer !== undefined && w.history.length > 1) seenEvents.add('handover')
          break
        case 'roster':
          break
      }
    }
  }

  private depart (id: string): void {
    if (this.core.isMember(KEY, id) && !this.w.departing.includes(id)) this.w.departing = [...this.w.departing, id].sort()
  }

  // ---- a member reads one message ----

  private receive (a: Actor, d: Down): void {
    const w = this.w
    switch (d.t) {
      case 'ok':
        if (d.req === REQ.commit) {
          if (a.inflight === null || a.inflight.conn !== a.conn) fail('I1', `${a.id} got ok for a Commit it has not in flight`)
          this.applyOwn(a, d.epoch)
        } else if (d.req === REQ.create) {
          a.status = 'live'
          a.epoch = 0
        } else if (d.req === REQ.resume) {
          if (d.epoch < a.epoch!) fail('I4', `${a.id} resumed at epoch ${a.epoch} but the service is at ${d.epoch}`)
          a.status = 'live'
        }
        return
      case 'err':
        this.refused(a, d)
        return
      case 'commit': {
        if (a.epoch === null) fail('I4', `${a.id} got CommitDelivery{${d.epoch}} without MLS state`)
        if (a.inflight !== null && a.inflight.commit === d.commit) {
          // Its own Commit, accepted while its conn was down, from the log.
          this.applyOwn(a, d.epoch)
          return
        }
        if (d.epoch !== a.epoch + 1 || w.accepted[d.epoch] !== d.commit) {
          fail('I4', `${a.id} at epoch ${a.epoch} got CommitDelivery{${d.epoch}} ${w.accepted[d.epoch] === d.commit ? '' : 'that is not the accepted one'}`)
        }
        const c = decodeCommit(d.commit)
        const myLeaf = w.history[a.epoch]!.indexOf(a.id)
        // Removed: it shuts down, and may join again later.
        if (c.r.includes(myLeaf)) return this.giveUp(a)
        a.epoch = d.epoch
        if (a.inflight !== null && a.inflight.conn !== a.conn && a.inflight.epoch < a.epoch) a.inflight = null
        if (this.cfg.acks) w.conns[a.conn!]!.up.push({ t: 'ack', epoch: a.epoch })
        return
      }
      case 'welcome':
        if (a.status !== 'joining' || a.welcomed) fail('I2', `${a.id} got a second Welcome, or one it did not ask for`)
        if (!w.history[d.epoch]?.includes(a.id)) fail('I2', `${a.id} got Welcome{${d.epoch}} but that epoch does not add it`)
        a.status = 'live'
        a.epoch = d.epoch
        a.welcomed = true
        if (this.cfg.acks) w.conns[a.conn!]!.up.push({ t: 'ack', epoch: a.epoch })
        return
      case 'roster':
        if (a.epoch === null) fail('I4', `${a.id} got a Roster without MLS state`)
        if (d.epoch !== a.epoch) fail('I4', `${a.id} at epoch ${a.epoch} got Roster{${d.epoch}}`)
        // After a resume, a Commit in flight on the broken conn can no longer be accepted.
        if (a.inflight !== null && a.inflight.conn !== a.conn) a.inflight = null
        if (d.committer === a.id) {
          if (!a.committer) {
            a.committer = true
            a.joins = []
            a.removals = []
          }
        } else if (a.committer) {
          a.committer = false
          a.joins = []
          a.removals = []
          a.prepared = null
        }
        return
      case 'jr':
        if (!a.committer) fail('I3', `JoinRequested{${d.id}} reached ${a.id}, which is not the committer`)
        if (!a.joins.includes(d.id)) a.joins = [...a.joins, d.id]
        return
      case 'jw':
        a.joins = a.joins.filter(id => id !== d.id)
        return
      case 'lr':
        if (!a.committer) fail('I3', `LeaveRequested{${d.id}} reached ${a.id}, which is not the committer`)
        if (!a.removals.includes(d.id)) a.removals = [...a.removals, d.id]
    }
  }

  private applyOwn (a: Actor, epoch: number): void {
    const f = a.inflight!
    if (epoch !== f.epoch + 1 || a.epoch !== f.epoch || this.w.accepted[epoch] !== f.commit) {
      fail('I1', `${a.id} at epoch ${a.epoch} was told its Commit made in ${f.epoch} started epoch ${epoch}`)
    }
    a.epoch = epoch
    a.joins = a.joins.filter(id => !f.added.includes(id))
    a.removals = a.removals.filter(id => !f.removed.includes(id))
    a.inflight = null
  }

  private refused (a: Actor, d: Extract<Down, { t: 'err' }>): void {
    const code = d.code
    switch (d.req) {
      case REQ.commit:
        // A lost race or a role gone; on a conn the core dropped (a newer resume, a failed one): the Commit is dropped, its requests stay.
        if (!['STALE_EPOCH', 'NOT_COMMITTER', 'NOT_MEMBER', 'INVALID_STATE', 'NOT_FOUND'].includes(code)) fail('I1', `${a.id}'s Commit was refused ${code}`)
        if (a.inflight?.conn === a.conn) a.inflight = null
        return
      case REQ.resume:
        if (code === 'REJOIN_NEEDED') {
          if (a.epoch! > d.epoch) fail('I4', `${a.id} resumed at epoch ${a.epoch}, ahead of the service's ${d.epoch}`)
          const conn = a.conn!
          this.forget(a, 'joining')
          this.w.conns[conn]!.up.push({ t: 'join' })
          return
        }
        if (code === 'NOT_MEMBER') return this.giveUp(a)
        break
      case REQ.join:
        if (code === 'ALREADY_EXISTS') return this.giveUp(a)
        break
      case REQ.deny:
      case REQ.leave:
      case REQ.end:
        // The role or the membership went first, or it was pipelined behind a resume that was refused.
        if (['NOT_FOUND', 'NOT_COMMITTER', 'NOT_MEMBER', 'INVALID_STATE'].includes(code)) return
        break
      case 0:
        if (code === 'NOT_ADMITTED' && a.status === 'joining' && !admitted(a.id)) return this.giveUp(a)
        break
    }
    if (code === 'NOT_FOUND' && this.w.ended) {
      this.dropConn(a)
      this.forget(a, 'ended')
      return
    }
    fail(code === 'NOT_ADMITTED' || code === 'TIMEOUT' ? 'I2' : 'I4', `${a.id} (${a.status}) got error ${code} for request ${d.req}`)
  }

  // ---- invariants after a step ----

  private observe (): Observed {
    const r = this.core.roster(KEY)
    return r === undefined
      ? { epoch: -1, committer: '', members: [], away: [] }
      : { epoch: Number(r.epoch), committer: r.committer, members: r.members, away: r.away }
  }

  private check (s: Step, before: Observed, sender: string | undefined, delivered: Up | undefined, seen: Seen): void {
    const w = this.w
    const r = this.core.roster(KEY)
    if (r === undefined) {
      if (before.epoch < 0 && !seen.closed) return // not created yet (setup)
      if (!w.ended) fail('I3', 'the stream is gone without streamClosed')
      if (seen.closed && s.k !== 'restart' && !(s.k === 'up' && delivered?.t === 'end')) this.checkEnd(before, sender, s)
      return
    }
    // Away members and their grace.
    for (const id of r.away) if (w.awaySince[id] === undefined) w.awaySince[id] = w.now
    for (const id of Object.keys(w.awaySince)) if (!r.away.includes(id)) delete w.awaySince[id]
    for (const id of r.away) if (w.now - w.awaySince[id]! >= this.cfg.graceMs) this.depart(id)
    w.departing = w.departing.filter(id => r.members.includes(id))

    // I1
    const epoch = Number(r.epoch)
    if (epoch !== before.epoch && before.epoch >= 0) {
      if (epoch !== before.epoch + 1) fail('I1', `the epoch moved from ${before.epoch} to ${epoch}`)
      if (s.k !== 'up' || delivered?.t !== 'commit' || !seen.commitOk) fail('I1', `epoch ${epoch} began without an accepted Commit`)
      if (sender !== before.committer) fail('I1', `a Commit of ${sender} was accepted while ${before.committer || 'nobody'} was the committer`)
      if (delivered.c.epoch !== before.epoch) fail('I1', `a Commit made in epoch ${delivered.c.epoch} started epoch ${epoch}`)
      const prev = w.history[before.epoch]!
      for (const id of delivered.c.added) if (prev.includes(id)) fail('I2', `${id} was added again while a member`)
      w.accepted[epoch] = delivered.c.commit
      w.history[epoch] = applyToTree(prev, decodeCommit(delivered.c.commit))
      const tree = w.history[epoch]!
      const members = tree.filter((id): id is string => id !== null)
      if (members.length !== r.members.length || members.some(id => !r.members.includes(id))) fail('I1', `the core's roster [${r.members.join(',')}] is not the tree [${tree.join(',')}]`)
      for (const id of members) if (this.core.leafIndexOf(KEY, id) !== tree.indexOf(id)) fail('I1', `the core holds ${id} at leaf ${this.core.leafIndexOf(KEY, id)}, the tree at ${tree.indexOf(id)}`)
    } else if (seen.commitOk) {
      fail('I1', 'a Commit was answered ok but the epoch did not move')
    }

    // I3
    const live = r.members.filter(id => !r.away.includes(id) && !w.departing.includes(id))
    if (live.length > 0 && !live.includes(r.committer)) {
      fail('I3', `${live.join(',')} live, but the committer is ${r.committer || 'nobody'}`)
    }
    if (r.committer !== before.committer && r.committer !== '' && s.k !== 'restart') {
      const lowest = [...live].sort((x, y) => this.core.leafIndexOf(KEY, x)! - this.core.leafIndexOf(KEY, y)!)[0]
      if (r.committer !== lowest) fail('I3', `${r.committer} was designated, but ${lowest} has the lowest leaf of the live members`)
    }
    if (live.length === 0 && this.waiting().length === 0) {
      fail('I3', `no member is live or expected back (away: ${r.away.join(',') || 'none'}, departing: ${w.departing.join(',') || 'none'}), yet the stream goes on`)
    }
  }

  /** The stream closed without `end`: nobody was live, and nobody away within grace (I3). */
  private checkEnd (before: Observed, sender: string | undefined, s: Step): void {
    const w = this.w
    for (const id of before.members) {
      if (id === sender && s.k === 'up') continue
      const away = before.away.includes(id)
      if (w.departing.includes(id)) continue
      if (!away && s.k !== 'tick') fail('I3', `the stream ended while ${id} was live`)
      if (away && w.awaySince[id] !== undefined && w.now - w.awaySince[id]! < this.cfg.graceMs) fail('I3', `the stream ended while ${id} was away within its grace`)
    }
  }

  // ---- quiescence ----

  /**
   * Runs the members fairly with nothing adversarial until nothing is
   * pending; then checks I2 and I4. `known` holds the keys of states whose
   * quiescence already passed: reaching one ends the run, and the keys of
   * this run's states join it once it passes.
   */
  quiesce (limit = 2000, known?: Set<string>): number {
    this.calm = true
    let n = 0
    const path: string[] = []
    for (;;) {
      if (known !== undefined) {
        const k = this.key()
        if (known.has(k)) return n
        path.push(k)
      }
      const next = calmStep(this.steps())
      if (next === undefined) break
      if (++n > limit) fail('I2', `no quiescence within ${limit} steps`)
      this.apply(next)
    }
    const w = this.w
    const r = this.core.roster(KEY)
    const actors = Object.values(w.actors)
    if (r === undefined) {
      for (const a of actors) if (a.status === 'live' || a.status === 'joining' || a.status === 'resuming') fail('I3', `the stream ended but ${a.id} (${a.status}) was not told`)
      for (const k of path) known?.add(k)
      return n
    }
    for (const a of actors) {
      if (a.status === 'joining') fail('I2', `${a.id} is still waiting for its join to be answered`)
      if (a.status === 'resuming') fail('I4', `${a.id} is still resuming`)
      if (a.status === 'live') {
        if (!r.members.includes(a.id) || r.away.includes(a.id)) fail('I4', `${a.id} believes it is live, the core does not`)
        if (a.epoch !== Number(r.epoch)) fail('I4', `${a.id} is at epoch ${a.epoch}, the stream at ${r.epoch}`)
        if (!w.conns[a.conn!]!.coreOpen) fail('I4', `${a.id}'s conn was closed without a word`)
      }
    }
    if (r.pending > 0) fail('I2', `${r.pending} joins still pending`)
    if (r.away.length > 0) fail('I4', `${r.away.join(',')} still in the roster, away, after the grace period (departure under way: ${r.away.filter(id => w.departing.includes(id)).join(',') || 'none'}); the removal was never committed`)
    for (const id of r.members) if (w.actors[id]?.status !== 'live') fail('I4', `${id} is in the roster but not live`)
    const c = w.actors[r.committer]
    if (c === undefined || !c.committer) fail('I3', `the committer ${r.committer || 'nobody'} does not know it is`)
    if (c.prepared !== null || c.inflight !== null || this.canFlush(c)) fail('I2', `the committer ${c.id} still has work`)
    for (const k of path) known?.add(k)
    return n
  }

  /** Settles the setup: everything delivered, committers act. */
  private settle (): void {
    for (let i = 0; i < 1000; i++) {
      const next = this.steps().find(s => s.k === 'down' || s.k === 'up' || s.k === 'submit' || s.k === 'flush')
      if (next === undefined) return
      this.apply(next)
    }
    throw new Error('setup did not settle')
  }

  // ---- a canonical key for deduplication ----

  key (): string {
    const w = this.w
    const r = this.core.roster(KEY)
    const core = r === undefined ? 'ended' : [r.epoch, r.committer, r.members.map(m => `${m}@${this.core.leafIndexOf(KEY, m)}`).join(','), r.away.join(','), r.pending].join('|')
    const ages = Object.keys(w.awaySince).sort().map(id => `${id}:${Math.min(w.now - w.awaySince[id]!, this.cfg.graceMs)}`)
    const conns: Record<string, unknown[]> = {}
    for (const c of Object.values(w.conns)) {
      const mine = w.actors[c.actor]!.conn === c.id
      ;(conns[c.actor] ??= []).push([mine, c.coreOpen, c.up, c.down])
    }
    const actors = Object.values(w.actors).map(a => [
      a.id, a.status, a.epoch, a.committer, a.joins, a.removals, a.prepared?.commit, a.inflight?.commit, a.inflight?.conn === a.conn, a.welcomed,
      a.joinsLeft, conns[a.id] ?? [],
    ])
    // Hashed: hundreds of thousands of kilobyte keys would keep the collector busy.
    return createHash('sha1').update(JSON.stringify([core, ages, w.departing, w.accepted, w.left, this.cfg.ticks === UNBOUNDED ? 0 : w.ticks, w.restarts, w.ends, actors])).digest('base64')
  }
}

/** The step the quiescence phase takes among `steps`: deliver first, then committers act, then time passes. */
function calmStep (steps: Step[]): Step | undefined {
  return steps.find(s => s.k === 'down') ?? steps.find(s => s.k === 'up') ??
    steps.find(s => s.k === 'submit') ?? steps.find(s => s.k === 'flush') ?? steps.find(s => s.k === 'tick')
}

interface Observed { epoch: number, committer: string, members: string[], away: string[] }
interface Seen {
  /** An ok answered the SubmitCommit delivered in this step. */
  commitOk: boolean
  /** streamClosed was among the actions. */
  closed: boolean
  /** The member whose leave this step delivered. */
  leaving?: string
}

// ---- exhaustive exploration ----

interface Trail { label: string, parent: Trail | null }

function trailOf (t: Trail | null): string[] {
  const out: string[] = []
  for (let x = t; x !== null; x = x.parent) out.push(x.label)
  return out.reverse()
}

interface Explored { states: number, transitions: number, depth: number, quiesced: number, ms: number }

/**
 * Breadth-first over every interleaving up to `maxDepth` steps, deduplicated
 * by Sim.key. Every state's quiescence is checked, at the least cost: the
 * quiescence phase takes one step at a time (calmStep), so it is run from a
 * state only when that step leads nowhere new (no step, a state seen
 * before, which also finds the cycles of a livelock) or the state is at the
 * depth bound; otherwise the next state on the way is checked in its turn.
 * A violation fails with the shortest step sequence that reaches it.
 */
function explore (cfg: Config, maxDepth: number): Explored {
  if (cfg.ticks !== UNBOUNDED) throw new RangeError('explore takes unbounded ticks, so the quiescence phase only takes steps the search takes too')
  const started = Date.now()
  const root = Sim.initial(cfg)
  const seen = new Set<string>([root.key()])
  const quiet = new Set<string>()
  let frontier: Array<{ sim: Sim, trail: Trail | null }> = [{ sim: root, trail: null }]
  let transitions = 0
  let quiesced = 0
  let depth = 0
  const report = (err: unknown, trail: Trail | null, label: string): never => {
    if (!(err instanceof Violation)) throw err
    const steps = [...trailOf(trail), label].map((l, i) => `  ${i + 1}. ${l}`).join('\n')
    throw new Error(`${err.message}\nreached by, after setup (${cfg.members.join(', ')} members at epoch 1):\n${steps}`)
  }
  /** Runs the quiescence phase on `sim` itself (it is not used afterwards). */
  const quiesce = (sim: Sim, trail: Trail | null): void => {
    try {
      sim.quiesce(2000, quiet)
    } catch (err) {
      report(err, trail, '(quiescence: members act fairly, no more crashes)')
    }
    quiesced++
  }
  for (; depth < maxDepth && frontier.length > 0; depth++) {
    const next: typeof frontier = []
    for (const { sim, trail } of frontier) {
      const steps = sim.steps()
      const calm = calmStep(steps)
      if (calm === undefined) quiesce(sim.clone(), trail)
      steps.forEach((step, i) => {
        const label = stepLabel(step, sim.w)
        // The last step may change `sim` itself: it is not needed any more.
        const s = i === steps.length - 1 ? sim : sim.clone()
        try {
          s.apply(step)
        } catch (err) {
          report(err, trail, label)
        }
        transitions++
        const k = s.key()
        if (seen.has(k)) {
          // Quiescence from `sim` goes on from `s`.
          if (step === calm && !quiet.has(k)) quiesce(s, { label, parent: trail })
          return
        }
        seen.add(k)
        next.push({ sim: s, trail: { label, parent: trail } })
      })
    }
    frontier = next
    if (process.env.HANDOVER_MODEL_DEBUG !== undefined) process.stderr.write(`depth ${depth + 1}: ${seen.size} states, frontier ${frontier.length}, ${Date.now() - started} ms\n`)
  }
  for (const { sim, trail } of frontier) if (!quiet.has(sim.key())) quiesce(sim, trail)
  return { states: seen.size, transitions, depth, quiesced, ms: Date.now() - started }
}

// ---- random runs ----

const WEIGHTS: Record<Step['k'], number> = {
  down: 12, up: 12, flush: 6, submit: 6, tick: 1, crash: 1, resume: 4, join: 3, rejoin: 0.5, leave: 0.5, end: 0.02, restart: 0.1,
}

function pick (steps: Step[], r: number): Step {
  const total = steps.reduce((n, s) => n + WEIGHTS[s.k], 0)
  let x = (r / 0x100000000) * total
  for (const s of steps) {
    x -= WEIGHTS[s.k]
    if (x < 0) return s
  }
  return steps[steps.length - 1]!
}

const BASE: Config = {
  members: ['alice', 'bob', 'carol'], joiners: ['dave'],
  crashes: 2, resumes: 1, leaves: 1, joins: 1, rejoin: false, ticks: UNBOUNDED, graceMs: 2 * UNIT_MS,
  commitLogEntries: 64, acks: false, eager: true, restarts: 0, ends: 0,
}

/** Delivers to the core the next message `who` sent on its `nth` conn still carrying some (0: the oldest). */
function deliver (sim: Sim, who: string, nth = 0): void {
  const conns = Object.values(sim.w.conns).filter(c => c.actor === who && c.coreOpen && c.up.length > 0).sort((x, y) => x.id - y.id)
  sim.apply({ k: 'up', conn: conns[nth]!.id })
}

/** Runs the quiescence phase, failing with the violation's text. */
function settles (sim: Sim): void {
  try {
    sim.quiesce()
  } catch (err) {
    if (err instanceof Violation) expect.fail(err.message)
    throw err
  }
}

describe('committer handover model (protocol/survival.md section 7)', () => {
  it('the model settles a plain run: joins, a crash and a resume, a leave', () => {
    const sim = Sim.initial(BASE)
    sim.apply({ k: 'crash', who: 'bob' })
    sim.apply({ k: 'join', who: 'dave' })
    sim.apply({ k: 'resume', who: 'bob' })
    sim.apply({ k: 'leave', who: 'carol' })
    sim.quiesce()
    const r = sim.core.roster(KEY)!
    expect(r.members).toEqual(['alice', 'bob', 'dave'])
    expect(r.committer).toBe('alice')
    expect(sim.core.leafIndexOf(KEY, 'dave')).toBe(2)
    expect(Object.values(sim.w.actors).map(a => [a.id, a.status, a.epoch])).toEqual([
      ['alice', 'live', 2], ['bob', 'live', 2], ['carol', 'idle', null], ['dave', 'live', 2],
    ])
  })

  // The shortest runs of the violations the exhaustive check found first.

  it('a committer that resumes before the node saw its old stream close is handed the pending joins again (I2)', () => {
    const sim = Sim.initial({ ...BASE, members: ['alice', 'bob'], joiners: ['carol'] })
    sim.apply({ k: 'crash', who: 'alice' })
    sim.apply({ k: 'join', who: 'carol' })
    deliver(sim, 'carol') // JoinRequested{carol} goes to alice's broken stream
    sim.apply({ k: 'resume', who: 'alice' })
    deliver(sim, 'alice', 1) // the resume, before the old stream's close: alice is still the committer
    settles(sim)
    expect(sim.core.roster(KEY)!.members).toEqual(['alice', 'bob', 'carol'])
  })

  it('a committer that resumes before the node saw its old stream close is handed the departures again (I4)', () => {
    const sim = Sim.initial({ ...BASE, members: ['alice', 'bob'], joiners: ['carol'] })
    sim.apply({ k: 'leave', who: 'alice' })
    sim.apply({ k: 'crash', who: 'bob' })
    deliver(sim, 'alice') // bob is designated; the Roster and LeaveRequested{alice} go to his broken stream
    sim.apply({ k: 'resume', who: 'bob' })
    deliver(sim, 'bob', 1) // the resume, before the old stream's close
    settles(sim)
    expect(sim.core.roster(KEY)!.members).toEqual(['bob'])
  })

  it('a resume of an earlier reconnect attempt that arrives late does not take over the member\'s newer stream (I4)', () => {
    const sim = Sim.initial({ ...BASE, members: ['alice', 'bob'], joiners: ['carol'], resumes: 2 })
    sim.apply({ k: 'crash', who: 'bob' })
    sim.apply({ k: 'resume', who: 'bob' })
    sim.apply({ k: 'crash', who: 'bob' })
    sim.apply({ k: 'resume', who: 'bob' })
    deliver(sim, 'bob', 2) // the second attempt's resume first; the first attempt's arrives later
    settles(sim)
    expect(sim.core.roster(KEY)!.away).toEqual([])
  })

  it('every interleaving of 3 members and 1 joiner: crashes anywhere, resumes, a leave, time past the grace period', () => {
    seenEvents.clear()
    const r = explore(BASE, 10)
    console.log(`handover model, 3 members + 1 joiner: ${r.states} states, ${r.transitions} transitions, depth ${r.depth}, ${r.quiesced} quiescence runs, ${r.ms} ms; seen: ${[...seenEvents].sort().join(', ')}`)
    expect(r.states).toBeGreaterThan(10_000)
    // The search reached handovers and the refusals a racing committer meets.
    for (const e of ['handover', 'NOT_COMMITTER', 'STALE_EPOCH', 'REJOIN_NEEDED']) expect(seenEvents, e).toContain(e)
  })

  it('every interleaving of 2 members and 1 joiner with a one-entry Commit log: resumes that must rejoin, rejoins under way', () => {
    seenEvents.clear()
    const r = explore({ ...BASE, members: ['alice', 'bob'], joiners: ['carol'], crashes: 2, resumes: 2, leaves: 1, joins: 1, rejoin: true, commitLogEntries: 1 }, 10)
    console.log(`handover model, 2 members + 1 joiner, log of 1: ${r.states} states, ${r.transitions} transitions, depth ${r.depth}, ${r.quiesced} quiescence runs, ${r.ms} ms; seen: ${[...seenEvents].sort().join(', ')}`)
    expect(r.states).toBeGreaterThan(10_000)
    // The search reached handovers and the refusals a racing committer meets.
    for (const e of ['handover', 'NOT_COMMITTER', 'STALE_EPOCH', 'REJOIN_NEEDED']) expect(seenEvents, e).toContain(e)
  })

  it('random long runs of 4 members and 3 joiners: crashes, resumes, rejoins, acks, restarts, the owner\'s end', () => {
    const cfg: Config = {
      members: ['alice', 'bob', 'carol', 'dave'], joiners: ['erin', 'frank', 'xena'],
      crashes: UNBOUNDED, resumes: UNBOUNDED, leaves: 3, joins: 3, rejoin: true, ticks: UNBOUNDED, graceMs: 5 * UNIT_MS, commitLogEntries: 3, acks: true, eager: false, restarts: 2, ends: 1,
    }
    seenEvents.clear()
    let steps = 0
    let runs = 0
    const started = Date.now()
    fc.assert(fc.property(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 300, size: 'max' }), (choices) => {
      const sim = Sim.initial(cfg)
      const trail: string[] = []
      try {
        for (const c of choices) {
          const enabled = sim.steps()
          if (enabled.length === 0) break
          const s = pick(enabled, c)
          trail.push(stepLabel(s, sim.w))
          sim.apply(s)
          steps++
        }
        trail.push('(quiescence)')
        steps += sim.quiesce()
      } catch (err) {
        if (err instanceof Violation) throw new Error(`${err.message}\n${trail.map((l, i) => `  ${i + 1}. ${l}`).join('\n')}`)
        throw err
      }
      runs++
    }), { numRuns: 1000 })
    console.log(`handover model, random: ${runs} runs, ${steps} steps, ${Date.now() - started} ms; seen: ${[...seenEvents].sort().join(', ')}`)
    for (const e of ['handover', 'restart', 'NOT_COMMITTER', 'STALE_EPOCH', 'REJOIN_NEEDED', 'NOT_ADMITTED']) expect(seenEvents, e).toContain(e)
  })
})
