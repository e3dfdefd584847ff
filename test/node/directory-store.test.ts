import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import fc from 'fast-check'
import { Key } from 'interface-datastore'
import { afterEach, describe, expect, it } from 'vitest'
import { isFabricError } from '../../src/errors.js'
import {
  DEFAULT_MAX_BYTES_PER_IDENTITY, DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY, DEFAULT_MAX_TOTAL_BYTES,
  KeyPackageStore, openKeyPackageStore, type KeyPackageStoreOptions, type KeyPackageToStore,
} from '../../src/node/directory-store.js'
import { MAX_KEY_PACKAGE } from '../../src/wire/limits.js'
import { codeOf } from '../codes.js'

// The store is byte-level (parsing is the service's job), so tagged byte
// strings stand in for KeyPackages here, with a notAfter far ahead unless
// a test is about expiry.
const FAR = 4_000_000_000n // seconds: year 2096
const bytes = (tag: string): Uint8Array => new TextEncoder().encode(`kp:${tag}`)
const kp = (tag: string, notAfter = FAR): KeyPackageToStore => ({ keyPackage: bytes(tag), notAfter })
/** A stand-in of exactly `size` bytes (at least the tag's own length). */
const sized = (tag: string, size: number, notAfter = FAR): KeyPackageToStore => {
  const out = new Uint8Array(size).fill(0x2e)
  out.set(bytes(tag).subarray(0, size))
  return { keyPackage: out, notAfter }
}
const text = (b: Uint8Array | undefined): string | undefined => b === undefined ? undefined : new TextDecoder().decode(b)

const ALICE = 'Alice12D3KooW'
const BOB = 'Bob12D3KooW'

const open: KeyPackageStore[] = []
const dirs: string[] = []

async function memoryStore (options: Omit<KeyPackageStoreOptions, 'onClose'> = {}): Promise<KeyPackageStore> {
  const store = await openKeyPackageStore(options)
  open.push(store)
  return store
}

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fabric-dir-store-'))
  dirs.push(dir)
  return dir
}

/** Bytes of the KeyPackages stored in `ds`, per identity, read from the datastore itself. */
async function storedBytes (ds: MemoryDatastore): Promise<Map<string, { bytes: number, count: number }>> {
  const out = new Map<string, { bytes: number, count: number }>()
  for await (const { key, value } of ds.query({ prefix: '/dir/kp/' })) {
    const id = key.toString().split('/')[3]!
    const held = out.get(id) ?? { bytes: 0, count: 0 }
    out.set(id, { bytes: held.bytes + value.byteLength, count: held.count + 1 })
  }
  return out
}

afterEach(async () => {
  await Promise.all(open.splice(0).map(async s => { await s.close() }))
  await Promise.all(dirs.splice(0).map(async d => { await rm(d, { recursive: true, force: true }) }))
})

