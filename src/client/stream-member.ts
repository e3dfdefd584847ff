/**
 * A member of one fabric stream: its MLS session (AvSession), its group
 * channel to the node's delivery service, its publish stream and
 * subscription, and the epoch transition rules of protocol/sequences.md
 * section 3:
 * - receivers keep old epoch keys for a bounded window (the key ring);
 * - senders switch to a new epoch's key as soon as they are in it (members
 *   still processing that Commit hold such frames briefly), or with
 *   `sendSwitch: 'ready'` keep the old key until the node reports every
 *   member has the new epoch (EpochReady) or a timeout passes; a removal
 *   always switches at once (the removed member must not read on);
 * - after the sending key changes, each track's next frame should be a
 *   keyframe, so a joiner sees video at once.
 *
 * Admission (protocol/admission.md): a stream is addressed by its owner and
 * name; a joiner names the owner it expects (or an invitation does) and
 * refuses a Welcome into anyone else's group; the committer decides every
 * join by the group's policy; every member refuses a Commit that breaks the
 * policy and stays in its epoch.
 *
 * Events (EventEmitter): 'frame' (ReceivedFrame), 'epoch' ({ epoch, added,
 * removed, safetyCode }), 'roster' (string[]), 'removed', 'closed'
 * (Error | undefined), 'keyframe-needed' (TrackPublisher), 'knock'
 * (KnockRequest, committer only: answer with approve() or deny()),
 * 'join-denied' ({ identity, reason }, committer only), 'commit-refused'
 * ({ epoch, error }: a Commit this member refused, keeping its epoch),
 * 'commit-failed' ({ identities, error }, committer only). 'error' is never
 * emitted for remote input: bad frames are counted in `stats()`.
 *
 * This class is the shell (docs/architecture.md section 1): it opens the
 * group channel and media streams, reads the clock (`MemberContext.now`),
 * feeds what arrives to its sans-IO MemberCore (member-core.ts), carries
 * out the actions that returns, arms the one timer of its deadline, and
 * holds the Committer, which the core's join and leave actions reach.
 */
import { EventEmitter } from 'eventemitter3'
import type { ChannelDialer } from '../transport/channel.js'
import { FabricError, isFabricError, MalformedError } from '../errors.js'
import { chunkTrack, trackContext } from '../wire/chunk.js'
import { parseInvitationToken, redeemInvitation, type AdmissionRules } from '../session/admission/index.js'
import { AvSession, type PendingCommit, type SessionInvitationOptions } from '../session/av-session.js'
import type { MemberIdentity } from '../session/identity.js'
import { streamKey, streamTag, validateStreamName, type StreamKey } from '../wire/stream-tag.js'
import { toErrorCode } from '../wire/error-codes.js'
import type { GroupServerMessage } from '../wire/pb/group.js'
import { Committer, type KnockRequest } from './committer.js'
import { fetchKeyPackage } from './directory-client.js'
import type { SenderStats } from './frame-decryptor.js'
import { GroupChannel } from './group-channel.js'
import type { KeyPackagePool } from './key-package-pool.js'
import type { EmitAction, MemberAction, MemberInput, StreamMemberEvents } from './member-actions.js'
import { MemberCore } from './member-core.js'
import { PublishStream, Subscription } from './media-streams.js'
import { checkMemberState, CTR_RESERVATION_BLOCK, decodeMemberState, encodeMemberState, type MemberStateStore } from './member-state.js'
import { TrackPublisher } from './track-publisher.js'
import { asTransportError } from './transport-errors.js'

/**
 * How long a member whose subscription broke waits for the group stream to
 * say why (a Commit removing it, an error) before it ends with
 * CONNECTION_LOST, ms.
 */
export const MEDIA_END_GRACE_MS = 1_000

/** Default wait for a Welcome after asking to join, ms (a knock waits for a person). */
export const DEFAULT_JOIN_TIMEOUT_MS = 60_000

/** First wait before reconnecting, ms; doubles per attempt up to RECONNECT_MAX_DELAY_MS (protocol/survival.md section 6). */
export const RECONNECT_FIRST_DELAY_MS = 250

/**
 * Longest wait between reconnect attempts, ms. One second: with waits
 * doubling to 4 s, a member came back 1.75 s after a 2 s network drop ended
 * and up to 6 s after a node restart (its attempts at 3.75 s and 7.75 s
 * missed a node that took 4 s to start); an attempt costs the node one
 * handshake, and the jitter spreads a crowd's attempts.
 */
export const RECONNECT_MAX_DELAY_MS = 1_000

/** Default time a member keeps trying to reconnect before it gives up (CONNECTION_LOST), ms. */
export const DEFAULT_RECONNECT_TIMEOUT_MS = 60_000

/** How long a resumed member waits for the roster that ends the node's replay of missed Commits, ms. */
const RESUME_REPLAY_TIMEOUT_MS = 10_000

export { DEFAULT_SEND_SWITCH_TIMEOUT_MS } from './member-core.js'
export type { StreamMemberEvents } from './member-actions.js'

