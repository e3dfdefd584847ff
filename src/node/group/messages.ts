/**
 * Builders of the GroupServerMessage values the group service core sends
 * (protocol/group.proto). Each stamps the wire's PROTOCOL_VERSION, so no message
 * can leave the core unversioned. Byte fields are passed by reference, not
 * copied: the same Commit goes to every member, and the shell encodes without
 * mutating.
 */
import type { ErrorCode } from '../../errors.js'
import { clipErrorText, PROTOCOL_VERSION } from '../../wire/message-codec.js'
import type { GroupServerMessage } from '../../wire/pb/group.js'

/**
 * Success reply to request `requestId`.
 * @param epoch the stream's epoch after the request (0 when it names no stream)
 */
export function okMessage (requestId: bigint, epoch: bigint): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId, ok: { epoch } }
}

/**
 * Error reply to request `requestId`, or an unsolicited error when it is 0.
 * @param code a FabricError code, stable on the wire (protocol/errors.md)
 * @param message human-readable; clipped by clipErrorText (wire/message-codec.ts)
 * @param currentEpoch the epoch of the stream the error is about, 0 when none
 */
export function errorMessage (requestId: bigint, code: ErrorCode, message: string, currentEpoch: bigint): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId, error: { code, message: clipErrorText(message), currentEpoch } }
}

/**
 * To the committer: `identity` asks to be added, presenting `redemption` (a
 * Redemption, protocol/admission.proto; empty for none).
 */
export function joinRequestedMessage (identity: string, redemption: Uint8Array<ArrayBuffer>): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, joinRequested: { identity, redemption } }
}

/** To the committer: the pending join of `identity` ended (its stream closed, or it expired). */
export function joinWithdrawnMessage (identity: string): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, joinWithdrawn: { identity } }
}

/** To the committer: `identity` left; it should commit its removal. */
export function leaveRequestedMessage (identity: string): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, leaveRequested: { identity } }
}

/** To an existing member: the accepted Commit (RFC 9420 section 12.4) that starts `epoch`. */
export function commitMessage (epoch: bigint, commit: Uint8Array<ArrayBuffer>): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, commit: { epoch, commit } }
}

/** To a joiner: the Welcome (RFC 9420 section 12.4.3.1) that admits it at `epoch`. */
export function welcomeMessage (epoch: bigint, welcome: Uint8Array<ArrayBuffer>): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, welcome: { epoch, welcome } }
}

/** The roster at `epoch`; `members` is copied so later roster changes do not alter a queued message. */
export function rosterMessage (epoch: bigint, members: readonly string[], committer: string): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, roster: { epoch, members: [...members], committer } }
}

/** Every member has acknowledged `epoch`, or the wait for them timed out. */
export function epochReadyMessage (epoch: bigint): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, epochReady: { epoch } }
}

/** The node is about to stop: reconnect after `retryAfterMs`, here or at one of `addresses` (protocol/survival.md section 5). */
export function goingAwayMessage (reason: string, addresses: readonly string[], retryAfterMs: number): GroupServerMessage {
  return { version: PROTOCOL_VERSION, requestId: 0n, goingAway: { reason: clipErrorText(reason), addresses: [...addresses], retryAfterMs } }
}
