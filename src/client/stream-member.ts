/**
 * A member of one fabric stream: its MLS session (AvSession), its group
 * channel to the node's delivery service, its publish stream and
 * subscription, and the epoch transition rules of design.md:
 * - receivers keep old epoch keys for a bounded window (the key ring);
 * - senders switch to a new epoch's key as soon as they are in it (members
 *   still processing that Commit hold such frames briefly), or with
 *   `sendSwitch: 'ready'` keep the old key until the node reports every
 *   member has the new epoch (EpochReady) or a timeout passes; a removal
 *   always switches at once (the removed member must not read on);
 * - after the sending key changes, each track's next frame should be a
 *   keyframe, so a joiner sees video at once.
 *
 * Events (EventEmitter): 'frame' (ReceivedFrame), 'epoch' ({ epoch, added,
 * removed }), 'roster' (string[]), 'removed', 'closed' (Error | undefined),
 * 'keyframe-needed' (TrackPublisher), 'error' is never emitted for remote
 * input: bad frames are counted in `stats()`.
 */
import { EventEmitter } from 'node:events'
import { appendFileSync } from 'node:fs'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { FabricError } from '../errors.js'
import { AvSession, type CommitOutcome, type PendingCommit } from '../session/av-session.js'
import { generateKeyPackage, type KeyPackageBundle } from '../session/key-package.js'
import { streamTag, validateStreamName } from '../wire/stream-tag.js'
import type { GroupServerMessage } from '../wire/pb/group.js'
import { Committer } from './committer.js'
import { fetchKeyPackage, publishKeyPackages } from './directory-client.js'
import { FrameDecryptor, type DecryptOutcome, type ReceivedFrame, type SenderStats } from './frame-decryptor.js'
import { GroupChannel } from './group-channel.js'
import { PublishStream, Subscription } from './media-streams.js'
import { TrackPublisher } from './track-publisher.js'

/** Default wait for a Welcome after asking to join, ms. */
export const DEFAULT_JOIN_TIMEOUT_MS = 30_000

/** Fallback: switch the sending key this long after an epoch change even without EpochReady, ms. */
export const DEFAULT_SEND_SWITCH_TIMEOUT_MS = 3_000

/** Where a member runs: its libp2p host and the node it uses. */
export interface MemberContext {
  readonly libp2p: Libp2p
  readonly node: Multiaddr
}

/** Options of create/join. */
export interface MemberOptions {
  /** Committer: how long join requests wait to share one Commit, ms. */
  batchWindowMs?: number
  /** Joiner: how long to wait for the Welcome, ms. */
  joinTimeoutMs?: number
  /** Append "epoch base-key-hex" lines here for every epoch key (debugging and audits, like SSLKEYLOGFILE). */
  keyLogFile?: string
  /**
   * When this member's tracks move to a new epoch's key:
   * - 'immediate' (default): as soon as this member is in the new epoch.
   *   Members still processing the Commit hold such frames briefly
   *   (FrameDecryptor, MAX_HELD_CHUNKS / HELD_CHUNK_TTL_MS) instead of
   *   failing them, and a joiner sees video one keyframe after its Welcome.
   * - 'ready': keep the old key until the node reports every member has the
   *   new epoch (EpochReady) or DEFAULT_SEND_SWITCH_TIMEOUT_MS passes
   *   (design.md's conservative rule; joins then wait for the slowest member).
   * A removal always switches at once.
   */
  sendSwitch?: 'immediate' | 'ready'
}

/** Per-sender receive counters keyed by sender identity, plus link counters. */
export interface MemberStats {
  epoch: string
  sendEpoch: string
  members: string[]
  bySender: Record<string, SenderStats>
  malformed: number
  link: { opened: number, replay: number, auth: number, malformed: number }
  tracks: Array<{ context: number, sent: number, keyframes: number }>
  commits: number
}

export class StreamMember extends EventEmitter {
  readonly stream: string
  readonly identity: string
  readonly session: AvSession
  readonly streamTag: bigint
  /** The epoch whose key this member's tracks use now. */
  sendEpoch: bigint
  /** Latest roster from the group service. */
  roster: string[] = []
  private readonly ctx: MemberContext
  private readonly channel: GroupChannel
  private readonly opts: MemberOptions
  private readonly decryptor: FrameDecryptor
  private readonly tracks = new Map<number, TrackPublisher>()
  private committer: Committer | undefined
  private publishStream: PublishStream | undefined
  private subscription: Subscription | undefined
  private switchTimer: NodeJS.Timeout | undefined
  private closed = false

  private constructor (ctx: MemberContext, stream: string, session: AvSession, channel: GroupChannel, opts: MemberOptions) {
    super()
    this.ctx = ctx
    this.stream = stream
    this.identity = session.identity
    this.session = session
    this.channel = channel
    this.opts = opts
    this.streamTag = streamTag(stream)
    this.sendEpoch = session.epoch
    this.decryptor = new FrameDecryptor(session, this.streamTag)
    this.logKey()
  }