describe('KeyPackageStore', () => {
  it('has the documented default bounds', async () => {
    const store = await memoryStore()
    expect([store.maxPerIdentity, store.maxBytesPerIdentity, store.maxTotalBytes]).toEqual([64, 256 * 1024, 64 * 1024 * 1024])
    expect([DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY, DEFAULT_MAX_BYTES_PER_IDENTITY, DEFAULT_MAX_TOTAL_BYTES]).toEqual([64, 262_144, 67_108_864])
    expect(() => new KeyPackageStore(new MemoryDatastore(), { maxPerIdentity: 0 })).toThrow(RangeError)
    expect(() => new KeyPackageStore(new MemoryDatastore(), { maxPerIdentity: 4097 })).toThrow(RangeError)
    expect(() => new KeyPackageStore(new MemoryDatastore(), { maxTotalBytes: 1.5 })).toThrow(RangeError)
  })

  it('hands out queued KeyPackages FIFO, then the last-resort one repeatedly', async () => {
    const store = await memoryStore()
    expect(await store.publish(ALICE, [kp('1'), kp('2')], kp('last'))).toBe(2)
    expect(await store.publish(ALICE, [kp('3')])).toBe(1)
    expect(await store.count(ALICE)).toEqual({ count: 3, hasLastResort: true })

    const got = []
    for (let i = 0; i < 5; i++) {
      const f = await store.fetch(ALICE)
      got.push(`${text(f?.keyPackage)}/${String(f?.lastResort)}`)
    }
    expect(got).toEqual(['kp:1/false', 'kp:2/false', 'kp:3/false', 'kp:last/true', 'kp:last/true'])
    expect(await store.count(ALICE)).toEqual({ count: 0, hasLastResort: true })
    expect(await store.count(BOB)).toEqual({ count: 0, hasLastResort: false })
    expect(await store.fetch(BOB)).toBeUndefined()
  })

  it('replaces the last-resort KeyPackage with a newer publish and keeps it otherwise', async () => {
    const store = await memoryStore()
    await store.publish(ALICE, [], kp('old'))
    await store.publish(ALICE, [kp('1')])
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:1')
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:old')
    await store.publish(ALICE, [], kp('new'))
    expect(await store.fetch(ALICE)).toEqual({ keyPackage: bytes('new'), lastResort: true })
    expect(store.stats()).toMatchObject({ bytes: bytes('new').byteLength, identities: 1, keyPackages: 1 })
  })

  it('replace drops every KeyPackage held for the identity in the same step, and only that identity\'s', async () => {
    const ds = new MemoryDatastore()
    const store = new KeyPackageStore(ds)
    open.push(store)
    await store.publish(ALICE, [kp('1'), kp('2'), kp('3')], kp('last'))
    await store.publish(BOB, [kp('b1')])
    // A new process of alice: what the old one published is dead stock.
    expect(await store.publish(ALICE, [kp('4')], kp('last-2'), undefined, { replace: true })).toBe(1)
    expect(await store.count(ALICE)).toEqual({ count: 1, hasLastResort: true })
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:4')
    expect(await store.fetch(ALICE)).toEqual({ keyPackage: bytes('last-2'), lastResort: true })
    expect(await store.count(BOB)).toEqual({ count: 1, hasLastResort: false })
    // The accounting follows the datastore: only last-2 is left of alice's.
    expect((await storedBytes(ds)).get(ALICE)).toEqual({ bytes: bytes('last-2').byteLength, count: 1 })
    expect(store.stats()).toMatchObject({ bytes: bytes('last-2').byteLength + bytes('b1').byteLength, identities: 2 })
    // Replacing with the very KeyPackage held before is not a duplicate: the old copy is gone first.
    expect(await store.publish(ALICE, [kp('4')], undefined, undefined, { replace: true })).toBe(1)
    expect(await store.count(ALICE)).toEqual({ count: 1, hasLastResort: false })
  })

  it('keeps identities apart', async () => {
    const store = await memoryStore()
    await store.publish(ALICE, [kp('a')])
    await store.publish(BOB, [kp('b')])
    expect(text((await store.fetch(BOB))?.keyPackage)).toBe('kp:b')
    expect(await store.count(ALICE)).toEqual({ count: 1, hasLastResort: false })
    expect(store.stats()).toMatchObject({ identities: 1, keyPackages: 1 })
  })

  it('refuses a publish past the per-identity count bound as a whole (QUOTA_EXCEEDED)', async () => {
    const store = await memoryStore({ maxPerIdentity: 3 })
    await store.publish(ALICE, [kp('1'), kp('2')])
    expect(await codeOf(store.publish(ALICE, [kp('3'), kp('4')], kp('last')))).toBe('QUOTA_EXCEEDED')
    expect(await store.count(ALICE)).toEqual({ count: 2, hasLastResort: false })
    expect(await store.publish(ALICE, [kp('3')])).toBe(1)
    // Consuming frees room again.
    await store.fetch(ALICE)
    expect(await store.publish(ALICE, [kp('4')])).toBe(1)
  })

  it('refuses duplicates by content: twice in one publish, already queued, or already the last-resort one', async () => {
    const store = await memoryStore()
    // The measured attack: one KeyPackage stored 256 times.
    expect(await codeOf(store.publish(ALICE, Array.from({ length: 64 }, () => kp('same'))))).toBe('ALREADY_EXISTS')
    expect(await codeOf(store.publish(ALICE, [kp('x')], kp('x')))).toBe('ALREADY_EXISTS')
    expect(store.stats()).toMatchObject({ bytes: 0, keyPackages: 0, identities: 0 })

    await store.publish(ALICE, [kp('1')], kp('last'))
    const before = store.stats()
    for (let i = 0; i < 16; i++) expect(await codeOf(store.publish(ALICE, [kp('1')]))).toBe('ALREADY_EXISTS')
    // All or nothing: the fresh KeyPackage beside the duplicate is not stored either.
    expect(await codeOf(store.publish(ALICE, [kp('2'), kp('1')]))).toBe('ALREADY_EXISTS')
    expect(await codeOf(store.publish(ALICE, [kp('last')]))).toBe('ALREADY_EXISTS')
    expect(await codeOf(store.publish(ALICE, [kp('3')], kp('1')))).toBe('ALREADY_EXISTS')
    expect(store.stats()).toEqual(before)
    expect(await store.count(ALICE)).toEqual({ count: 1, hasLastResort: true })

    // Giving the held last-resort KeyPackage again changes nothing (a retried publish of it succeeds).
    expect(await store.publish(ALICE, [kp('2')], kp('last'))).toBe(1)
    expect(store.stats().bytes).toBe(before.bytes + bytes('2').byteLength)
    // Another identity may hold the same bytes (it could never publish them in the service: they name ALICE).
    expect(await store.publish(BOB, [kp('1')])).toBe(1)
    // A consumed KeyPackage is no longer held, so it is no duplicate.
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:1')
    expect(await store.publish(ALICE, [kp('1')])).toBe(1)
  })

  it('refuses a publish that would cross the per-identity byte quota, last-resort included, at the boundary', async () => {
    const store = await memoryStore({ maxBytesPerIdentity: 100 })
    expect(await store.publish(ALICE, [sized('1', 40), sized('2', 40)], sized('last', 20))).toBe(2)
    expect(store.stats().bytes).toBe(100)
    const before = store.stats()
    expect(await codeOf(store.publish(ALICE, [sized('3', 10)]))).toBe('QUOTA_EXCEEDED')
    // A bigger last-resort KeyPackage replacing the held one counts with its own size.
    expect(await codeOf(store.publish(ALICE, [], sized('last2', 21)))).toBe('QUOTA_EXCEEDED')
    expect(store.stats()).toEqual(before)
    expect(await store.count(ALICE)).toEqual({ count: 2, hasLastResort: true })
    // Replacing it by one of the same size or smaller fits.
    expect(await store.publish(ALICE, [], sized('last2', 20))).toBe(0)
    expect(store.stats().bytes).toBe(100)
    // Another identity has a quota of its own.
    expect(await store.publish(BOB, [sized('b', 100)])).toBe(1)
    expect(await codeOf(store.publish(BOB, [sized('c', 101)]))).toBe('QUOTA_EXCEEDED')
    // Consuming frees the identity's room.
    await store.fetch(ALICE)
    expect(await store.publish(ALICE, [sized('3', 40)])).toBe(1)
  })

  it('refuses a publish that would cross the global byte quota at the boundary, storing nothing', async () => {
    const store = await memoryStore({ maxBytesPerIdentity: 60, maxTotalBytes: 100 })
    await store.publish(ALICE, [sized('a1', 30), sized('a2', 30)])
    await store.publish(BOB, [sized('b1', 30)])
    expect(await codeOf(store.publish(BOB, [sized('b2', 11)]))).toBe('QUOTA_EXCEEDED')
    expect(await codeOf(store.publish(BOB, [], sized('b3', 11)))).toBe('QUOTA_EXCEEDED')
    expect(store.stats()).toMatchObject({ bytes: 90, keyPackages: 3 })
    expect(await store.count(BOB)).toEqual({ count: 1, hasLastResort: false })
    expect(await store.publish(BOB, [sized('b2', 10)])).toBe(1)
    expect(store.stats().bytes).toBe(100)
    expect(await codeOf(store.publish('Carol12D3KooW', [sized('c', 1)]))).toBe('QUOTA_EXCEEDED')
    expect(store.stats().identities).toBe(2)
  })

  it('keeps a flood of 8 identities under the global quota, each stopped by its own, and a ninth can still publish', async () => {
    const store = await memoryStore()
    const size = 8192
    const flooders = Array.from({ length: 8 }, (_, i) => `Flood${i}12D3KooW`)
    let refusals = 0
    await Promise.all(flooders.map(async (id) => {
      // Bounded: 256 KiB / 8 KiB = 32 KeyPackages fit, so the 3rd batch of 16 crosses the identity's byte quota.
      for (let batch = 0; batch < 6; batch++) {
        const kps = Array.from({ length: 16 }, (_, j) => sized(`${id}-${batch}-${j}`, size))
        const code = await codeOf(store.publish(id, kps))
        if (code === 'QUOTA_EXCEEDED') refusals++
        else expect(code).toBe('resolved')
      }
    }))
    expect(refusals).toBe(8 * 4)
    for (const id of flooders) expect(await store.count(id)).toEqual({ count: 32, hasLastResort: false })
    expect(store.stats().bytes).toBe(8 * 32 * size)
    expect(store.stats().bytes).toBeLessThanOrEqual(DEFAULT_MAX_BYTES_PER_IDENTITY * 8)
    expect(store.stats().bytes).toBeLessThan(store.maxTotalBytes)
    expect(await store.publish(ALICE, [kp('healthy')], kp('healthy-last'))).toBe(1)

    // With a global quota the flooders can fill, the others get a clear QUOTA_EXCEEDED, not a silent loss.
    const tight = await memoryStore({ maxBytesPerIdentity: 4 * size, maxTotalBytes: 8 * size })
    for (const id of flooders.slice(0, 2)) expect(await tight.publish(id, Array.from({ length: 4 }, (_, j) => sized(`${id}-${j}`, size)))).toBe(4)
    const err = await tight.publish(ALICE, [kp('healthy')]).catch((e: unknown) => e)
    expect(isFabricError(err, 'QUOTA_EXCEEDED')).toBe(true)
    expect((err as Error).message).toMatch(/directory holds/)
  })

  it('never hands out or counts expired KeyPackages, deletes them on fetch and purges the rest', async () => {
    let nowMs = 1_000_000_000
    const store = await memoryStore({ now: () => nowMs })
    const t = BigInt(nowMs / 1000)
    await store.publish(ALICE, [kp('short', t + 10n), kp('long', t + 100n)], kp('last', t + 50n))
    await store.publish(BOB, [kp('b', t + 10n)], kp('b-last', t + 10n))
    expect(await codeOf(store.publish(ALICE, [kp('stale', t - 1n)]))).toBe('MALFORMED')

    nowMs += 10_000 // notAfter is inclusive: still valid at t + 10
    expect(await store.count(BOB)).toEqual({ count: 1, hasLastResort: true })
    nowMs += 1000
    expect(await store.count(ALICE)).toEqual({ count: 1, hasLastResort: true })
    expect(await store.count(BOB)).toEqual({ count: 0, hasLastResort: false })
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:long')
    expect(store.stats().expiredPurged).toBe(1)

    nowMs += 40_000 // t + 51: ALICE's last-resort KeyPackage expired too
    expect(await store.fetch(ALICE)).toBeUndefined()
    expect(store.stats()).toMatchObject({ expiredPurged: 2, identities: 1 })
    expect(await store.purgeExpired()).toBe(2)
    expect(store.stats()).toEqual({ bytes: 0, identities: 0, keyPackages: 0, expiredPurged: 4 })
    expect(await store.purgeExpired()).toBe(0)
  })

  it('frees the quota an expired KeyPackage held at the next publish', async () => {
    let nowMs = 1_000_000_000
    const t = BigInt(nowMs / 1000)
    const store = await memoryStore({ maxBytesPerIdentity: 50, now: () => nowMs })
    await store.publish(ALICE, [sized('old', 50, t + 1n)])
    expect(await codeOf(store.publish(ALICE, [sized('new', 50)]))).toBe('QUOTA_EXCEEDED')
    nowMs += 2000
    expect(await store.publish(ALICE, [sized('new', 50)])).toBe(1)
    expect(store.stats()).toMatchObject({ bytes: 50, keyPackages: 1, expiredPurged: 1 })
  })

  it('checks identities, sizes and lifetimes before touching the datastore', async () => {
    const store = await memoryStore()
    await expect(store.publish('', [kp('1')])).rejects.toMatchObject({ code: 'MALFORMED' })
    await expect(store.fetch('a/b')).rejects.toMatchObject({ code: 'MALFORMED' })
    await expect(store.count('x'.repeat(200))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    await expect(store.publish(ALICE, [{ keyPackage: new Uint8Array(0), notAfter: FAR }])).rejects.toMatchObject({ code: 'MALFORMED' })
    await expect(store.publish(ALICE, [kp('1'), { keyPackage: new Uint8Array(MAX_KEY_PACKAGE + 1), notAfter: FAR }])).rejects.toMatchObject({ code: 'TOO_LARGE' })
    await expect(store.publish(ALICE, [kp('1', 1n << 64n)])).rejects.toMatchObject({ code: 'MALFORMED' })
    expect(await store.count(ALICE)).toEqual({ count: 0, hasLastResort: false })
  })

  it('stores copies, so later changes to the caller\'s buffers do not leak in', async () => {
    const store = await memoryStore()
    const b = bytes('1')
    await store.publish(ALICE, [{ keyPackage: b, notAfter: FAR }])
    b.fill(0)
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:1')
    const l = bytes('l')
    await store.publish(ALICE, [], { keyPackage: l, notAfter: FAR })
    l.fill(0)
    const last = await store.fetch(ALICE)
    last?.keyPackage.fill(0)
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:l')
  })

  it('never hands the same KeyPackage to two concurrent fetches', async () => {
    const store = await memoryStore()
    const n = 50
    await store.publish(ALICE, Array.from({ length: 25 }, (_, i) => kp(String(i))))
    await store.publish(ALICE, Array.from({ length: 25 }, (_, i) => kp(String(25 + i))))
    const results = await Promise.all(Array.from({ length: n + 10 }, async () => await store.fetch(ALICE)))
    const handed = results.filter(r => r !== undefined).map(r => text(r.keyPackage))
    expect(handed).toHaveLength(n)
    expect(new Set(handed).size).toBe(n)
    expect(results.filter(r => r === undefined)).toHaveLength(10)
  })

  it('keeps concurrent publishes of many identities within the global quota', async () => {
    const store = await memoryStore({ maxBytesPerIdentity: 100, maxTotalBytes: 1000 })
    const codes = await Promise.all(Array.from({ length: 30 }, async (_, i) =>
      await codeOf(store.publish(`Id${i}x`, [sized(`${i}`, 100)]))))
    expect(codes.filter(c => c === 'resolved')).toHaveLength(10)
    expect(codes.filter(c => c === 'QUOTA_EXCEEDED')).toHaveLength(20)
    expect(store.stats()).toMatchObject({ bytes: 1000, identities: 10 })
  })

  it('serves what it stored after being closed and reopened on the same data directory', async () => {
    const dataDir = await tempDir()
    const first = await openKeyPackageStore({ dataDir })
    await first.publish(ALICE, [kp('1'), kp('2'), kp('3')], kp('last'))
    await first.publish(BOB, [kp('b')])
    expect(text((await first.fetch(ALICE))?.keyPackage)).toBe('kp:1')
    await first.close()
    await expect(first.fetch(ALICE)).rejects.toMatchObject({ code: 'INVALID_STATE' })

    const second = await openKeyPackageStore({ dataDir })
    open.push(second)
    expect(await second.count(ALICE)).toEqual({ count: 2, hasLastResort: true })
    expect(text((await second.fetch(ALICE))?.keyPackage)).toBe('kp:2')
    expect(text((await second.fetch(ALICE))?.keyPackage)).toBe('kp:3')
    expect(await second.fetch(ALICE)).toEqual({ keyPackage: bytes('last'), lastResort: true })
    expect(text((await second.fetch(BOB))?.keyPackage)).toBe('kp:b')
    expect(await second.fetch(BOB)).toBeUndefined()
    // Duplicates are still known after the restart.
    expect(await codeOf(second.publish(ALICE, [kp('last')]))).toBe('ALREADY_EXISTS')
  })

  it('keeps its byte accounting, and so its quotas, across a reopen of a LevelDB data directory', async () => {
    const dataDir = await tempDir()
    let nowMs = 1_000_000_000
    const t = BigInt(nowMs / 1000)
    const options = { dataDir, maxBytesPerIdentity: 100, maxTotalBytes: 150, now: () => nowMs }
    const first = await openKeyPackageStore(options)
    await first.publish(ALICE, [sized('a1', 40), sized('a2', 40, t + 5n)], sized('al', 20))
    await first.publish(BOB, [sized('b1', 30)])
    await first.fetch(ALICE)
    const before = first.stats()
    expect(before).toMatchObject({ bytes: 90, identities: 2, keyPackages: 3 })
    await first.close()

    const second = await openKeyPackageStore(options)
    open.push(second)
    expect(second.stats()).toEqual({ ...before, expiredPurged: 0 })
    // The global quota counts what the first run stored: 90 + 61 > 150.
    expect(await codeOf(second.publish(BOB, [sized('b2', 61)]))).toBe('QUOTA_EXCEEDED')
    expect(await second.publish(BOB, [sized('b2', 60)])).toBe(1)
    // And so does the identity's: 60 + 41 > 100.
    expect(await codeOf(second.publish(ALICE, [sized('a3', 41)]))).toBe('QUOTA_EXCEEDED')
    // Expiry survives too: a2's notAfter was stored.
    nowMs += 6000
    expect(await second.purgeExpired()).toBe(1)
    expect(second.stats()).toMatchObject({ bytes: 110, keyPackages: 3, expiredPurged: 1 })
  })

  it('deletes data of the layout before byte accounting when it opens', async () => {
    const dataDir = await tempDir()
    const level = new LevelDatastore(join(dataDir, 'keypackages'))
    await level.open()
    const batch = level.batch()
    for (let i = 0; i < 1500; i++) batch.put(new Key(`/kp/Old${i}x/q/${i.toString(16).padStart(16, '0')}`), bytes(String(i)))
    batch.put(new Key('/kp/Old0x/meta'), new Uint8Array(16))
    await batch.commit()
    await level.close()

    const store = await openKeyPackageStore({ dataDir })
    open.push(store)
    expect(store.stats()).toMatchObject({ bytes: 0, identities: 0 })
    expect(await store.fetch('Old0x')).toBeUndefined()
    await store.publish(ALICE, [kp('1')])
    await store.close()
    const check = new LevelDatastore(join(dataDir, 'keypackages'))
    await check.open()
    const left = []
    for await (const key of check.queryKeys({ prefix: '/kp/' })) left.push(key)
    await check.close()
    expect(left).toHaveLength(0)
  })

  it('serialises concurrent fetches on LevelDB too, and close waits for them', async () => {
    const dataDir = await tempDir()
    const store = await openKeyPackageStore({ dataDir })
    await store.publish(ALICE, Array.from({ length: 20 }, (_, i) => kp(String(i))))
    const fetches = Array.from({ length: 20 }, async () => await store.fetch(ALICE))
    const closed = store.close()
    const handed = (await Promise.all(fetches)).map(r => text(r?.keyPackage))
    await closed
    expect(new Set(handed).size).toBe(20)
    expect(handed).not.toContain(undefined)

    const reopened = await openKeyPackageStore({ dataDir })
    open.push(reopened)
    expect(await reopened.count(ALICE)).toEqual({ count: 0, hasLastResort: false })
    expect(reopened.stats()).toMatchObject({ bytes: 0, identities: 0, keyPackages: 0 })
  })
})

// A model of the store: per identity the queue and the last-resort
// KeyPackage, expired ones included until the store would delete them.
interface ModelKp { tag: string, size: number, notAfter: bigint }
interface ModelIdentity { queue: ModelKp[], lastResort: ModelKp | undefined }

type Op =
  | { kind: 'publish', who: number, items: Array<{ dup: number | undefined, size: number, ttl: number }>, last: { dup: number | undefined, size: number, ttl: number } | undefined }
  | { kind: 'fetch', who: number }
  | { kind: 'count', who: number }
  | { kind: 'advance', seconds: number }
  | { kind: 'purge' }

const IDS = ['Id0a', 'Id1b', 'Id2c']
const LIMITS = { maxPerIdentity: 4, maxBytesPerIdentity: 120, maxTotalBytes: 260 }

const itemArb = fc.record({
  // Now and then a KeyPackage published before (held, consumed or refused), else a fresh one.
  dup: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(40) }),
  size: fc.integer({ min: 8, max: 60 }),
  // Negative: already expired when published (refused MALFORMED).
  ttl: fc.integer({ min: -2, max: 30 }),
})
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('publish' as const), who: fc.nat(IDS.length - 1), items: fc.array(itemArb, { maxLength: 3 }), last: fc.option(itemArb, { nil: undefined }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fetch' as const), who: fc.nat(IDS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('count' as const), who: fc.nat(IDS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('purge' as const) }) },
)