/** Where a member runs: the channels to the node it uses, its identity, its KeyPackage stock there, its clock. */
export interface MemberContext {
  /**
   * Opens channels to the stream's home: its group service and directory
   * (the transport seam; libp2pDialer in Node). In a fabric this reaches the
   * home through the member's own node.
   */
  readonly dialer: ChannelDialer
  /**
   * Opens the media channels (publish and subscribe): the member's own node,
   * which relays the stream in a fabric; default `dialer`.
   */
  readonly mediaDialer?: ChannelDialer
  readonly identity: MemberIdentity
  readonly keyPackages: KeyPackagePool
  /**
   * Where to go when the member's own node stops and names other nodes of
   * its fabric (a NodeGoingAway on the publish stream): the context of the
   * first of `addresses` that answers, reaching the same home through it,
   * or undefined to stay (protocol/survival.md section 6). Absent: members
   * only ever reconnect to their node.
   */
  readonly moveTo?: (addresses: readonly string[]) => Promise<MemberContext | undefined>
  /**
   * The member's clock, ms since the Unix epoch; default Date.now. Only the
   * shell reads it: the core, the committer, tracks and KeyPackages are handed
   * its readings.
   */
  readonly now?: () => number
}

/** Options of create and join. */
export interface MemberOptions {
  /** Committer: how long join requests wait to share one Commit, ms. */
  batchWindowMs?: number
  /**
   * Called with one "identity epoch base-key-hex\n" line for every epoch
   * key (debugging and audits, like SSLKEYLOGFILE); where it goes is the
   * caller's (`fabric join --key-log FILE` appends to a file). The member
   * does no file I/O itself. Never set it in production: it hands out keys.
   */
  keyLog?: (line: string) => void
  /**
   * When this member's tracks move to a new epoch's key:
   * - 'immediate' (default): as soon as this member is in the new epoch.
   *   Members still processing the Commit hold such frames briefly
   *   (FrameDecryptor, MAX_HELD_CHUNKS / HELD_CHUNK_TTL_MS) instead of
   *   failing them, and a joiner sees video one keyframe after its Welcome.
   * - 'ready': keep the old key until the node reports every member has the
   *   new epoch (EpochReady) or DEFAULT_SEND_SWITCH_TIMEOUT_MS passes
   *   (protocol/sequences.md section 3; joins then wait for the slowest member).
   * A removal always switches at once.
   */
  sendSwitch?: 'immediate' | 'ready'
  /**
   * How long to keep trying to reconnect after the connection to the node
   * breaks, ms; default DEFAULT_RECONNECT_TIMEOUT_MS (60 000); 0 turns
   * reconnecting off (the member closes with the error at once).
   */
  reconnectTimeoutMs?: number
  /**
   * Where to save this member's state (member-state.ts) after every epoch
   * change and SFrame CTR reservation, so that a restarted process can
   * `StreamMember.restore` it; default nowhere.
   */
  state?: MemberStateStore
}

/** Options of create. */
export interface CreateOptions extends MemberOptions {
  /** Who may join; default: nobody but the owner until it allows or invites. */
  admission?: AdmissionRules
}

/** Options of join. */
export interface JoinOptions extends MemberOptions {
  /** Peer id of the owner the joiner expects; needed unless `invitation` names it. */
  owner?: string
  /** An invitation token (`fabric invite` prints one); names stream and owner. */
  invitation?: string
  /** How long to wait for the Welcome, ms (default 60 000). */
  joinTimeoutMs?: number
}

/** Per-sender receive counters keyed by sender identity, plus link counters. */
export interface MemberStats {
  epoch: string
  sendEpoch: string
  members: string[]
  bySender: Record<string, SenderStats>
  malformed: number
  link: { opened: number, replay: number, auth: number, malformed: number }
  tracks: Array<{ context: number, sent: number, keyframes: number, refused: number, droppedAway: number }>
  /** Frames of other members never received, from gaps in each track's sequence numbers (across reconnects too). */
  lostBySender: Record<string, number>
  /** Reconnects that brought this member back, and how many of them had to rejoin. */
  resumes: number
  rejoins: number
  commits: number
  /** Commits this member refused (for example for breaking the admission policy). */
  refusedCommits: number
  /** Committer: joins it denied. */
  deniedJoins: number
  safetyCode: string
}

export class StreamMember extends EventEmitter<StreamMemberEvents> {
  /** The stream's name. */
  readonly stream: string
  /** The stream's owner (peer id). */
  readonly owner: string
  /** The stream's address, owner/name. */
  readonly key: StreamKey
  readonly identity: string
  readonly streamTag: bigint
  /** Replaced when the member moves to another node of its fabric. */
  private ctx: MemberContext
  private channel: GroupChannel
  private readonly opts: MemberOptions
  private readonly now: () => number
  /** Replaced by a rejoin, with the session it holds. */
  private core: MemberCore
  /** The Redemption a join presented, presented again by a rejoin. */
  private redemption: Uint8Array | undefined
  /** A Commit cut off by a broken group stream, pending until a resume tells its fate. */
  private inDoubt: PendingCommit | undefined
  /** Set while a reconnect is under way. */
  private reconnecting: Promise<void> | undefined
  /** The last going-away notice (group or publish stream): the first reconnect's wait, and other nodes to go to. */
  private goingAway: { retryAfterMs: number, reason: string, addresses?: string[] } | undefined
  /** Resolves when a roster arrives: the end of a resume's replay. */
  private rosterWaiter: (() => void) | undefined
  private leaving = false
  private resumes = 0
  private rejoins = 0
  private readonly droppedAway = new Map<number, number>()
  /** Per sender track (wire track number, by sender identity): the last sequence seen, and frames lost. */
  private readonly lastSequence = new Map<string, number>()
  private readonly lost = new Map<string, number>()
  /** SFrame CTR reservations saved in the state file, by KID (member-state.ts), and the floors a restore started from. */
  private readonly ctrReserved = new Map<bigint, bigint>()
  private readonly ctrFirst = new Map<bigint, bigint>()
  /** The reservations the last successful save wrote. */
  private savedCtr = new Map<bigint, bigint>()
  /** The epoch of the last saved state. */
  private savedEpoch: bigint | undefined
  /** State saves that failed (the member goes on; a restart would have to rejoin). */
  stateSaveFailures = 0
  /**
   * For a member made by `restore`: how it came back (its 'resumed' event
   * fires before the caller can listen, so it is kept here).
   */
  restoredAs: { epoch: bigint, commitsReplayed: number, rejoined: boolean } | undefined
  private readonly tracks = new Map<number, TrackPublisher>()
  private committer: Committer | undefined
  private publishStream: PublishStream | undefined
  private subscription: Subscription | undefined
  /** The one timer: fires at the core's deadline, `armedAt` (ms since the Unix epoch). */
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined
  private armedAt: number | undefined
  private closed = false

