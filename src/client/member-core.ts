/**
 * A member's logic without I/O (docs/architecture.md section 1, the sans-IO
 * split): one fabric stream's MLS session, the frame decryptor, the epoch
 * its tracks send under, the roster, and the epoch transition rules of
 * protocol/sequences.md section 3. `handle` takes one input and the current
 * time and returns the actions to carry out and the next deadline; it owns
 * no stream, timer or clock. StreamMember (stream-member.ts) is its shell.
 *
 * `handle` is async only because ts-mls's Commit processing is; the other
 * inputs change the core's state before `handle` returns its promise, so a
 * chunk decrypts in the order it arrived even while a Commit is being
 * processed (media keeps flowing under the current epoch meanwhile, as the
 * session's key ring changes only when the Commit is done).
 *
 * Committer duties stay out of the core: join requests, withdrawals and
 * leave requests come back as actions for the Committer the shell holds,
 * which owns the fetches and timers of a Commit and reports its own
 * applied Commits as an 'applied' input.
 */
import type { CryptoBackend } from '../crypto/backend.js'
import { FabricError } from '../errors.js'
import type { AvSession, CommitOutcome } from '../session/av-session.js'
import { toErrorCode } from '../wire/error-codes.js'
import type { GroupServerMessage } from '../wire/pb/group.js'
import { toHex } from '../wire/text.js'
import { makeTrack } from '../wire/track.js'
import { FrameDecryptor, type DecryptOutcome } from './frame-decryptor.js'
import type { MemberAction, MemberInput, MemberOutput } from './member-actions.js'

/** Fallback: switch the sending key this long after an epoch change even without EpochReady, ms. */
export const DEFAULT_SEND_SWITCH_TIMEOUT_MS = 3_000

/** How a MemberCore behaves. */
export interface MemberCoreOptions {
  /**
   * When tracks move to a new epoch's key: 'immediate' (default) as soon as
   * the member is in it, 'ready' on EpochReady or after `sendSwitchTimeoutMs`.
   * A removal always switches at once. See MemberOptions.sendSwitch.
   */
  sendSwitch?: 'immediate' | 'ready'
  /** The 'ready' fallback, ms; default DEFAULT_SEND_SWITCH_TIMEOUT_MS. */
  sendSwitchTimeoutMs?: number
  /** Return a 'key-log' action for every epoch key (someone listens to MemberOptions.keyLog). */
  keyLog?: boolean
  /** SFrame cipher suite id of received frames; default the decryptor's. */
  suite?: number
  /** AEAD and HKDF provider for decryption; default the process's. */
  backend?: CryptoBackend
}

export class MemberCore {
  readonly session: AvSession
  readonly streamTag: bigint
  /** Receive side: per-sender counters live here (`bySender`, `malformed`, `nameOf`). */
  readonly decryptor: FrameDecryptor
  private readonly sendSwitch: 'immediate' | 'ready'
  private readonly sendSwitchTimeoutMs: number
  private readonly keyLog: boolean
  /** Contexts of this member's tracks, in the order they started. */
  private readonly contexts = new Set<number>()
  private currentSendEpoch: bigint
  private currentRoster: string[] = []
  private refused = 0
  /** A 'ready' switch waiting for EpochReady, and when it happens anyway (ms since the Unix epoch). */
  private pendingSwitch: { epoch: bigint, atMs: number } | undefined
  private closed = false

  /**
   * @param session the member's MLS session (created, or joined from a Welcome)
   * @param streamTag the stream's tag (wire/stream-tag.ts), checked on every chunk
   */
  constructor (session: AvSession, streamTag: bigint, options: MemberCoreOptions = {}) {
    this.session = session
    this.streamTag = streamTag
    this.sendSwitch = options.sendSwitch ?? 'immediate'
    this.sendSwitchTimeoutMs = options.sendSwitchTimeoutMs ?? DEFAULT_SEND_SWITCH_TIMEOUT_MS
    this.keyLog = options.keyLog ?? false
    this.currentSendEpoch = session.epoch
    this.decryptor = new FrameDecryptor(session, streamTag, options.suite, options.backend)
  }

  /** The epoch whose key this member's tracks use now (may trail `session.epoch` in 'ready' mode). */
  get sendEpoch (): bigint { return this.currentSendEpoch }

  /** The latest roster from the group service (peer ids). */
  get roster (): string[] { return this.currentRoster }

  /** Commits this member refused, keeping its epoch. */
  get refusedCommits (): number { return this.refused }

  /** The next deadline (ms since the Unix epoch), as the last output reported it. */
  get deadline (): number | undefined {
    if (this.closed) return undefined
    const held = this.decryptor.heldDeadline()
    const sw = this.pendingSwitch?.atMs
    if (held === undefined) return sw
    return sw === undefined ? held : Math.min(sw, held)
  }

  /**
   * Handles one input at `nowMs` (ms since the Unix epoch, the shell's
   * clock). Never throws for remote input: a bad Commit is refused (a
   * 'commit-refused' event), a bad chunk is counted in the decryptor's
   * stats. After a 'closed' input, or a 'shutdown' action, every input
   * returns no actions.
   */
  async handle (input: MemberInput, nowMs: number): Promise<MemberOutput> {
    const actions: MemberAction[] = []
    if (!this.closed) {
      switch (input.kind) {
        case 'start':
          this.logKey(actions)
          break
        case 'server':
          await this.onServerMessage(input.message, nowMs, actions)
          break
        case 'chunk':
          this.deliver([this.decryptor.decrypt(input.chunk, nowMs)], actions)
          break
        case 'keyframe-request':
          for (const context of this.contexts) {
            if (makeTrack(this.session.ownLeafIndex, context) === input.track) actions.push({ kind: 'keyframe-needed', context })
          }
          break
        case 'track':
          this.contexts.add(input.context)
          break
        case 'applied':
          this.epochChanged(input.outcome, nowMs, actions)
          break
        case 'tick':
          this.onTick(nowMs, actions)
          break
        case 'closed':
          this.closed = true
          this.pendingSwitch = undefined
          break
      }
    }
    return { actions, deadline: this.deadline }
  }

