/**
 * Bounded codecs of a stream's tree link (protocol/roster.proto,
 * protocol/fabric.md section 5): the RosterOpen and TreeHeartbeats a
 * relaying node sends the stream's home, and the HomeMessages (rosters and
 * tree assignments) the home answers with.
 */
import { MalformedError } from '../errors.js'
import { MAX_AV_MESSAGE, MAX_LEAF_INDEX, MAX_ROSTER, MAX_ROSTER_MESSAGE } from './limits.js'
import {
  checkEncodedSize, checkOneBody, checkU32, checkU64, checkVersion, checkWireError, decodeBounded, withVersion,
  type Loose, type Unversioned
} from './message-codec.js'
import { HomeMessage, RosterLeaf, RosterOpen, RosterUpdate, TreeAssignment, TreeHeartbeat } from './pb/roster.js'
import { validateIdentity } from './identity.js'
import { validateStreamName } from './stream-tag.js'

export { HomeMessage, RosterLeaf, RosterOpen, RosterUpdate, TreeAssignment, TreeHeartbeat }

const HOME_BODIES = ['roster', 'assignment'] as const

/**
 * Encodes a RosterOpen (version 1 written for the caller).
 * @throws what decodeRosterOpen would throw for the result; RangeError for a version other than 1
 */
export function encodeRosterOpen (msg: Unversioned<RosterOpen>): Uint8Array {
  const full = withVersion<RosterOpen>('RosterOpen', msg)
  checkRosterOpen(full)
  return checkEncodedSize('RosterOpen', RosterOpen.encode(full), MAX_ROSTER_MESSAGE)
}

/**
 * Decodes the first frame of a roster channel: a valid owner identity and stream name.
 * @throws TooLargeError over MAX_ROSTER_MESSAGE or for an over-long owner or name
 * @throws MalformedError when it does not parse or the owner or name is invalid
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeRosterOpen (bytes: Uint8Array): RosterOpen {
  const msg = decodeBounded<RosterOpen>('RosterOpen', bytes, MAX_ROSTER_MESSAGE, RosterOpen.codec())
  checkVersion('RosterOpen', msg.version)
  checkRosterOpen(msg)
  return msg
}

/**
 * Encodes a RosterUpdate (version 1 written for the caller).
 * @throws what decodeRosterUpdate would throw for the result; RangeError for a version other than 1
 */
export function encodeRosterUpdate (msg: Unversioned<RosterUpdate>): Uint8Array {
  const full = withVersion<RosterUpdate>('RosterUpdate', msg)
  checkRosterUpdate(full)
  return checkEncodedSize('RosterUpdate', RosterUpdate.encode(full), MAX_ROSTER_MESSAGE)
}

/**
 * Decodes one roster from a stream's home: at most MAX_ROSTER members,
 * each a valid identity with a leaf index of at most MAX_LEAF_INDEX, no
 * identity or leaf twice; or an error alone.
 * @throws TooLargeError over MAX_ROSTER_MESSAGE or for an over-long identity
 * @throws MalformedError when it does not parse or breaks the rules above
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeRosterUpdate (bytes: Uint8Array): RosterUpdate {
  const msg = decodeBounded<RosterUpdate>('RosterUpdate', bytes, MAX_ROSTER_MESSAGE, RosterUpdate.codec(), { members: MAX_ROSTER })
  checkVersion('RosterUpdate', msg.version)
  checkRosterUpdate(msg)
  return msg
}

/**
 * Encodes a TreeHeartbeat (relay to home); it has no version field.
 * @throws RangeError for a counter outside u64 or children outside u32
 */
export function encodeTreeHeartbeat (msg: Loose<TreeHeartbeat>): Uint8Array {
  checkTreeHeartbeat(msg)
  return checkEncodedSize('TreeHeartbeat', TreeHeartbeat.encode(msg), MAX_AV_MESSAGE)
}

/**
 * Decodes a TreeHeartbeat.
 * @throws TooLargeError over MAX_AV_MESSAGE (4 KiB); MalformedError when it does not parse
 */
