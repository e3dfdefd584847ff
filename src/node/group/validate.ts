/**
 * Request checks of the group service core that need no stream state: body
 * selection, names, ids and the shape of a SubmitCommit. Each refuses by
 * throwing a Refusal, which the core turns into an error reply; none of them
 * mutates anything, so a refused request leaves the core as it was.
 *
 * The bounds and name rules are the wire layer's (src/wire/limits.ts,
 * stream-tag.ts, identity.ts), so the core accepts exactly what the decoder
 * lets through; checking again keeps the core safe when fed hand-built
 * messages (tests, in-process callers).
 */
import { FabricError, type ErrorCode } from '../../errors.js'
import { validateIdentity } from '../../wire/identity.js'
import { MAX_ADDED_PER_COMMIT, MAX_COMMIT, MAX_GROUP_ID, MAX_WELCOME } from '../../wire/limits.js'
import type { AckEpoch, CreateStream, DenyJoin, GroupClientMessage, JoinStream, ResumeStream, SubmitCommit } from '../../wire/pb/group.js'
import { streamKey, type StreamKey } from '../../wire/stream-tag.js'

/**
 * A request the core refuses. Carries the epoch to report as
 * `GroupError.current_epoch`, so a client that lost a race learns where the
 * stream is without another round trip.
 */
export class Refusal extends FabricError {
  /** Epoch of the stream the refusal is about, 0 when there is none. */
  readonly currentEpoch: bigint

  constructor (code: ErrorCode, message: string, currentEpoch: bigint) {
    super(code, message)
    this.currentEpoch = currentEpoch
  }
}

/** The one body a GroupClientMessage carries, tagged by its oneof field name. */
export type ClientBody =
  | { kind: 'create', create: CreateStream }
  | { kind: 'join', join: JoinStream }
  | { kind: 'commit', commit: SubmitCommit }
  | { kind: 'ack', ack: AckEpoch }
  | { kind: 'leave' }
  | { kind: 'deny', deny: DenyJoin }
  | { kind: 'resume', resume: ResumeStream }
  | { kind: 'end' }

/**
 * The body of `message`.
 * @throws Refusal MALFORMED when no body or more than one is set; protons
 *   never decodes two, but a hand-built message could carry both.
 */
export function clientBody (message: GroupClientMessage, currentEpoch: bigint): ClientBody {
  const bodies: ClientBody[] = []
  if (message.create !== undefined) bodies.push({ kind: 'create', create: message.create })
  if (message.join !== undefined) bodies.push({ kind: 'join', join: message.join })
  if (message.commit !== undefined) bodies.push({ kind: 'commit', commit: message.commit })
  if (message.ack !== undefined) bodies.push({ kind: 'ack', ack: message.ack })
  if (message.leave !== undefined) bodies.push({ kind: 'leave' })
  if (message.deny !== undefined) bodies.push({ kind: 'deny', deny: message.deny })
  if (message.resume !== undefined) bodies.push({ kind: 'resume', resume: message.resume })
  if (message.end !== undefined) bodies.push({ kind: 'end' })
  if (bodies.length !== 1) throw new Refusal('MALFORMED', `a group message carries exactly one body, got ${bodies.length}`, currentEpoch)
  return bodies[0]!
}

/**
 * The address of a stream named in create (owner = the sender) or join
 * (wire rules: an identity and 1..128 of [A-Za-z0-9._-]).
 * @throws Refusal MALFORMED or TOO_LARGE
 */
export function checkStreamAddress (owner: string, name: string): StreamKey {
  let key: StreamKey = ''
  asRefusal(0n, () => { key = streamKey(owner, name) })
  return key
}

/**
 * Checks the MLS group id (RFC 9420 section 8.1, GroupContext) given at create.
 * @throws Refusal MALFORMED when empty, TOO_LARGE above MAX_GROUP_ID bytes
 */
export function checkGroupId (groupId: Uint8Array): void {
  if (!(groupId instanceof Uint8Array) || groupId.byteLength === 0) throw new Refusal('MALFORMED', 'group id is empty', 0n)
  if (groupId.byteLength > MAX_GROUP_ID) {
    throw new Refusal('TOO_LARGE', `group id is ${groupId.byteLength} bytes, limit ${MAX_GROUP_ID}`, 0n)
  }
}

/**
 * Checks the parts of a SubmitCommit that do not depend on the roster: byte
 * bounds, list bounds, identities, no identity twice, and a Welcome exactly
 * when someone is added (RFC 9420 section 12.4.3.1: a Welcome exists only
 * for new members).
 *
 * @param maxMembers the stream's member bound; a longer `removed` cannot be valid
 * @param epoch the stream's current epoch, reported in the refusal
 * @throws Refusal MALFORMED or TOO_LARGE
 */
export function checkCommitShape (commit: SubmitCommit, maxMembers: number, epoch: bigint): void {
  const refuse = (code: ErrorCode, message: string): never => { throw new Refusal(code, message, epoch) }
  const commitBytes = commit.commit instanceof Uint8Array ? commit.commit.byteLength : 0
  if (commitBytes === 0) refuse('MALFORMED', 'commit is empty')
  if (commitBytes > MAX_COMMIT) refuse('TOO_LARGE', `commit is ${commitBytes} bytes, limit ${MAX_COMMIT}`)
  const welcomeBytes = commit.welcome instanceof Uint8Array ? commit.welcome.byteLength : 0
  if (welcomeBytes > MAX_WELCOME) refuse('TOO_LARGE', `welcome is ${welcomeBytes} bytes, limit ${MAX_WELCOME}`)
  const added = Array.isArray(commit.added) ? commit.added : []
  const removed = Array.isArray(commit.removed) ? commit.removed : []
  if (added.length > MAX_ADDED_PER_COMMIT) refuse('TOO_LARGE', `commit adds ${added.length} members, limit ${MAX_ADDED_PER_COMMIT}`)
  if (removed.length > maxMembers) refuse('TOO_LARGE', `commit removes ${removed.length} members, limit ${maxMembers}`)
  const seen = new Set<string>()
  for (const identity of [...added, ...removed]) {
    asRefusal(epoch, () => { validateIdentity(identity) })
    if (seen.has(identity)) refuse('MALFORMED', `commit names ${identity} twice`)
    seen.add(identity)
  }
  if ((added.length > 0) !== (welcomeBytes > 0)) {
    refuse('MALFORMED', added.length > 0 ? 'commit adds members without a Welcome' : 'commit carries a Welcome but adds nobody')
  }
}

/** Runs a wire validator, turning its FabricError into a Refusal with the same code. */
function asRefusal (epoch: bigint, check: () => void): void {
  try {
    check()
  } catch (err) {
    if (err instanceof FabricError) throw new Refusal(err.code, err.message, epoch)
    throw err
  }
}