describe('KeyPackageStore property', () => {
  it('never exceeds its quotas, never hands out an expired or already handed-out KeyPackage, and counts exactly the bytes stored', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
      let nowMs = 1_700_000_000_000
      const seconds = (): bigint => BigInt(Math.floor(nowMs / 1000))
      const ds = new MemoryDatastore()
      const store = new KeyPackageStore(ds, { ...LIMITS, now: () => nowMs })
      const model = IDS.map((): ModelIdentity => ({ queue: [], lastResort: undefined }))
      const made: ModelKp[] = []
      // Successful publications not yet handed out, per tag: a one-use hand-out must take one.
      const outstanding = new Map<string, number>()
      const bytesOfKp = (k: ModelKp): Uint8Array => sized(k.tag, k.size).keyPackage
      const bytesOf = (m: ModelIdentity): number => m.queue.reduce((n, k) => n + k.size, m.lastResort?.size ?? 0)
      const total = (): number => model.reduce((n, m) => n + bytesOf(m), 0)
      const live = (k: ModelKp): boolean => k.notAfter >= seconds()
      const purged = (m: ModelIdentity): ModelIdentity => ({
        queue: m.queue.filter(live),
        lastResort: m.lastResort !== undefined && live(m.lastResort) ? m.lastResort : undefined,
      })
      const pick = (item: { dup: number | undefined, size: number, ttl: number }): ModelKp => {
        if (item.dup !== undefined && made.length > 0) return made[item.dup % made.length]!
        const k = { tag: `t${made.length}`, size: item.size, notAfter: seconds() + BigInt(item.ttl) }
        made.push(k)
        return k
      }
      try {
        for (const op of ops) {
          if (op.kind === 'advance') {
            nowMs += op.seconds * 1000
          } else if (op.kind === 'purge') {
            await store.purgeExpired()
            for (let i = 0; i < model.length; i++) model[i] = purged(model[i]!)
          } else if (op.kind === 'count') {
            const m = model[op.who]!
            expect(await store.count(IDS[op.who]!)).toEqual({
              count: m.queue.filter(live).length, hasLastResort: m.lastResort !== undefined && live(m.lastResort),
            })
          } else if (op.kind === 'fetch') {
            const got = await store.fetch(IDS[op.who]!)
            const m = purged(model[op.who]!)
            const first = m.queue.shift()
            const expected = first ?? m.lastResort
            model[op.who] = m
            if (expected === undefined) {
              expect(got).toBeUndefined()
            } else {
              expect(got).toEqual({ keyPackage: bytesOfKp(expected), lastResort: first === undefined })
              expect(expected.notAfter).toBeGreaterThanOrEqual(seconds())
              if (first !== undefined) {
                const left = outstanding.get(first.tag) ?? 0
                expect(left).toBeGreaterThan(0)
                outstanding.set(first.tag, left - 1)
              }
            }
          } else {
            const items = op.items.map(pick)
            const last = op.last === undefined ? undefined : pick(op.last)
            const all = last === undefined ? items : [...items, last]
            const before = model[op.who]!
            const kept = purged(before)
            const heldTags = new Set(kept.queue.map(k => k.tag))
            let expected = 'resolved'
            const next: ModelIdentity = { queue: [...kept.queue, ...items], lastResort: last ?? kept.lastResort }
            if (all.some(k => !live(k))) expected = 'MALFORMED'
            else if (new Set(all.map(k => k.tag)).size !== all.length) expected = 'ALREADY_EXISTS'
            else if (items.some(k => heldTags.has(k.tag) || k.tag === kept.lastResort?.tag) || (last !== undefined && heldTags.has(last.tag))) expected = 'ALREADY_EXISTS'
            else if (next.queue.length > LIMITS.maxPerIdentity || bytesOf(next) > LIMITS.maxBytesPerIdentity) expected = 'QUOTA_EXCEEDED'
            else if (bytesOf(next) > bytesOf(before) && total() - bytesOf(before) + bytesOf(next) > LIMITS.maxTotalBytes) expected = 'QUOTA_EXCEEDED'
            const code = await codeOf(store.publish(IDS[op.who]!, items.map(k => ({ keyPackage: bytesOfKp(k), notAfter: k.notAfter })),
              last === undefined ? undefined : { keyPackage: bytesOfKp(last), notAfter: last.notAfter }))
            expect(code).toBe(expected)
            if (code === 'resolved') {
              model[op.who] = next
              for (const k of items) outstanding.set(k.tag, (outstanding.get(k.tag) ?? 0) + 1)
            }
          }

          // The byte counter is what the datastore holds, and it is within every quota.
          const stored = await storedBytes(ds)
          const sum = [...stored.values()].reduce((n, h) => n + h.bytes, 0)
          const stats = store.stats()
          expect(stats.bytes).toBe(sum)
          expect(stats.bytes).toBe(total())
          expect(stats.keyPackages).toBe([...stored.values()].reduce((n, h) => n + h.count, 0))
          expect(stats.identities).toBe(stored.size)
          expect(sum).toBeLessThanOrEqual(LIMITS.maxTotalBytes)
          for (const h of stored.values()) expect(h.bytes).toBeLessThanOrEqual(LIMITS.maxBytesPerIdentity)
        }
      } finally {
        await store.close()
      }
    }), { numRuns: 150 })
  })
})
