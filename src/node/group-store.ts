/**
 * Where the group service keeps its streams across restarts
 * (protocol/survival.md section 5): one record per stream in the node's
 * datastore (the LevelDB of the data directory that also holds the
 * KeyPackages; in memory for an ephemeral node), under
 *   /group/stream/<owner>/<name>
 * holding the StreamSnapshot as JSON with bytes in base64. Owner and name
 * are [A-Za-z0-9] and [A-Za-z0-9._-] (wire/identity.ts, stream-tag.ts), so
 * they never contain the '/' separator.
 *
 * Records are read back with bounds: one larger than MAX_GROUP_RECORD_BYTES,
 * or that does not decode to a snapshot, is skipped and reported, so a
 * damaged record costs its stream only. The core checks what it restores
 * (GroupServiceCore.restore) as well.
 */
import { Key, type Datastore } from 'interface-datastore'
import type { StreamSnapshot } from './group-core.js'
import type { StreamKey } from '../wire/stream-tag.js'

/** Largest stream record read back, bytes: the Commit log's bound and a full roster fit with room. */
export const MAX_GROUP_RECORD_BYTES = 4 * 1024 * 1024

const PREFIX = '/group/stream'

/** What `load` found: the snapshots that decode, and the keys of records that did not. */
export interface LoadedStreams {
  readonly snapshots: StreamSnapshot[]
  readonly damaged: string[]
}

export class GroupStore {
  private readonly ds: Datastore

  /** @param datastore the node's open datastore; this store owns its /group namespace */
  constructor (datastore: Datastore) {
    this.ds = datastore
  }

  /** Writes (or overwrites) the record of `snapshot.key`. @throws backend errors as thrown */
  async put (snapshot: StreamSnapshot): Promise<void> {
    await this.ds.put(keyOf(snapshot.key), new TextEncoder().encode(encodeSnapshot(snapshot)))
  }

  /** Deletes the record of `stream`, if any. @throws backend errors as thrown */
  async delete (stream: StreamKey): Promise<void> {
    await this.ds.delete(keyOf(stream))
  }

  /** Reads every record. @throws backend errors as thrown; bad records are reported in `damaged`, not thrown */
  async load (): Promise<LoadedStreams> {
    const snapshots: StreamSnapshot[] = []
    const damaged: string[] = []
    for await (const { key, value } of this.ds.query({ prefix: PREFIX })) {
      try {
        if (value.byteLength > MAX_GROUP_RECORD_BYTES) throw new Error('record too large')
        const snap = decodeSnapshot(new TextDecoder('utf-8', { fatal: true }).decode(value))
        if (keyOf(snap.key).toString() !== key.toString()) throw new Error('record under another stream\'s key')
        snapshots.push(snap)
      } catch {
        damaged.push(key.toString())
      }
    }
    return { snapshots, damaged }
  }
}

function keyOf (stream: StreamKey): Key {
  return new Key(`${PREFIX}/${stream}`)
}

/** The record's JSON form of a snapshot. */
export function encodeSnapshot (s: StreamSnapshot): string {
  return JSON.stringify({
    v: 1,
    key: s.key,
    owner: s.owner,
    groupId: Buffer.from(s.groupId).toString('base64'),
    epoch: s.epoch.toString(),
    members: s.members.map((m) => [m.identity, m.leaf]),
    log: s.log.map((e) => [e.epoch.toString(), Buffer.from(e.commit).toString('base64')]),
  })
}

/**
 * Decodes a record's JSON.
 * @throws Error when it is not a version 1 record of the expected shape
 */
export function decodeSnapshot (text: string): StreamSnapshot {
  const o = JSON.parse(text) as Record<string, unknown>
  if (o.v !== 1 || typeof o.key !== 'string' || typeof o.owner !== 'string' || typeof o.groupId !== 'string' ||
    typeof o.epoch !== 'string' || !Array.isArray(o.members) || !Array.isArray(o.log)) {
    throw new Error('not a group stream record')
  }
  const members = o.members.map((m: unknown) => {
    if (!Array.isArray(m) || typeof m[0] !== 'string' || typeof m[1] !== 'number') throw new Error('bad member entry')
    return { identity: m[0], leaf: m[1] }
  })
  const log = o.log.map((e: unknown) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string') throw new Error('bad log entry')
    return { epoch: uint64(e[0]), commit: base64(e[1]) }
  })
  return { key: o.key, owner: o.owner, groupId: base64(o.groupId), epoch: uint64(o.epoch), members, log }
}

function uint64 (text: string): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) throw new Error('bad epoch')
  const n = BigInt(text)
  if (n >= 1n << 64n) throw new Error('epoch out of range')
  return n
}

function base64 (text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error('bad base64')
  return new Uint8Array(Buffer.from(text, 'base64'))
}