  private constructor (ctx: MemberContext, session: AvSession, channel: GroupChannel, opts: MemberOptions) {
    super()
    this.ctx = ctx
    this.stream = session.stream
    this.owner = session.owner
    this.key = session.streamKey
    this.identity = session.identity
    this.channel = channel
    this.opts = opts
    this.now = clockOf(ctx)
    this.streamTag = streamTag(this.key)
    this.core = new MemberCore(session, this.streamTag, { sendSwitch: opts.sendSwitch, keyLog: opts.keyLog !== undefined })
  }

  /**
   * Creates stream `name` on the node, owned by this member and committed
   * by it (MLS epoch 0), then opens its media streams.
   * @throws FabricError ALREADY_EXISTS, QUOTA_EXCEEDED, MALFORMED (bad name), transport codes
   */
  static async create (ctx: MemberContext, name: string, opts: CreateOptions = {}): Promise<StreamMember> {
    validateStreamName(name)
    const session = await AvSession.create({ identity: ctx.identity, stream: name, admission: opts.admission, nowMs: clockOf(ctx)() })
    const channel = await GroupChannel.open(ctx.dialer)
    try {
      await channel.request({ create: { stream: name, groupId: session.groupId as Uint8Array<ArrayBuffer> } })
    } catch (err) {
      await channel.close()
      throw asTransportError(err, 'creating the stream')
    }
    const m = new StreamMember(ctx, session, channel, opts)
    await m.feed({ kind: 'start' })
    m.becomeCommitter()
    m.listen()
    await m.openMediaOrClose()
    return m
  }

  /**
   * Joins stream `name` of `opts.owner`, or the stream `opts.invitation`
   * names: keeps KeyPackages published at the node's directory, asks to
   * join (presenting the invitation's redemption), waits for the Welcome,
   * builds the MLS session from it (refusing a group of another owner),
   * acknowledges the epoch and opens its media streams. A refusal rejects
   * this call with its code and leaves nothing running.
   *
   * @throws FabricError NOT_ADMITTED (the committer denied the join),
   *         OWNER_MISMATCH (the Welcome leads elsewhere), NOT_FOUND (no such
   *         stream), TIMEOUT (no answer in time), QUOTA_EXCEEDED, MALFORMED
   *         (bad name, owner or token), INVALID_STATE (no owner named),
   *         UNREACHABLE / CONNECTION_LOST
   */
  static async join (ctx: MemberContext, name: string | undefined, opts: JoinOptions): Promise<StreamMember> {
    const { owner, stream, redemption } = joinTarget(ctx.identity.peerId, name, opts)
    const joined = await joinGroup(ctx, owner, stream, redemption, opts.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS)
    const m = new StreamMember(ctx, joined.session, joined.channel, opts)
    m.redemption = redemption
    await m.feed({ kind: 'start' })
    for (const message of joined.early) await m.feed({ kind: 'server', message })
    m.listen()
    await joined.channel.notify({ ack: { epoch: joined.session.epoch } }).catch(() => {})
    await m.openMediaOrClose()
    return m
  }

  /**
   * Takes a member back after its process restarted, from the record its
   * MemberOptions.state last saved: restores the MLS session, asks the node
   * to resume it at its epoch (the node replays missed Commits) or, when
   * the node answers REJOIN_NEEDED or NOT_MEMBER, joins again with a fresh
   * KeyPackage; then opens media. `restoredAs` says which happened. SFrame
   * CTRs continue above the saved reservations, so no nonce is reused.
   *
   * @throws FabricError IDENTITY_MISMATCH / OWNER_MISMATCH when the record is
   *         another member's or stream's; MALFORMED / TOO_LARGE for a bad
   *         record; NOT_FOUND when the stream is gone; NOT_ADMITTED when a
   *         rejoin is refused; transport codes
   */
  static async restore (ctx: MemberContext, record: Uint8Array, opts: JoinOptions = {}): Promise<StreamMember> {
    const saved = decodeMemberState(record)
    checkMemberState(saved, ctx.identity.peerId, opts.owner, undefined)
    const session = await AvSession.restore({ state: saved.session, identity: ctx.identity.peerId, expect: { owner: saved.owner, stream: saved.stream }, nowMs: clockOf(ctx)() })
    const channel = await GroupChannel.open(ctx.dialer)
    const m = new StreamMember(ctx, session, channel, opts)
    m.redemption = saved.redemption
    for (const [kid, ctr] of saved.ctrReserved) {
      m.ctrFirst.set(kid, ctr)
      m.ctrReserved.set(kid, ctr)
    }
    try {
      await m.feed({ kind: 'start' })
      const back = await m.takeBack(channel, () => {})
      m.listenForLoss(m.channel)
      await m.openMedia()
      m.restoredAs = { epoch: m.session.epoch, ...back }
      return m
    } catch (err) {
      const e = asTransportError(err, 'resuming the stream')
      await m.shutdown(e)
      throw e
    }
  }