  /**
   * Creates `stream` on the node with this member as its committer (MLS
   * epoch 0), then opens its media streams.
   * @throws FabricError ALREADY_EXISTS, MALFORMED (bad name), transport errors
   */
  static async create (ctx: MemberContext, stream: string, opts: MemberOptions = {}): Promise<StreamMember> {
    validateStreamName(stream)
    const identity = ctx.libp2p.peerId.toString()
    const session = await AvSession.create({ identity, nowMs: Date.now() })
    const channel = await GroupChannel.open(ctx.libp2p, ctx.node)
    try {
      await channel.request({ create: { stream, groupId: session.groupId as Uint8Array<ArrayBuffer> } })
    } catch (err) {
      await channel.close()
      throw err
    }
    const m = new StreamMember(ctx, stream, session, channel, opts)
    m.becomeCommitter()
    m.listen()
    await m.openMedia()
    return m
  }

  /**
   * Joins `stream`: publishes a fresh KeyPackage to the node's directory,
   * asks to join, waits for the Welcome, builds the MLS session from it,
   * acknowledges the epoch and opens its media streams.
   * @throws FabricError NOT_FOUND (no such stream), TIMEOUT (no Welcome), transport errors
   */
  static async join (ctx: MemberContext, stream: string, opts: MemberOptions = {}): Promise<StreamMember> {
    validateStreamName(stream)
    const identity = ctx.libp2p.peerId.toString()
    const bundle: KeyPackageBundle = await generateKeyPackage(identity, { nowMs: Date.now() })
    await publishKeyPackages(ctx.libp2p, ctx.node, [bundle.keyPackage])
    const channel = await GroupChannel.open(ctx.libp2p, ctx.node)
    // Messages after the Welcome (roster, the next Commit) can arrive before
    // the session exists; they are replayed in order once it does.
    const early: GroupServerMessage[] = []
    const welcome = new Promise<GroupServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new FabricError('TIMEOUT', `no Welcome for ${stream} within ${opts.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS} ms`)) }, opts.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS)
      channel.onMessage((msg) => {
        if (msg.welcome !== undefined) {
          clearTimeout(timer)
          resolve(msg)
        } else {
          early.push(msg)
        }
      })
      channel.onClose((err) => { clearTimeout(timer); reject(err ?? new FabricError('INVALID_STATE', 'group channel closed before the Welcome')) })
    })
    let session: AvSession
    try {
      await channel.request({ join: { stream } })
      const msg = await welcome
      session = await AvSession.joinFromWelcome({
        welcome: msg.welcome!.welcome,
        keyPackage: bundle.keyPackage,
        privateState: bundle.privateState,
        identity,
        nowMs: Date.now(),
      })
    } catch (err) {
      await channel.close()
      throw err
    }
    const m = new StreamMember(ctx, stream, session, channel, opts)
    for (const msg of early) await m.onServerMessage(msg)
    m.listen()
    await channel.notify({ ack: { epoch: session.epoch } })
    await m.openMedia()
    return m
  }

  /** The current MLS epoch. */
  get epoch (): bigint { return this.session.epoch }

  /** True when this member created the stream and commits for it. */
  get isCommitter (): boolean { return this.committer !== undefined }

  /**
   * Starts a track; frames go out with `track.sendFrame`.
   * @param context 0 video (camera), 1 audio, 2 screen
   */
  publishTrack (context = 0): TrackPublisher {
    let t = this.tracks.get(context)
    if (t === undefined) {
      t = new TrackPublisher({
        session: this.session,
        streamTag: this.streamTag,
        get sendEpoch () { return self.sendEpoch },
        sendChunk: async (chunk) => { await this.sendChunk(chunk) },
      }, context)
      const self = this // eslint-disable-line @typescript-eslint/no-this-alias
      t.requestKeyframe()
      this.tracks.set(context, t)
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
    const bySender: Record<string, SenderStats> = {}
    for (const [leaf, s] of this.decryptor.bySender) bySender[this.decryptor.nameOf(leaf)] = { ...s }
    const link = this.subscription === undefined
      ? { opened: 0, replay: 0, auth: 0, malformed: 0 }
      : { opened: this.subscription.opened, ...this.subscription.refused }
    return {
      epoch: String(this.session.epoch),
      sendEpoch: String(this.sendEpoch),
      members: this.roster,
      bySender,
      malformed: this.decryptor.malformed,
      link,
      tracks: [...this.tracks.values()].map((t) => ({ context: t.context, sent: t.sent, keyframes: t.keyframes })),
      commits: this.committer?.commits ?? 0,
    }
  }

  /** Leaves the stream (the committer's leave ends the stream) and closes everything. */
  async leave (): Promise<void> {
    if (this.closed) return
    try { await this.channel.request({ leave: {} }, 5_000) } catch {}
    await this.shutdown()
  }

  /** Closes every stream without leaving (e.g. on process exit). */
  async shutdown (err?: Error): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.committer?.stop()
    if (this.switchTimer !== undefined) clearTimeout(this.switchTimer)
    await Promise.allSettled([this.publishStream?.close(), this.subscription?.close(), this.channel.close()])
    this.emit('closed', err)
  }

  private becomeCommitter (): void {
    this.committer = new Committer({
      session: this.session,
      fetchKeyPackage: async (identity) => (await fetchKeyPackage(this.ctx.libp2p, this.ctx.node, identity)).keyPackage,
      submit: async (p: PendingCommit) => {
        await this.channel.request({
          commit: {
            epoch: p.fromEpoch,
            commit: p.commit as Uint8Array<ArrayBuffer>,
            welcome: (p.welcome ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>,
            added: [...p.addedIdentities],
            removed: [...p.removedIdentities],
          },
        })
      },
      applied: async (p) => {
        this.epochChanged({ epoch: p.epoch, removedSelf: false, added: [...p.addedIdentities], removed: [...p.removedIdentities] })
      },
      failed: (identities, err) => { this.emit('commit-failed', { identities, error: err }) },
    }, this.opts.batchWindowMs)
  }

  private listen (): void {
    this.channel.onMessage(async (msg) => { await this.onServerMessage(msg) })
    this.channel.onClose((err) => { void this.shutdown(err) })
  }

  private async onServerMessage (msg: GroupServerMessage): Promise<void> {
    if (msg.commit !== undefined) {
      if (this.session.removed) return
      const outcome = await this.session.processCommit(msg.commit.commit, Date.now())
      if (outcome.removedSelf) {
        this.emit('removed')
        await this.shutdown(new FabricError('REMOVED', 'removed from the stream'))
        return
      }
      this.epochChanged(outcome)
      await this.channel.notify({ ack: { epoch: outcome.epoch } })
    } else if (msg.roster !== undefined) {
      this.roster = msg.roster.members
      this.emit('roster', this.roster)
    } else if (msg.epochReady !== undefined) {
      this.switchSending(msg.epochReady.epoch)
    } else if (msg.joinRequested !== undefined) {
      this.committer?.requestJoin(msg.joinRequested.identity)
    } else if (msg.leaveRequested !== undefined) {
      this.committer?.requestRemoval(msg.leaveRequested.identity)
    } else if (msg.error !== undefined) {
      await this.shutdown(new FabricError('NOT_FOUND', `group service: ${msg.error.code} ${msg.error.message}`))
    }
  }

  /** A new epoch is in force for receiving; decide when senders follow. */
  private epochChanged (outcome: CommitOutcome): void {
    this.logKey()
    this.deliver(this.decryptor.retryHeld())
    this.emit('epoch', { epoch: outcome.epoch, added: outcome.added, removed: outcome.removed })
    if (outcome.removed.length > 0 || this.opts.sendSwitch !== 'ready') {
      this.switchSending(outcome.epoch)
      return
    }
    if (this.switchTimer !== undefined) clearTimeout(this.switchTimer)
    this.switchTimer = setTimeout(() => { this.switchSending(outcome.epoch) }, DEFAULT_SEND_SWITCH_TIMEOUT_MS)
    this.switchTimer.unref()
  }

  private switchSending (epoch: bigint): void {
    if (epoch <= this.sendEpoch || epoch > this.session.epoch) return
    this.sendEpoch = epoch
    for (const t of this.tracks.values()) {
      t.requestKeyframe()
      this.emit('keyframe-needed', t)
    }
  }

  private async openMedia (): Promise<void> {
    this.publishStream = await PublishStream.open(this.ctx.libp2p, this.ctx.node, this.stream)
    this.publishStream.onKeyframeRequest((track) => {
      for (const t of this.tracks.values()) {
        if (t.track === track) {
          t.requestKeyframe()
          this.emit('keyframe-needed', t)
        }
      }
    })
    this.subscription = await Subscription.open(this.ctx.libp2p, this.ctx.node, this.stream)
    void this.receiveLoop(this.subscription)
  }

  private async receiveLoop (sub: Subscription): Promise<void> {
    try {
      for await (const chunk of sub.chunks()) {
        this.deliver([this.decryptor.decrypt(chunk)])
      }
    } catch {}
  }

  private deliver (outcomes: DecryptOutcome[]): void {
    for (const out of outcomes) if (out.ok) this.emit('frame', out.frame satisfies ReceivedFrame)
  }

  private async sendChunk (chunk: Uint8Array): Promise<void> {
    if (this.publishStream === undefined || this.closed) throw new FabricError('INVALID_STATE', 'publish stream not open')
    await this.publishStream.send(chunk)
  }

  private logKey (): void {
    const file = this.opts.keyLogFile
    if (file === undefined || this.session.removed) return
    const cur = this.session.keyRing.current()
    if (cur !== undefined) appendFileSync(file, `${this.identity} ${cur.epoch} ${Buffer.from(cur.baseKey).toString('hex')}\n`)
  }
}
