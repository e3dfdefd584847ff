/**
 * GroupStore (src/node/group-store.ts): the group service's stream records
 * in the node's datastore. Round trips on datastore-core's MemoryDatastore
 * and on a LevelDB data directory across a reopen; damaged records are
 * reported and skipped, never thrown; the record's JSON form round-trips
 * any snapshot.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import fc from 'fast-check'
import { Key } from 'interface-datastore'
import { afterEach, describe, expect, it } from 'vitest'
import { GroupServiceCore, type StreamSnapshot } from '../../src/node/group-core.js'
import { GroupStore, MAX_GROUP_RECORD_BYTES, decodeSnapshot, encodeSnapshot } from '../../src/node/group-store.js'
import { streamKey } from '../../src/wire/stream-tag.js'
import { bytes, identity, streamName, u64 } from '../wire/arbitraries.js'
import { ALICE, BOB, CAROL, S, aliceAndBob, inspectTestCommit } from './group-harness.js'

const dirs: string[] = []

afterEach(async () => {
  await Promise.all(dirs.splice(0).map(async (d) => { await rm(d, { recursive: true, force: true }) }))
})

/** Alice's stream at epoch 2 (alice, bob, carol), as the core snapshots it. */
function aliceSnapshot (): StreamSnapshot {
  const h = aliceAndBob()
  h.open(3, CAROL)
  h.join(3)
  h.commit(1, 1n, { added: [CAROL] })
  return h.core.snapshot(S)!
}

/** Bob's stream 't' at epoch 0. */
function bobSnapshot (): StreamSnapshot {
  return {
    key: streamKey(BOB, 't'), owner: BOB, groupId: new Uint8Array([9, 9]), epoch: 0n,
    members: [{ identity: BOB, leaf: 0 }], log: [],
  }
}

function byKey (snapshots: StreamSnapshot[]): StreamSnapshot[] {
  return [...snapshots].sort((a, b) => a.key < b.key ? -1 : 1)
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('GroupStore', () => {
  it('puts, loads, overwrites and deletes records on a MemoryDatastore, leaving other namespaces alone', async () => {
    const ds = new MemoryDatastore()
    await ds.put(new Key('/kp/alice/1'), text('a KeyPackage'))
    const store = new GroupStore(ds)
    expect(await store.load()).toEqual({ snapshots: [], damaged: [] })
    const a = aliceSnapshot()
    const b = bobSnapshot()
    await store.put(a)
    await store.put(b)
    expect(await ds.has(new Key(`/group/stream/${a.key}`))).toBe(true)
    const loaded = await store.load()
    expect(loaded.damaged).toEqual([])
    expect(byKey(loaded.snapshots)).toEqual(byKey([a, b]))
    // A later epoch overwrites the record.
    const later = { ...b, epoch: 5n, log: [{ epoch: 5n, commit: new Uint8Array([1, 2, 3]) }] }
    await store.put(later)
    expect(byKey((await store.load()).snapshots)).toEqual(byKey([a, later]))
    await store.delete(a.key)
    await store.delete(streamKey(CAROL, 'never'))   // deleting nothing is no error
    expect((await store.load()).snapshots).toEqual([later])
    expect(await ds.get(new Key('/kp/alice/1'))).toEqual(text('a KeyPackage'))
  })

  it('keeps its records in a LevelDB data directory across a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabric-group-store-'))
    dirs.push(dir)
    const path = join(dir, 'keypackages')
    const first = new LevelDatastore(path)
    await first.open()
    const a = aliceSnapshot()
    const b = bobSnapshot()
    try {
      const store = new GroupStore(first)
      await store.put(a)
      await store.put(b)
      await store.delete(b.key)
    } finally {
      await first.close()
    }
    const second = new LevelDatastore(path)
    await second.open()
    try {
      const loaded = await new GroupStore(second).load()
      expect(loaded).toEqual({ snapshots: [a], damaged: [] })
      // What was stored restores into a fresh core as the same stream.
      const core = new GroupServiceCore({ inspectCommit: inspectTestCommit })
      expect(core.restore(loaded.snapshots, 0)).toEqual([])
      expect(core.snapshot(S)).toEqual(a)
      expect(core.roster(S)).toMatchObject({ epoch: 2n, members: [ALICE, BOB, CAROL], committer: '', away: [ALICE, BOB, CAROL] })
    } finally {
      await second.close()
    }
  })

  it('reports damaged records in `damaged` and loads the others, without throwing', async () => {
    const ds = new MemoryDatastore()
    const store = new GroupStore(ds)
    const good = aliceSnapshot()
    await store.put(good)
    const record = JSON.parse(encodeSnapshot(bobSnapshot())) as Record<string, unknown>
    const damaged: Array<[string, Uint8Array]> = [
      ['not-json', text('{"v":1,')],
      ['not-utf8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
      ['other-version', text(JSON.stringify({ ...record, v: 2 }))],
      ['no-members', text(JSON.stringify({ ...record, members: 'bob' }))],
      ['bad-member', text(JSON.stringify({ ...record, members: [['bob', '0']] }))],
      ['bad-log-entry', text(JSON.stringify({ ...record, log: [[1, 'AA==']] }))],
      ['bad-epoch', text(JSON.stringify({ ...record, epoch: '-1' }))],
      ['epoch-too-big', text(JSON.stringify({ ...record, epoch: (1n << 64n).toString() }))],
      ['bad-base64', text(JSON.stringify({ ...record, groupId: 'not base64!' }))],
      ['json-null', text('null')],
      ['too-large', text(JSON.stringify({ ...record, pad: 'x'.repeat(MAX_GROUP_RECORD_BYTES) }))],
      // A well-formed record of bob/t stored under another stream's key.
      ['moved', text(encodeSnapshot(bobSnapshot()))],
    ]
    for (const [name, value] of damaged) await ds.put(new Key(`/group/stream/${ALICE}/${name}`), value)
    const loaded = await store.load()
    expect(loaded.snapshots).toEqual([good])
    expect([...loaded.damaged].sort()).toEqual(damaged.map(([name]) => `/group/stream/${ALICE}/${name}`).sort())
  })

  it('decodeSnapshot refuses what is not a version 1 record', () => {
    const ok = encodeSnapshot(bobSnapshot())
    expect(decodeSnapshot(ok)).toEqual(bobSnapshot())
    for (const bad of ['', '[]', '{}', ok.replace('"v":1', '"v":"1"'), ok.replace('"epoch":"0"', '"epoch":0')]) {
      expect(() => decodeSnapshot(bad), bad).toThrow()
    }
  })

  it('property: encodeSnapshot and decodeSnapshot round-trip any snapshot', () => {
    const snapshot: fc.Arbitrary<StreamSnapshot> = fc.record({
      owner: identity,
      name: streamName,
      groupId: bytes(1, 256),
      epoch: u64,
      members: fc.array(fc.record({ identity, leaf: fc.nat({ max: 1 << 20 }) }), { maxLength: 8 }),
      log: fc.array(fc.record({ epoch: u64, commit: bytes(0, 64) }), { maxLength: 6 }),
    }).map(({ owner, name, ...rest }) => ({ key: streamKey(owner, name), owner, ...rest }))
    fc.assert(fc.property(snapshot, (s) => {
      const json = encodeSnapshot(s)
      expect(decodeSnapshot(json)).toEqual(s)
      // The encoding is plain JSON text: it survives a UTF-8 round trip through the datastore.
      expect(new TextDecoder('utf-8', { fatal: true }).decode(text(json))).toBe(json)
    }), { numRuns: 300 })
  })
})