export function decodeTreeHeartbeat (bytes: Uint8Array): TreeHeartbeat {
  return decodeBounded<TreeHeartbeat>('TreeHeartbeat', bytes, MAX_AV_MESSAGE, TreeHeartbeat.codec())
}

/**
 * Encodes a HomeMessage (home to relay): one roster (version 1 written for
 * the caller) or one assignment.
 * @throws what decodeHomeMessage would throw for the result
 */
export function encodeHomeMessage (msg: { roster?: Unversioned<RosterUpdate>, assignment?: TreeAssignment }): Uint8Array {
  const full: HomeMessage = msg.roster === undefined ? { assignment: msg.assignment } : { roster: withVersion<RosterUpdate>('RosterUpdate', msg.roster) }
  checkHomeMessage(full)
  return checkEncodedSize('HomeMessage', HomeMessage.encode(full), MAX_ROSTER_MESSAGE)
}

/**
 * Decodes a frame from the home: a roster (the rules of decodeRosterUpdate)
 * or an assignment (a valid parent identity, a standby identity or empty,
 * a depth of at least 1).
 * @throws TooLargeError over MAX_ROSTER_MESSAGE or for an over-long identity
 * @throws MalformedError when it does not parse, has no body or breaks those rules
 * @throws FabricError('UNSUPPORTED_VERSION') for a roster whose version is not 1
 */
export function decodeHomeMessage (bytes: Uint8Array): HomeMessage {
  const msg = decodeBounded<HomeMessage>('HomeMessage', bytes, MAX_ROSTER_MESSAGE, HomeMessage.codec(), { roster: { members: MAX_ROSTER } } as never)
  checkHomeMessage(msg)
  return msg
}

function checkHomeMessage (msg: HomeMessage): void {
  checkOneBody('HomeMessage', msg, HOME_BODIES)
  if (msg.roster != null) {
    checkVersion('RosterUpdate', msg.roster.version)
    checkRosterUpdate(msg.roster)
  }
  if (msg.assignment != null) {
    validateIdentity(msg.assignment.parent)
    if (msg.assignment.standby !== '') validateIdentity(msg.assignment.standby)
    checkU32('TreeAssignment.depth', msg.assignment.depth)
    if (msg.assignment.depth < 1) throw new MalformedError('TreeAssignment.depth must be at least 1')
  }
}

function checkTreeHeartbeat (msg: Loose<TreeHeartbeat>): void {
  checkU64('TreeHeartbeat.frames_forwarded', msg.framesForwarded)
  checkU64('TreeHeartbeat.bytes_forwarded', msg.bytesForwarded)
  checkU32('TreeHeartbeat.children_served', msg.childrenServed)
}

function checkRosterOpen (msg: RosterOpen): void {
  validateIdentity(msg.owner)
  validateStreamName(msg.stream)
  checkU32('RosterOpen.capacity', msg.capacity)
}

function checkRosterUpdate (msg: RosterUpdate): void {
  checkU64('RosterUpdate.epoch', msg.epoch)
  if (msg.error != null) {
    checkWireError('RosterUpdate.error', msg.error)
    if (msg.members.length > 0 || msg.epoch !== 0n) throw new MalformedError('RosterUpdate carries both an error and a roster')
    return
  }
  if (msg.members.length > MAX_ROSTER) throw new MalformedError(`RosterUpdate has ${msg.members.length} members, limit ${MAX_ROSTER}`)
  const identities = new Set<string>()
  const leaves = new Set<number>()
  for (const m of msg.members) {
    validateIdentity(m.identity)
    if (!Number.isInteger(m.leaf) || m.leaf < 0 || m.leaf > MAX_LEAF_INDEX) throw new MalformedError(`RosterUpdate leaf ${m.leaf} is outside 0..${MAX_LEAF_INDEX}`)
    if (identities.has(m.identity)) throw new MalformedError(`RosterUpdate names ${m.identity} twice`)
    if (leaves.has(m.leaf)) throw new MalformedError(`RosterUpdate gives leaf ${m.leaf} twice`)
    identities.add(m.identity)
    leaves.add(m.leaf)
  }
}
