/**
 * The vocabulary between a member's sans-IO core (MemberCore,
 * member-core.ts) and its shell (StreamMember, stream-member.ts): the
 * events an app sees, the inputs the shell feeds the core, and the actions
 * the core asks the shell to carry out. Types only: no clock, no I/O.
 */
import type { FabricError } from '../errors.js'
import type { CommitOutcome } from '../session/av-session.js'
import type { GroupServerMessage } from '../wire/pb/group.js'
import type { KnockRequest } from './committer.js'
import type { ReceivedFrame } from './frame-decryptor.js'
import type { TrackPublisher } from './track-publisher.js'

/**
 * The events a StreamMember emits, each with its listener's arguments:
 * `m.on('frame', (f) => ...)` is typed, and an unknown event or field does
 * not compile.
 */
export interface StreamMemberEvents {
  /** A frame of another member, decrypted and checked (SFrame, RFC 9605). */
  frame: [frame: ReceivedFrame]
  /** This member entered a new epoch: who was added and removed, the new safety code. */
  epoch: [change: { epoch: bigint, added: string[], removed: string[], safetyCode: string }]
  /** The group service's roster (peer ids, creator first, then in order of addition). */
  roster: [members: string[]]
  /** Committer: someone knocks (admission policy `knock`); call `approve()` or `deny()`. */
  knock: [request: KnockRequest]
  /** Committer: a join it denied, with the reason sent to the joiner. */
  'join-denied': [denial: { identity: string, reason: string }]
  /** Committer: a Commit for these identities failed (they stay out; the error says why). */
  'commit-failed': [failure: { identities: string[], error: Error }]
  /** A Commit this member refused (e.g. one whose Add the admission policy does not admit); it stays in `epoch`. */
  'commit-refused': [refusal: { epoch: bigint, error: Error }]
  /** A track must send a keyframe next (a new epoch, or the node asked). */
  'keyframe-needed': [track: TrackPublisher]
  /** This member was removed from the group: nothing later decrypts. */
  removed: []
  /** Every stream of this member closed; `error` when the node or the network cut it. */
  closed: [error: Error | undefined]
  /** The group service designated `committer` to commit for the stream (protocol/survival.md section 2); `self` when it is this member. */
  committer: [change: { committer: string, epoch: bigint, self: boolean }]
  /**
   * The connection to the node broke (or the node said it is going away):
   * this member is trying again (attempt 1, 2, ...) after `delayMs`.
   * Frames sent meanwhile are dropped and counted (`stats().tracks[].droppedAway`).
   */
  reconnecting: [progress: { attempt: number, delayMs: number, reason: string }]
  /** A group stream is open again and the node took this member back (before any missed Commit is processed). */
  reconnected: [progress: { attempt: number, awayMs: number }]
  /**
   * Back in the call: missed Commits processed (`commitsReplayed`), or, when
   * the MLS state could not be brought current, joined again with a fresh
   * KeyPackage (`rejoined`); media streams open again. `awayMs` is from the
   * break to now.
   */
  resumed: [summary: { epoch: bigint, awayMs: number, commitsReplayed: number, rejoined: boolean }]
}

/**
 * The events the core decides on its own. The others come from the shell:
 * 'closed' when its streams close, 'keyframe-needed' from a keyframe-needed
 * action (the event carries the shell's TrackPublisher), and 'knock',
 * 'join-denied', 'commit-failed' from the committer it holds.
 */
export type CoreEventName = 'frame' | 'epoch' | 'roster' | 'commit-refused' | 'removed'

/** An action to emit one event with its arguments, exactly as StreamMemberEvents types them. */
export type EmitAction = {
  [K in CoreEventName]: { kind: 'emit', event: K, args: StreamMemberEvents[K] }
}[CoreEventName]

/**
 * One input to `MemberCore.handle`. The shell feeds them in the order they
 * happen; group-service messages one at a time (GroupChannel serialises
 * them), media chunks as they arrive.
 */
export type MemberInput =
  /** The member exists (first input, once): logs the key of the epoch it starts in. */
  | { kind: 'start' }
  /** An unsolicited message of the group service (protocol/group.proto GroupServerMessage). */
  | { kind: 'server', message: GroupServerMessage }
  /** A media chunk whose link seal is open: clear metadata || SFrame (protocol/chunk.md). */
  | { kind: 'chunk', chunk: Uint8Array }
  /** The node asks for a keyframe on wire track `track` ((leaf << 8) | context). */
  | { kind: 'keyframe-request', track: number }
  /** The app started a track of this context (0 video, 1 audio, 2 screen). */
  | { kind: 'track', context: number }
  /** This member's own Commit was accepted and applied (the committer's, or a policy change). */
  | { kind: 'applied', outcome: CommitOutcome }
  /** The deadline of an earlier output passed. */
  | { kind: 'tick' }
  /** The shell closed the member; every later input is ignored. */
  | { kind: 'closed' }

/**
 * One thing for the shell to do. Actions of one output are carried out in
 * order (an epoch's frames and 'epoch' event come before its ack).
 */
export type MemberAction =
  | EmitAction
  /** Acknowledge `epoch` to the group service (a notify, no answer expected; protocol/sequences.md section 3). */
  | { kind: 'ack', epoch: bigint }
  /** The track of this context must send a keyframe next: mark it and emit 'keyframe-needed'. */
  | { kind: 'keyframe-needed', context: number }
  /** One key-log line ("identity epoch base-key-hex\n") for MemberOptions.keyLog. */
  | { kind: 'key-log', line: string }
  /**
   * Committer duties, for the shell's Committer if it has one (a member that
   * does not commit ignores them): a pending join to decide, a pending join
   * that ended at the node, a member that asks to leave.
   */
  | { kind: 'join-requested', identity: string, redemption: Uint8Array }
  | { kind: 'join-withdrawn', identity: string }
  | { kind: 'leave-requested', identity: string }
  /** The group service designated `committer` (from a Roster): the shell takes or drops the committer role. */
  | { kind: 'committer', committer: string, epoch: bigint }
  /** The node is going away: reconnect after `retryAfterMs`, there or at one of `addresses`. */
  | { kind: 'going-away', reason: string, addresses: string[], retryAfterMs: number }
  /** Close every stream with this error (the core already ignores later inputs). */
  | { kind: 'shutdown', error: FabricError }

/** What one `MemberCore.handle` call returns. */
export interface MemberOutput {
  /** What to do, in order. */
  actions: MemberAction[]
  /**
   * When the shell must next feed a 'tick', ms since the Unix epoch (by the
   * clock that supplies `nowMs`); undefined when nothing waits. Each output
   * replaces the previous one's deadline.
   */
  deadline: number | undefined
}