  /** This member's MLS session (a rejoin replaces it). */

  get session (): AvSession { return this.core.session }

  /** The current MLS epoch. */
  get epoch (): bigint { return this.session.epoch }

  /** The epoch whose key this member's tracks use now. */
  get sendEpoch (): bigint { return this.core.sendEpoch }

  /** Latest roster from the group service. */
  get roster (): string[] { return this.core.roster }

  /** True when the group service designated this member to commit for the stream (protocol/survival.md section 2). */
  get isCommitter (): boolean { return this.committer !== undefined }

  /** The admission rules the group holds now, and their serial. */
  get admission (): AvSession['admission'] { return this.session.admission }

  /** The epoch's safety code (30 digits), equal at every member of this epoch; compare it out of band. */
  safetyCode (): string { return this.session.safetyCode() }

  /** A member's identity fingerprint (20 digits), to compare out of band; default this member's. */
  fingerprint (identity: string = this.identity): string { return this.session.fingerprint(identity) }

  /**
   * Makes an invitation to this stream (owner or listed inviters only).
   * @returns the token text to hand to the invitee (secret)
   * @throws FabricError NOT_ADMITTED when this member may not invite
   */
  invite (options: Omit<SessionInvitationOptions, 'nowMs'> = {}): string {
    return this.session.createInvitation({ ...options, nowMs: this.now() }).text
  }

  /**
   * Owner only: replaces the admission rules (a new signed policy, committed
   * to the group). Members the new rules no longer admit must go first: the
   * ones in `remove` are removed by a Commit of their own before it (one
   * Commit cannot carry both with ts-mls 1.6.4, see
   * AvSession.prepareUpdatePolicy).
   * @throws FabricError NOT_ADMITTED (not the owner, or a member would lose its standing), NOT_COMMITTER
   */
  async updateAdmission (rules: AdmissionRules, remove: readonly string[] = []): Promise<void> {
    const committer = this.committer
    if (committer === undefined) throw new FabricError('NOT_COMMITTER', 'only the committer commits policy changes')
    if (remove.length > 0) {
      for (const identity of remove) committer.requestRemoval(identity)
      await committer.idle()
    }
    await committer.run(async () => {
      const pending = await this.session.prepareUpdatePolicy(rules, this.now())
      try {
        await this.submitCommit(pending)
      } catch (err) {
        this.session.discardPending(pending)
        throw err
      }
      const outcome = await this.session.applyPending(pending, this.now())
      await this.feed({ kind: 'applied', outcome })
    })
  }

  /**
   * Starts a track; frames go out with `track.sendFrame`.
   * @param context 0 video (camera), 1 audio, 2 screen
   */
  publishTrack (context = 0): TrackPublisher {
    let t = this.tracks.get(context)
    if (t === undefined) {
      const member = this
      t = new TrackPublisher({
        get session () { return member.session },
        streamTag: this.streamTag,
        get sendEpoch () { return member.sendEpoch },
        sendChunk: async (chunk) => { await member.sendChunk(chunk) },
        now: this.now,
        ctr: this.opts.state === undefined
          ? undefined
          : { first: (kid) => this.ctrFirst.get(kid) ?? 0n, use: (kid, ctr) => { this.reserveCtr(kid, ctr) } },
      }, context)
      t.requestKeyframe()
      this.tracks.set(context, t)
      // The core takes a track without MLS work, so it knows it before this returns.
      void this.feed({ kind: 'track', context })
    }
    return t
  }

  /**
   * Committer only: removes a member with a Commit; resolves once it is
   * accepted. @throws FabricError NOT_COMMITTER
   */
  async removeMember (identity: string): Promise<void> {
    if (this.committer === undefined) throw new FabricError('NOT_COMMITTER', 'only the committer removes members')
    this.committer.requestRemoval(identity)
    await this.committer.idle()
  }

  /** Committer only: resolves when queued joins and removals are committed. */
  async settled (): Promise<void> { await this.committer?.idle() }

  /** Stops reading media (the node drops for this member only); see Subscription.pause. */
  pauseMedia (): void { this.subscription?.pause() }

  /** Resumes reading media. */
  resumeMedia (): void { this.subscription?.resume() }

  /** Counters for the app and the demo table. */
  stats (): MemberStats {
    const decryptor = this.core.decryptor
    const bySender: Record<string, SenderStats> = {}
    for (const [leaf, s] of decryptor.bySender) bySender[decryptor.nameOf(leaf)] = { ...s }
    const link = this.subscription === undefined
      ? { opened: 0, replay: 0, auth: 0, malformed: 0 }
      : { opened: this.subscription.opened, ...this.subscription.refused }
    return {
      epoch: String(this.session.epoch),
      sendEpoch: String(this.sendEpoch),
      members: this.roster,
      bySender,
      malformed: decryptor.malformed,
      link,
      tracks: [...this.tracks.values()].map((t) => ({ context: t.context, sent: t.sent, keyframes: t.keyframes, refused: t.refused, droppedAway: this.droppedAway.get(t.context) ?? 0 })),
      lostBySender: Object.fromEntries(this.lost),
      resumes: this.resumes,
      rejoins: this.rejoins,
      commits: this.committer?.commits ?? 0,
      refusedCommits: this.core.refusedCommits,
      deniedJoins: this.committer?.denied ?? 0,
      safetyCode: this.session.removed ? '' : this.session.safetyCode(),
    }
  }