  private async onServerMessage (msg: GroupServerMessage, nowMs: number, actions: MemberAction[]): Promise<void> {
    if (msg.commit !== undefined) {
      await this.onCommit(msg.commit.commit, nowMs, actions)
    } else if (msg.roster !== undefined) {
      this.currentRoster = msg.roster.members
      actions.push({ kind: 'emit', event: 'roster', args: [this.currentRoster] })
      actions.push({ kind: 'committer', committer: msg.roster.committer, epoch: msg.roster.epoch })
    } else if (msg.goingAway !== undefined) {
      const g = msg.goingAway
      actions.push({ kind: 'going-away', reason: g.reason, addresses: [...g.addresses], retryAfterMs: g.retryAfterMs })
    } else if (msg.epochReady !== undefined) {
      this.switchSending(msg.epochReady.epoch, actions)
    } else if (msg.joinRequested !== undefined) {
      actions.push({ kind: 'join-requested', identity: msg.joinRequested.identity, redemption: msg.joinRequested.redemption })
    } else if (msg.joinWithdrawn !== undefined) {
      actions.push({ kind: 'join-withdrawn', identity: msg.joinWithdrawn.identity })
    } else if (msg.leaveRequested !== undefined) {
      actions.push({ kind: 'leave-requested', identity: msg.leaveRequested.identity })
    } else if (msg.error !== undefined) {
      this.shutdown(new FabricError(toErrorCode(msg.error.code), `group service: ${msg.error.message}`), actions)
    }
  }

  /**
   * Processes a delivered Commit. One this member refuses (it breaks the
   * admission policy, does not verify, ...) changes nothing: the member
   * stays in its epoch, keeps decrypting, does not ack, and says so.
   */
  private async onCommit (commit: Uint8Array, nowMs: number, actions: MemberAction[]): Promise<void> {
    if (this.session.removed) return
    let outcome: CommitOutcome
    try {
      outcome = await this.session.processCommit(commit, nowMs)
    } catch (err) {
      this.refused++
      actions.push({ kind: 'emit', event: 'commit-refused', args: [{ epoch: this.session.epoch, error: err instanceof Error ? err : new Error(String(err)) }] })
      return
    }
    if (outcome.removedSelf) {
      actions.push({ kind: 'emit', event: 'removed', args: [] })
      this.shutdown(new FabricError('REMOVED', 'removed from the stream'), actions)
      return
    }
    this.epochChanged(outcome, nowMs, actions)
    actions.push({ kind: 'ack', epoch: outcome.epoch })
  }

  /** A new epoch is in force for receiving; decide when senders follow. */
  private epochChanged (outcome: CommitOutcome, nowMs: number, actions: MemberAction[]): void {
    this.logKey(actions)
    this.deliver(this.decryptor.retryHeld(nowMs), actions)
    actions.push({ kind: 'emit', event: 'epoch', args: [{ epoch: outcome.epoch, added: outcome.added, removed: outcome.removed, safetyCode: this.session.safetyCode() }] })
    // The removed must not read on under a key they still hold.
    if (outcome.removed.length > 0 || this.sendSwitch !== 'ready') {
      this.switchSending(outcome.epoch, actions)
      return
    }
    this.pendingSwitch = { epoch: outcome.epoch, atMs: nowMs + this.sendSwitchTimeoutMs }
  }

  private onTick (nowMs: number, actions: MemberAction[]): void {
    const pending = this.pendingSwitch
    if (pending !== undefined && nowMs >= pending.atMs) {
      this.pendingSwitch = undefined
      this.switchSending(pending.epoch, actions)
    }
    this.deliver(this.decryptor.expireHeld(nowMs), actions)
  }

  /** Moves the tracks to `epoch`'s key unless they are there already or the member is not. */
  private switchSending (epoch: bigint, actions: MemberAction[]): void {
    if (epoch <= this.currentSendEpoch || epoch > this.session.epoch) return
    this.currentSendEpoch = epoch
    if (this.pendingSwitch !== undefined && this.pendingSwitch.epoch <= epoch) this.pendingSwitch = undefined
    // A new key: a receiver that could not read the old one starts at a keyframe.
    for (const context of this.contexts) actions.push({ kind: 'keyframe-needed', context })
  }

  private shutdown (error: FabricError, actions: MemberAction[]): void {
    this.closed = true
    this.pendingSwitch = undefined
    actions.push({ kind: 'shutdown', error })
  }

  private deliver (outcomes: DecryptOutcome[], actions: MemberAction[]): void {
    for (const out of outcomes) if (out.ok) actions.push({ kind: 'emit', event: 'frame', args: [out.frame] })
  }

  private logKey (actions: MemberAction[]): void {
    if (!this.keyLog || this.session.removed) return
    const cur = this.session.keyRing.current()
    if (cur !== undefined) actions.push({ kind: 'key-log', line: `${this.session.identity} ${cur.epoch} ${toHex(cur.baseKey)}\n` })
  }
}
