/**
 * Builders of the GroupServerMessage values the group service core sends
 * (protocol/group.proto). Each stamps GROUP_PROTOCOL_VERSION, so no message
 * can leave the core unversioned. Byte fields are passed by reference, not
 * copied: the same Commit goes to every member, and the shell encodes without
 * mutating.
 */
import type { ErrorCode } from '../../errors.js'
import type { GroupServerMessage } from '../../wire/pb/group.js'
import { GROUP_PROTOCOL_VERSION } from './limits.js'

/**
 * Success reply to request `requestId`.
 * @param epoch the stream's epoch after the request (0 when it names no stream)
 */
export function okMessage (requestId: bigint, epoch: bigint): GroupServerMessage {
  return { version: GROUP_PROTOCOL_VERSION, requestId, ok: { epoch } }
}

/**
 * Most UTF-16 units of an error message. At 3 UTF-8 bytes per unit at worst
 * this stays under the wire's 1 KiB MAX_ERROR_MESSAGE, which the encoder
 * enforces: an over-long text (say, from an inspector's exception) would
 * otherwise make the reply unsendable.
 */
const MAX_ERROR_TEXT_UNITS = 300

/**
 * Error reply to request `requestId`, or an unsolicited error when it is 0.
 * @param code a FabricError code, stable on the wire (protocol/errors.md)
 * @param message human-readable; clipped to MAX_ERROR_TEXT_UNITS
 * @param currentEpoch the epoch of the stream the error is about, 0 when none
 */
export function errorMessage (requestId: bigint, code: ErrorCode, message: string, currentEpoch: bigint): GroupServerMessage {
  const text = message.length > MAX_ERROR_TEXT_UNITS ? `${message.slice(0, MAX_ERROR_TEXT_UNITS - 1)}\u2026` : message
  return { version: GROUP_PROTOCOL_VERSION, requestId, error: { code, message: text, currentEpoch } }
}

/** To the committer: `identity` asks to be added. */
export function joinRequestedMessage (identity: string): GroupServerMessage {
  return { version: GROUP_PROTOCOL_VERSION, requestId: 0n, joinRequested: { identity } }
}

/** To the committer: `identity` left; it should commit its removal. */
export function leaveRequestedMessage (identity: string): GroupServerMessage {
  return { version: GROUP_PROTOCOL_VERSION, requestId: 0n, leaveRequested: { identity } }
}

/** To an existing member: the accepted Commit (RFC 9420 section 12.4) that starts `epoch`. */
export function commitMessage (epoch: bigint, commit: Uint8Array<ArrayBuffer>): GroupServerMessage {
  return { version: GROUP_PROTOCOL_VERSION, requestId: 0n, commit: { epoch, commit } }
}

/** To a joiner: the Welcome (RFC 9420 section 12.4.3.1) that admits it at `epoch`. */
export function welcomeMessage (epoch: bigint, welcome: Uint8Array<ArrayBuffer>): GroupServerMessage {
  return { version: GROUP_PROTOCOL_VERSION, requestId: 0n, welcome: { epoch, welcome } }
}

/** The roster at `epoch`; `members` is copied so later roster changes do not alter a queued message. */
export function rosterMessage (epoch: bigint, members: readonly string[], committer: string): GroupServerMessage {
  return { version: GROUP_PROTOCOL_VERSION, requestId: 0n, roster: { epoch, members: [...members], committer } }
}

/** Every member has acknowledged `epoch`, or the wait for them timed out. */
export function epochReadyMessage (epoch: bigint): GroupServerMessage {
  return { version: GROUP_PROTOCOL_VERSION, requestId: 0n, epochReady: { epoch } }
}