  /**
   * Leaves the stream and closes everything. The stream goes on for the
   * others (a committer hands its role on); it ends with its last member.
   */
  async leave (): Promise<void> {
    if (this.closed) return
    this.leaving = true
    try { await this.channel.request({ leave: {} }, 5_000) } catch {}
    await this.shutdown()
  }

  /**
   * Owner only: ends the stream for every member on purpose, then closes.
   * @throws FabricError NOT_COMMITTER when this member is not the owner
   */
  async end (): Promise<void> {
    if (this.closed) return
    if (this.identity !== this.owner) throw new FabricError('NOT_COMMITTER', `only the owner ${this.owner} ends the stream`)
    this.leaving = true
    try { await this.channel.request({ end: {} }, 5_000) } catch {}
    await this.shutdown()
  }

  /** Closes every stream without leaving (e.g. on process exit). */
  async shutdown (err?: Error): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.rosterWaiter?.()
    this.committer?.stop()
    this.disarm()
    await this.core.handle({ kind: 'closed' }, this.now())
    await Promise.allSettled([this.publishStream?.close(), this.subscription?.close(), this.channel.close()])
    this.emit('closed', err)
  }

  /**
   * Hands one input to the core at the current time, re-arms the deadline
   * timer and carries out the actions in order. The deadline is armed
   * before any action is awaited, so the newest output's deadline wins.
   */
  private async feed (input: MemberInput): Promise<void> {
    const out = await this.core.handle(input, this.now())
    this.arm(out.deadline)
    if (this.opts.state !== undefined && !this.session.removed && this.session.epoch !== this.savedEpoch) this.saveState()
    for (const action of out.actions) {
      const pending = this.carryOut(action)
      if (pending !== undefined) await pending
    }
  }

  /** Carries out one action; returns a promise only for those that do I/O. */
  private carryOut (action: MemberAction): Promise<void> | undefined {
    switch (action.kind) {
      case 'emit':
        this.emitAction(action)
        return
      case 'ack':
        return this.channel.notify({ ack: { epoch: action.epoch } }).catch(() => {})
      case 'keyframe-needed': {
        const t = this.tracks.get(action.context)
        if (t !== undefined) {
          t.requestKeyframe()
          this.emit('keyframe-needed', t)
        }
        return
      }
      case 'key-log':
        this.opts.keyLog?.(action.line)
        return
      case 'join-requested':
        this.committer?.requestJoin(action.identity, action.redemption, this.now())
        return
      case 'join-withdrawn':
        this.committer?.withdrawn(action.identity)
        return
      case 'leave-requested':
        this.committer?.requestRemoval(action.identity)
        return
      case 'committer':
        this.designated(action.committer, action.epoch)
        return
      case 'going-away':
        // The home's own notice: members reconnect to it (its group service is there), keeping any other node's advice.
        this.goingAway = { retryAfterMs: action.retryAfterMs, reason: action.reason, addresses: this.goingAway?.addresses }
        return
      case 'shutdown':
        return this.shutdown(action.error)
    }
  }

  private emitAction (action: EmitAction): void {
    if (action.event === 'roster') {
      this.rosterWaiter?.()
    } else if (action.event === 'frame') {
      this.countLost(action.args[0])
    }
    // The union pairs each event with its own arguments; TypeScript cannot
    // follow that pairing through a spread, so it is asserted here once.
    (this.emit as (event: EmitAction['event'], ...args: EmitAction['args']) => boolean)(action.event, ...action.args)
  }

  /** Sets the one timer to fire at `deadline` (ms since the Unix epoch), or clears it. */
  private arm (deadline: number | undefined): void {
    if (this.closed || deadline === this.armedAt) return
    this.disarm()
    if (deadline === undefined) return
    this.armedAt = deadline
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined
      this.armedAt = undefined
      void this.feed({ kind: 'tick' })
    }, Math.max(0, deadline - this.now()))
    unrefTimer(this.deadlineTimer)
  }

  private disarm (): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer)
    this.deadlineTimer = undefined
    this.armedAt = undefined
  }

  /** Takes or drops the committer role as the group service designates. */
  private designated (committer: string, epoch: bigint): void {
    const self = committer === this.identity
    if (self && this.committer === undefined && !this.closed) {
      this.becomeCommitter()
    } else if (!self && this.committer !== undefined) {
      this.committer.stop()
      this.committer = undefined
    } else {
      return
    }
    this.emit('committer', { committer, epoch, self })
  }

  /**
   * Makes sure CTR `ctr` of `kid` is covered by a saved reservation before
   * it is used.
   * @throws FabricError INVALID_STATE when the reservation could not be saved:
   *         a restart could reuse the CTR, so the frame is not sent
   */
  private reserveCtr (kid: bigint, ctr: bigint): void {
    if (ctr < (this.savedCtr.get(kid) ?? 0n)) return
    this.ctrReserved.set(kid, ctr + CTR_RESERVATION_BLOCK)
    this.saveState()
    if (ctr >= (this.savedCtr.get(kid) ?? 0n)) throw new FabricError('INVALID_STATE', 'the member state could not be saved; not sending under an unreserved SFrame CTR')
  }

  /** Writes this member's state (MemberOptions.state); a failure is counted, not thrown. */
  private saveState (): void {
    const store = this.opts.state
    if (store === undefined || this.session.removed) return
    // Only recent KIDs can be sent under again; the oldest reservations go, keeping the record small.
    for (const kid of [...this.ctrReserved.keys()].slice(0, Math.max(0, this.ctrReserved.size - 64))) this.ctrReserved.delete(kid)
    try {
      store.save(encodeMemberState({
        owner: this.owner,
        stream: this.stream,
        identity: this.identity,
        session: this.session.exportState(),
        ctrReserved: this.ctrReserved,
        ...(this.redemption === undefined ? {} : { redemption: this.redemption }),
      }))
      this.savedEpoch = this.session.epoch
      this.savedCtr = new Map(this.ctrReserved)
    } catch {
      this.stateSaveFailures++
    }
  }

  /** Counts frames a sender's track skipped (sequence gaps), for stats().lostBySender. */
  private countLost (frame: { sender: string, track: number, sequence: number }): void {
    const key = `${frame.sender}/${frame.track}`
    const last = this.lastSequence.get(key)
    this.lastSequence.set(key, frame.sequence)
    if (last === undefined || frame.sequence <= last + 1) return
    this.lost.set(frame.sender, (this.lost.get(frame.sender) ?? 0) + (frame.sequence - last - 1))
  }

  private becomeCommitter (): void {
    this.committer = new Committer({
      session: this.session,
      fetchKeyPackage: async (identity) => (await fetchKeyPackage(this.ctx.dialer, identity)).keyPackage,
      submit: async (p: PendingCommit) => { await this.submitCommit(p) },
      applied: async (p) => {
        await this.feed({ kind: 'applied', outcome: { epoch: p.epoch, removedSelf: false, added: [...p.addedIdentities], removed: [...p.removedIdentities] } })
      },
      failed: (identities, err) => { this.emit('commit-failed', { identities, error: err }) },
      inDoubt: (pending) => { this.inDoubt = pending },
      deny: async (identity, reason) => {
        this.emit('join-denied', { identity, reason })
        await this.channel.request({ deny: { identity, reason } })
      },
      knock: (request: KnockRequest) => {
        if (this.listenerCount('knock') === 0) return false
        this.emit('knock', request)
        return true
      },
      now: this.now,
    }, this.opts.batchWindowMs)
  }

  private async submitCommit (p: PendingCommit): Promise<void> {
    await this.channel.request({
      commit: {
        epoch: p.fromEpoch,
        commit: p.commit as Uint8Array<ArrayBuffer>,
        welcome: (p.welcome ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>,
        added: [...p.addedIdentities],
        removed: [...p.removedIdentities],
      },
    })
  }

  /** Feeds the current group channel's messages to the core; its loss starts a reconnect. */
  private listen (): void {
    this.feedFrom(this.channel)
    this.listenForLoss(this.channel)
  }

  /** Feeds `channel`'s messages to the core for as long as it is the current group channel; `seen` sees each first. */
  private feedFrom (channel: GroupChannel, seen?: (message: GroupServerMessage) => void): void {
    channel.onMessage(async (message) => {
      if (channel !== this.channel) return
      seen?.(message)
      await this.feed({ kind: 'server', message })
    })
  }

  /**
   * The group stream or a media stream broke. Unless this member is leaving
   * (or reconnecting is off), reconnect; else close with the error.
   */
  private connectionLost (reason: string, err?: Error): void {
    if (this.closed || this.leaving || this.reconnecting !== undefined) return
    if ((this.opts.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS) <= 0) {
      void this.shutdown(err === undefined ? undefined : asTransportError(err, reason))
      return
    }
    this.reconnecting = this.reconnect(reason).finally(() => { this.reconnecting = undefined })
  }

  /**
   * Reconnects (protocol/survival.md section 6): closes what is left of the
   * old streams, waits (GoingAway's retry_after_ms, else 250 ms doubling to
   * 1 s, with jitter), opens a new group stream and resumes at this
   * member's epoch; the node replays the Commits it missed. When the node
   * answers REJOIN_NEEDED or NOT_MEMBER, joins again with a fresh
   * KeyPackage. Then reopens media. Gives up after reconnectTimeoutMs.
   */
  private async reconnect (reason: string): Promise<void> {
    const since = this.now()
    const deadline = since + (this.opts.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS)
    this.committer?.stop()
    this.committer = undefined
    const old = this.channel
    const media = [this.publishStream, this.subscription]
    this.publishStream = undefined
    this.subscription = undefined
    await Promise.allSettled([old.close(), ...media.map(async (m) => { await m?.close() })])
    let delay = this.goingAway?.retryAfterMs ?? RECONNECT_FIRST_DELAY_MS
    const elsewhere = this.goingAway?.addresses ?? []
    this.goingAway = undefined
    // The member's node is going away for good or for a while: another node of the fabric takes it now.
    if (elsewhere.length > 0 && this.ctx.moveTo !== undefined) {
      try {
        const moved = await this.ctx.moveTo(elsewhere)
        if (moved !== undefined) {
          this.ctx = moved
          delay = 0
        }
      } catch {}
    }
    let lastError: Error = new FabricError('CONNECTION_LOST', reason)
    for (let attempt = 1; !this.closed; attempt++) {
      const wait = Math.round(delay * (0.8 + Math.random() * 0.4))
      if (this.now() + wait > deadline) break
      this.emit('reconnecting', { attempt, delayMs: wait, reason })
      await sleep(wait)
      if (this.closed) return
      delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS)
      try {
        await this.resumeOnce(attempt, since)
        return
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err))
        // The stream is gone, or this member may not come back: no retry helps.
        if (isFabricError(lastError) && (lastError.code === 'NOT_FOUND' || lastError.code === 'NOT_ADMITTED' || lastError.code === 'OWNER_MISMATCH')) break
      }
    }
    if (!this.closed) await this.shutdown(asTransportError(lastError, `reconnecting (${reason})`))
  }

  /** One reconnect attempt: resume, or rejoin when the node says so; then media. */
  private async resumeOnce (attempt: number, since: number): Promise<void> {
    const channel = await GroupChannel.open(this.ctx.dialer)
    const back = await this.takeBack(channel, () => { this.emit('reconnected', { attempt, awayMs: this.now() - since }) })
    this.listenForLoss(this.channel)
    await this.openMedia()
    this.resumes++
    this.emit('resumed', { epoch: this.session.epoch, awayMs: this.now() - since, ...back })
  }

  /**
   * Asks the node on `channel` to take this member back at its epoch and
   * feeds the Commits it replays, until the roster that ends the replay; on
   * REJOIN_NEEDED or NOT_MEMBER joins again with a fresh KeyPackage instead.
   * `accepted` runs once the node took the member back (before the replay).
   * @throws what the resume or the rejoin throws otherwise (NOT_FOUND: the stream is gone)
   */
  private async takeBack (channel: GroupChannel, accepted: () => void): Promise<{ commitsReplayed: number, rejoined: boolean }> {
    let replayed = 0
    const rosterSeen = new Promise<void>((resolve) => { this.rosterWaiter = resolve })
    this.channel = channel
    this.feedFrom(channel, (message) => { if (message.commit !== undefined) replayed++ })
    try {
      await channel.request({ resume: { stream: this.stream, owner: this.owner, epoch: this.session.removed ? 0n : this.session.epoch } })
      accepted()
      await Promise.race([rosterSeen, sleep(RESUME_REPLAY_TIMEOUT_MS)])
      // A Commit this member submitted as its stream broke, which the replay
      // neither applied nor superseded, was never accepted.
      const doubt = this.inDoubt
      this.inDoubt = undefined
      if (doubt !== undefined && !this.session.removed && this.session.pending === doubt) this.session.discardPending(doubt)
      return { commitsReplayed: replayed, rejoined: false }
    } catch (err) {
      await channel.close().catch(() => {})
      if (!isFabricError(err) || (err.code !== 'REJOIN_NEEDED' && err.code !== 'NOT_MEMBER')) throw err
      await this.rejoin()
      accepted()
      return { commitsReplayed: 0, rejoined: true }
    } finally {
      this.rosterWaiter = undefined
    }
  }

  /** Watches a channel opened by a reconnect (its messages are already fed). */
  private listenForLoss (channel: GroupChannel): void {
    channel.onClose((err) => {
      if (channel !== this.channel) return
      this.connectionLost(err === undefined ? 'the group stream closed' : asTransportError(err, 'the group stream closed').message, err)
    })
  }

  /**
   * Joins again with a fresh KeyPackage (the old leaf is being removed, or
   * is gone): a new MLS session replaces the old one, and the tracks derive
   * their keys from it.
   */
  private async rejoin (): Promise<void> {
    const joined = await joinGroup(this.ctx, this.owner, this.stream, this.redemption, this.opts.reconnectTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS)
    this.channel = joined.channel
    this.core = new MemberCore(joined.session, this.streamTag, { sendSwitch: this.opts.sendSwitch, keyLog: this.opts.keyLog !== undefined })
    this.rejoins++
    for (const t of this.tracks.values()) {
      t.restartKeys()
      void this.core.handle({ kind: 'track', context: t.context }, this.now())
    }
    await this.feed({ kind: 'start' })
    this.feedFrom(joined.channel)
    for (const message of joined.early) await this.feed({ kind: 'server', message })
    await joined.channel.notify({ ack: { epoch: joined.session.epoch } }).catch(() => {})
  }

  /** Opens the media streams; on failure closes everything and rethrows. */
  private async openMediaOrClose (): Promise<void> {
    try {
      await this.openMedia()
    } catch (err) {
      const e = asTransportError(err, 'opening media')
      await this.shutdown(e)
      throw e
    }
  }

  private async openMedia (): Promise<void> {
    this.publishStream = await PublishStream.open(this.ctx.mediaDialer ?? this.ctx.dialer, this.key)
    this.publishStream.onKeyframeRequest((track) => { void this.feed({ kind: 'keyframe-request', track }) })
    // The member's own node is stopping: remember where it says to go.
    this.publishStream.onGoingAway((notice) => { this.goingAway = { ...notice, addresses: notice.addresses.length > 0 ? notice.addresses : this.goingAway?.addresses } })
    this.subscription = await Subscription.open(this.ctx.mediaDialer ?? this.ctx.dialer, this.key)
    // A new subscription starts from the relay's keyframe cache; the tracks start with a keyframe for the others.
    for (const t of this.tracks.values()) t.requestKeyframe()
    void this.receiveLoop(this.subscription)
  }

  private async receiveLoop (sub: Subscription): Promise<void> {
    try {
      for await (const chunk of sub.chunks()) await this.feed({ kind: 'chunk', chunk })
    } catch (err) {
      // The subscription broke (node gone, stream reset): the member is cut
      // off from media. A node resets a removed member's media at the moment
      // it delivers the Commit that removes it, on the group stream, and
      // nothing orders the two: wait a moment for that Commit (or the node's
      // error), so the member ends REMOVED and emits 'removed' rather than
      // ending CONNECTION_LOST without knowing why.
      if (this.closed || sub !== this.subscription) return
      await sleep(MEDIA_END_GRACE_MS)
      if (!this.closed && sub === this.subscription) this.connectionLost(asTransportError(err, 'the subscription ended').message, err as Error)
    }
  }

  /** Sends on the publish stream; while reconnecting the frame is dropped and counted (the CTR is spent, so no reuse). */
  private async sendChunk (chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new FabricError('INVALID_STATE', 'publish stream not open')
    const stream = this.publishStream
    if (stream === undefined || this.reconnecting !== undefined) {
      const context = trackContext(chunkTrack(chunk))
      this.droppedAway.set(context, (this.droppedAway.get(context) ?? 0) + 1)
      return
    }
    try {
      await stream.send(chunk)
    } catch (err) {
      if (this.closed) throw err
      // The stream broke under this frame: reconnecting takes over.
      this.connectionLost(asTransportError(err, 'the publish stream broke').message, err as Error)
    }
  }
}

