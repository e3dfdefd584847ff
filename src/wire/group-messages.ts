/**
 * Bounded codecs of /fabric/group/1 (protocol/group.proto, protocol/control.md
 * "Group service"): GroupClientMessage from members, GroupServerMessage from
 * the node, each one frame of at most MAX_CONTROL_FRAME bytes.
 */
import { MalformedError } from '../errors.js'
import { validateIdentity } from './identity.js'
import {
  MAX_ADDED_PER_COMMIT, MAX_COMMIT, MAX_CONTROL_FRAME, MAX_GROUP_ID, MAX_REMOVED_PER_COMMIT,
  MAX_REDEMPTION, MAX_ROSTER, MAX_WELCOME
} from './limits.js'
import {
  checkBytes, checkCount, checkEncodedSize, checkOneBody, checkU64, checkVersion, checkWireError,
  decodeBounded, withVersion, type Unversioned
} from './message-codec.js'
import { GroupClientMessage, GroupServerMessage, type SubmitCommit } from './pb/group.js'
import { validateStreamName } from './stream-tag.js'
import { checkGoingAway, MAX_GOING_AWAY_ADDRESSES } from './going-away.js'

export { GroupClientMessage, GroupServerMessage }

const CLIENT_BODIES = ['create', 'join', 'commit', 'ack', 'leave', 'deny', 'resume', 'end'] as const
const SERVER_BODIES = ['ok', 'error', 'joinRequested', 'commit', 'welcome', 'roster', 'epochReady', 'leaveRequested', 'joinWithdrawn', 'goingAway'] as const
export { MAX_ADDRESS_TEXT, MAX_GOING_AWAY_ADDRESSES, MAX_RETRY_AFTER_MS } from './going-away.js'

/**
 * Encodes a GroupClientMessage (version 1 written for the caller). Exactly
 * one body; see decodeGroupClientMessage for the field rules.
 * @throws what decodeGroupClientMessage would throw for the result
 * @throws RangeError for two bodies, a version other than 1, or a u64 out of range
 */
export function encodeGroupClientMessage (msg: Unversioned<GroupClientMessage>): Uint8Array {
  const full = withVersion<GroupClientMessage>('GroupClientMessage', msg)
  checkU64('request_id', full.requestId)
  checkClient(full)
  return checkEncodedSize('GroupClientMessage', GroupClientMessage.encode(full), MAX_CONTROL_FRAME)
}

/**
 * Decodes one GroupClientMessage frame. Rules: create has a valid stream
 * name and a 1..256-byte group id; join a valid stream name, a valid owner
 * identity and a redemption of at most 2 KiB; deny a valid identity and a
 * reason of at most 1 KiB of UTF-8; resume a valid stream name and owner; commit a
 * 1 B..1 MiB Commit, a Welcome of at most 1 MiB that is present exactly
 * when `added` is non-empty, at most 1000 added and 10 000 removed valid
 * identities. Bytes fields are views into `bytes`.
 * @throws TooLargeError when the frame or a field exceeds its bound (limits.ts)
 * @throws MalformedError when it does not parse, has no body, or breaks a rule
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeGroupClientMessage (bytes: Uint8Array): GroupClientMessage {
  const msg = decodeBounded<GroupClientMessage>('GroupClientMessage', bytes, MAX_CONTROL_FRAME, GroupClientMessage.codec(), {
    commit: { added: MAX_ADDED_PER_COMMIT, removed: MAX_REMOVED_PER_COMMIT }
  })
  checkVersion('GroupClientMessage', msg.version)
  checkClient(msg)
  return msg
}

/**
 * Encodes a GroupServerMessage (version 1 written for the caller). Exactly
 * one body; see decodeGroupServerMessage for the field rules.
 * @throws what decodeGroupServerMessage would throw for the result
 * @throws RangeError for two bodies, a version other than 1, or a u64 out of range
 */
export function encodeGroupServerMessage (msg: Unversioned<GroupServerMessage>): Uint8Array {
  const full = withVersion<GroupServerMessage>('GroupServerMessage', msg)
  checkU64('request_id', full.requestId)
  checkServer(full)
  return checkEncodedSize('GroupServerMessage', GroupServerMessage.encode(full), MAX_CONTROL_FRAME)
}

