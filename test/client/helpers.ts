/**
 * Test scaffolding for the client: real MLS sessions, each member built only
 * from bytes another member handed it (copies, as a transport would).
 */
import { TrackPublisher, type TrackHost } from '../../src/client/track-publisher.js'
import { AvSession, type PendingCommit } from '../../src/session/av-session.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import { streamTag } from '../../src/wire/stream-tag.js'

export const STREAM = 'client-test'
export const TAG = streamTag(STREAM)

/** A libp2p-like peer id for member n. */
export function peer (n: number): string {
  return `12D3KooWClientTest${String(n).padStart(4, '0')}`
}

export function copy (bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes)
}

/** A member before joining: its published KeyPackage, and a join that uses its own private state. */
export interface Joiner {
  identity: string
  keyPackage: Uint8Array
  join: (welcome: Uint8Array) => Promise<AvSession>
}

export async function makeJoiner (identity: string): Promise<Joiner> {
  const bundle = await generateKeyPackage(identity, { nowMs: Date.now() })
  return {
    identity,
    keyPackage: copy(bundle.keyPackage),
    join: async (welcome) => await AvSession.joinFromWelcome({
      welcome: copy(welcome),
      keyPackage: copy(bundle.keyPackage),
      privateState: copy(bundle.privateState),
      identity,
      nowMs: Date.now(),
    }),
  }
}

/** A creator (peer 0, leaf 0) and `n` members added in one Commit: everyone at epoch 1. */
export async function groupOf (n: number): Promise<AvSession[]> {
  const creator = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
  const joiners = await Promise.all(Array.from({ length: n }, async (_, i) => await makeJoiner(peer(i + 1))))
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
  }
  return { track: new TrackPublisher(host, context), sent, host }
}