/** Waits `ms` without keeping a Node process alive. */
async function sleep (ms: number): Promise<void> {
  await new Promise<void>((resolve) => { unrefTimer(setTimeout(resolve, ms)) })
}

/** What joinGroup returns: the session from the Welcome, its group channel, and messages that came before the session existed. */
interface Joined {
  readonly session: AvSession
  readonly channel: GroupChannel
  readonly early: GroupServerMessage[]
}

/**
 * The join flow: keeps KeyPackages published at the node's directory, asks
 * to join (presenting `redemption`), waits for the Welcome and builds the
 * MLS session from it, refusing a group of another owner.
 * @throws see StreamMember.join
 */
async function joinGroup (ctx: MemberContext, owner: string, stream: string, redemption: Uint8Array | undefined, timeoutMs: number): Promise<Joined> {
  const identity = ctx.identity.peerId
  const now = clockOf(ctx)
  await ctx.keyPackages.ensurePublished(now())
  const channel = await GroupChannel.open(ctx.dialer)
  // Messages after the Welcome (roster, the next Commit) can arrive before
  // the session exists; they are replayed in order once it does.
  const early: GroupServerMessage[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  const welcome = new Promise<GroupServerMessage>((resolve, reject) => {
    timer = setTimeout(() => { reject(new FabricError('TIMEOUT', `no answer to the join of ${owner}/${stream} within ${timeoutMs} ms`)) }, timeoutMs)
    channel.onMessage((msg) => {
      if (msg.welcome !== undefined) resolve(msg)
      else if (msg.error !== undefined) reject(new FabricError(toErrorCode(msg.error.code), `join refused: ${msg.error.message}`))
      else early.push(msg)
    })
    channel.onClose((err) => { reject(asTransportError(err ?? new Error('closed'), 'the group stream closed before the Welcome')) })
  })
  // The join request can fail first; the Welcome's rejection is then nobody's to await.
  welcome.catch(() => {})
  try {
    await channel.request({ join: { stream, owner, redemption: (redemption ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer> } })
    const msg = await welcome
    const bytes = msg.welcome!.welcome
    const bundle = ctx.keyPackages.bundleFor(bytes)
    if (bundle === undefined) throw new FabricError('NOT_FOUND', 'the Welcome is for none of this member\'s KeyPackages')
    const session = await AvSession.joinFromWelcome({
      welcome: bytes,
      keyPackage: bundle.keyPackage,
      privateState: bundle.privateState,
      identity,
      expect: { owner, stream },
      nowMs: now(),
    })
    ctx.keyPackages.used(bundle)
    return { session, channel, early }
  } catch (err) {
    await channel.close()
    throw asTransportError(err, 'joining the stream')
  } finally {
    clearTimeout(timer)
  }
}

/** The clock a member reads: the context's, or Date.now. */
function clockOf (ctx: MemberContext): () => number {
  return ctx.now ?? Date.now
}

/** Lets a Node timer not keep the process alive; browsers' timers are numbers and have no such notion. */
function unrefTimer (timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') timer.unref()
}

/**
 * Who and what a join is for: the owner and stream named, or those of the
 * invitation (which must agree with any named), and the invitation's
 * redemption for this joiner.
 *
 * @throws FabricError INVALID_STATE without an owner; OWNER_MISMATCH when
 *         the invitation names another owner or stream; MALFORMED on a bad
 *         token, name or owner; NOT_ADMITTED when the invitation is for another invitee
 */
function joinTarget (joiner: string, name: string | undefined, opts: JoinOptions): { owner: string, stream: string, redemption?: Uint8Array } {
  if (opts.invitation === undefined) {
    if (opts.owner === undefined) {
      throw new FabricError('INVALID_STATE', 'a join names the owner it expects (--owner PEER_ID) or uses an invitation (--invite TOKEN)')
    }
    if (name === undefined) throw new MalformedError('a join names the stream')
    streamKey(opts.owner, name)
    return { owner: opts.owner, stream: name }
  }
  const token = parseInvitationToken(opts.invitation)
  const inv = token.invitation
  if (opts.owner !== undefined && opts.owner !== inv.owner) {
    throw new FabricError('OWNER_MISMATCH', `the invitation is to a stream of ${inv.owner}, not of ${opts.owner}`)
  }
  if (name !== undefined && name !== inv.stream) throw new FabricError('OWNER_MISMATCH', `the invitation is to stream ${inv.stream}, not ${name}`)
  return { owner: inv.owner, stream: inv.stream, redemption: redeemInvitation(token, joiner) }
}
