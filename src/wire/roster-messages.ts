/**
 * Bounded codecs of roster replication (protocol/roster.proto,
 * protocol/fabric.md section 5): the RosterOpen a relaying node sends a
 * stream's home, and the RosterUpdates the home answers with.
 */
import { MalformedError } from '../errors.js'
import { MAX_LEAF_INDEX, MAX_ROSTER, MAX_ROSTER_MESSAGE } from './limits.js'
import {
  checkEncodedSize, checkU64, checkVersion, checkWireError, decodeBounded, withVersion,
  type Unversioned
} from './message-codec.js'
import { RosterLeaf, RosterOpen, RosterUpdate } from './pb/roster.js'
import { validateIdentity } from './identity.js'
import { validateStreamName } from './stream-tag.js'

export { RosterLeaf, RosterOpen, RosterUpdate }

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

function checkRosterOpen (msg: RosterOpen): void {
  validateIdentity(msg.owner)
  validateStreamName(msg.stream)
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
