/**
 * Test scaffolding for the client: real MLS sessions of real identities
 * (Ed25519 keys named by their peer ids), each member built only from bytes
 * another member handed it (copies, as a transport would).
 */
import { TrackPublisher, type TrackHost } from '../../src/client/track-publisher.js'
import type { AdmissionRules } from '../../src/session/admission/index.js'
import { AvSession, type PendingCommit } from '../../src/session/av-session.js'
import { identityFromSeed, type MemberIdentity } from '../../src/session/identity.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import { streamKey, streamTag } from '../../src/wire/stream-tag.js'

const identities = new Map<number, MemberIdentity>()

/**
 * Member n's identity: the Ed25519 key whose seed is 32 bytes of 0x80 + n
 * (deterministic, so failures reproduce; distinct from the session tests'
 * peers). n is 0..127.
 */
export function member (n: number): MemberIdentity {
  let id = identities.get(n)
  if (id === undefined) {
    if (!Number.isInteger(n) || n < 0 || n > 127) throw new RangeError(`test member ${n} outside 0..127`)
    id = identityFromSeed(new Uint8Array(32).fill(0x80 + n))
    identities.set(n, id)
  }
  return id
}

/** Member n's peer id: its identity on the wire and in MLS. */
export function peer (n: number): string {
  return member(n).peerId
}

/** The stream the tests' groups are: member 0's "client-test". */
export const STREAM = 'client-test'
export const OWNER = peer(0)
export const KEY = streamKey(OWNER, STREAM)
export const TAG = streamTag(KEY)

/** Admission where it is not the point: anyone may join. */
export const OPEN: AdmissionRules = { admission: 'open' }

export function copy (bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes)
}

/** Member 0's session of STREAM under `admission` (default open). */
export async function createOwner (admission: AdmissionRules = OPEN): Promise<AvSession> {
  return await AvSession.create({ identity: member(0), stream: STREAM, admission, nowMs: Date.now() })
}

/** A member before joining: its published KeyPackage, and a join that uses its own private state. */
export interface Joiner {
  identity: string
  keyPackage: Uint8Array
  join: (welcome: Uint8Array) => Promise<AvSession>
}

/** Member `who` (or n for member(n)) about to join member 0's STREAM. */
export async function makeJoiner (who: number | MemberIdentity): Promise<Joiner> {
  const id = typeof who === 'number' ? member(who) : who
  const bundle = await generateKeyPackage(id, { nowMs: Date.now() })
  return {
    identity: id.peerId,
    keyPackage: copy(bundle.keyPackage),
    join: async (welcome) => await AvSession.joinFromWelcome({
      welcome: copy(welcome),
      keyPackage: copy(bundle.keyPackage),
      privateState: copy(bundle.privateState),
      identity: id.peerId,
      expect: { owner: OWNER, stream: STREAM },
      nowMs: Date.now(),
    }),
  }
}

/** A creator (member 0, leaf 0) of an open STREAM and `n` members added in one Commit: everyone at epoch 1. */
export async function groupOf (n: number): Promise<AvSession[]> {
  const creator = await createOwner()
  const joiners = await Promise.all(Array.from({ length: n }, async (_, i) => await makeJoiner(i + 1)))
  const add = await creator.prepareAdd(joiners.map((j) => copy(j.keyPackage)), { nowMs: Date.now() })
  await creator.applyPending(add, Date.now())
  const joined = await Promise.all(joiners.map(async (j) => await j.join(add.welcome!)))
  return [creator, ...joined]
}

/** `committer` commits `prepare`'s Commit and every session in `others` processes it. */
export async function commitAndDeliver (committer: AvSession, pending: PendingCommit, others: AvSession[]): Promise<void> {
  await committer.applyPending(pending, Date.now())
  for (const s of others) await s.processCommit(copy(pending.commit), Date.now())
}

/** A TrackPublisher whose chunks are captured instead of sent. */
export interface CapturingTrack {
  track: TrackPublisher
  sent: Uint8Array[]
  host: TrackHost & { sendEpoch: bigint }
}

/** A track of `session`'s member; its sending epoch follows the session unless set. */
export function capturingTrack (session: AvSession, context: number, sendEpoch?: bigint): CapturingTrack {
  const sent: Uint8Array[] = []
  let pinned = sendEpoch
  const host = {
    session,
    streamTag: TAG,
    get sendEpoch (): bigint { return pinned ?? session.epoch },
    set sendEpoch (e: bigint) { pinned = e },
    sendChunk: async (chunk: Uint8Array): Promise<void> => { sent.push(copy(chunk)) },
    now: Date.now,
  }
  return { track: new TrackPublisher(host, context), sent, host }
}