/**
 * Decodes one GroupServerMessage frame. Rules: identities (join_requested,
 * leave_requested, roster members and committer) valid; a join_requested
 * redemption of at most 2 KiB; commit 1 B..1 MiB;
 * welcome 1 B..1 MiB; roster at most 10 000 members; error body well formed;
 * going_away a reason of at most 1 KiB, at most 16 addresses of at most 512
 * bytes each and a wait of at most 60 000 ms.
 * Bytes fields are views into `bytes`.
 * @throws TooLargeError when the frame or a field exceeds its bound (limits.ts)
 * @throws MalformedError when it does not parse, has no body, or breaks a rule
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeGroupServerMessage (bytes: Uint8Array): GroupServerMessage {
  const msg = decodeBounded<GroupServerMessage>('GroupServerMessage', bytes, MAX_CONTROL_FRAME, GroupServerMessage.codec(), {
    roster: { members: MAX_ROSTER },
    goingAway: { addresses: MAX_GOING_AWAY_ADDRESSES }
  })
  checkVersion('GroupServerMessage', msg.version)
  checkServer(msg)
  return msg
}

function checkClient (msg: GroupClientMessage): void {
  checkOneBody('GroupClientMessage', msg, CLIENT_BODIES)
  if (msg.create != null) {
    validateStreamName(msg.create.stream)
    checkBytes('create.group_id', msg.create.groupId, 1, MAX_GROUP_ID)
  } else if (msg.join != null) {
    validateStreamName(msg.join.stream)
    validateIdentity(msg.join.owner)
    checkBytes('join.redemption', msg.join.redemption, 0, MAX_REDEMPTION)
  } else if (msg.deny != null) {
    validateIdentity(msg.deny.identity)
    checkWireError('deny', { code: 'NOT_ADMITTED', message: msg.deny.reason })
  } else if (msg.commit != null) {
    checkCommit(msg.commit)
  } else if (msg.ack != null) {
    checkU64('ack.epoch', msg.ack.epoch)
  } else if (msg.resume != null) {
    validateStreamName(msg.resume.stream)
    validateIdentity(msg.resume.owner)
    checkU64('resume.epoch', msg.resume.epoch)
  }
}

function checkCommit (c: SubmitCommit): void {
  checkU64('commit.epoch', c.epoch)
  checkBytes('commit.commit', c.commit, 1, MAX_COMMIT)
  checkBytes('commit.welcome', c.welcome, 0, MAX_WELCOME)
  checkCount('commit.added', c.added, MAX_ADDED_PER_COMMIT)
  checkCount('commit.removed', c.removed, MAX_REMOVED_PER_COMMIT)
  for (const id of c.added) validateIdentity(id)
  for (const id of c.removed) validateIdentity(id)
  // A Welcome without joiners, or joiners without a Welcome, cannot be delivered.
  if ((c.added.length > 0) !== (c.welcome.byteLength > 0)) {
    throw new MalformedError('commit.welcome must be present exactly when commit.added is non-empty')
  }
}

function checkServer (msg: GroupServerMessage): void {
  checkOneBody('GroupServerMessage', msg, SERVER_BODIES)
  if (msg.ok != null) {
    checkU64('ok.epoch', msg.ok.epoch)
  } else if (msg.error != null) {
    checkWireError('error', msg.error)
    checkU64('error.current_epoch', msg.error.currentEpoch)
  } else if (msg.joinRequested != null) {
    validateIdentity(msg.joinRequested.identity)
    checkBytes('join_requested.redemption', msg.joinRequested.redemption, 0, MAX_REDEMPTION)
  } else if (msg.leaveRequested != null) {
    validateIdentity(msg.leaveRequested.identity)
  } else if (msg.joinWithdrawn != null) {
    validateIdentity(msg.joinWithdrawn.identity)
  } else if (msg.commit != null) {
    checkU64('commit.epoch', msg.commit.epoch)
    checkBytes('commit.commit', msg.commit.commit, 1, MAX_COMMIT)
  } else if (msg.welcome != null) {
    checkU64('welcome.epoch', msg.welcome.epoch)
    checkBytes('welcome.welcome', msg.welcome.welcome, 1, MAX_WELCOME)
  } else if (msg.roster != null) {
    checkU64('roster.epoch', msg.roster.epoch)
    checkCount('roster.members', msg.roster.members, MAX_ROSTER)
    for (const id of msg.roster.members) validateIdentity(id)
    validateIdentity(msg.roster.committer)
  } else if (msg.epochReady != null) {
    checkU64('epoch_ready.epoch', msg.epochReady.epoch)
  } else if (msg.goingAway != null) {
    checkGoingAway('going_away', msg.goingAway)
  }
}
