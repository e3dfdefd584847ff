import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isFabricError } from '../../src/errors.js'
import { openKeyPackageStore, type KeyPackageStore } from '../../src/node/directory-store.js'
import { MAX_KEY_PACKAGE } from '../../src/wire/limits.js'

// The store is byte-level (parsing is the service's job), so tagged byte
// strings stand in for KeyPackages here.
const kp = (tag: string): Uint8Array => new TextEncoder().encode(`kp:${tag}`)
const text = (bytes: Uint8Array | undefined): string | undefined => bytes === undefined ? undefined : new TextDecoder().decode(bytes)

const ALICE = 'Alice12D3KooW'
const BOB = 'Bob12D3KooW'

const open: KeyPackageStore[] = []
const dirs: string[] = []

async function memoryStore (maxPerIdentity?: number): Promise<KeyPackageStore> {
  const store = await openKeyPackageStore({ maxPerIdentity })
  open.push(store)
  return store
}

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fabric-dir-store-'))
  dirs.push(dir)
  return dir
}

afterEach(async () => {
  await Promise.all(open.splice(0).map(async s => { await s.close() }))
  await Promise.all(dirs.splice(0).map(async d => { await rm(d, { recursive: true, force: true }) }))
})

describe('KeyPackageStore', () => {
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
    expect(await store.fetch(ALICE)).toEqual({ keyPackage: kp('new'), lastResort: true })
  })

  it('keeps identities apart', async () => {
    const store = await memoryStore()
    await store.publish(ALICE, [kp('a')])
    await store.publish(BOB, [kp('b')])
    expect(text((await store.fetch(BOB))?.keyPackage)).toBe('kp:b')
    expect(await store.count(ALICE)).toEqual({ count: 1, hasLastResort: false })
  })

  it('refuses a publish past the per-identity bound as a whole', async () => {
    const store = await memoryStore(3)
    await store.publish(ALICE, [kp('1'), kp('2')])
    const err = await store.publish(ALICE, [kp('3'), kp('4')], kp('last')).catch((e: unknown) => e)
    expect(isFabricError(err, 'TOO_LARGE')).toBe(true)
    expect(await store.count(ALICE)).toEqual({ count: 2, hasLastResort: false })
    expect(await store.publish(ALICE, [kp('3')])).toBe(1)
    // Consuming frees room again.
    await store.fetch(ALICE)
    expect(await store.publish(ALICE, [kp('4')])).toBe(1)
  })

  it('checks identities and sizes before touching the datastore', async () => {
    const store = await memoryStore()
    await expect(store.publish('', [kp('1')])).rejects.toMatchObject({ code: 'MALFORMED' })
    await expect(store.fetch('a/b')).rejects.toMatchObject({ code: 'MALFORMED' })
    await expect(store.count('x'.repeat(200))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    await expect(store.publish(ALICE, [new Uint8Array(0)])).rejects.toMatchObject({ code: 'MALFORMED' })
    await expect(store.publish(ALICE, [kp('1'), new Uint8Array(MAX_KEY_PACKAGE + 1)])).rejects.toMatchObject({ code: 'TOO_LARGE' })
    expect(await store.count(ALICE)).toEqual({ count: 0, hasLastResort: false })
  })

  it('stores copies, so later changes to the caller\'s buffers do not leak in', async () => {
    const store = await memoryStore()
    const bytes = kp('1')
    await store.publish(ALICE, [bytes], bytes)
    bytes.fill(0)
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:1')
    const last = await store.fetch(ALICE)
    last?.keyPackage.fill(0)
    expect(text((await store.fetch(ALICE))?.keyPackage)).toBe('kp:1')
  })

  it('never hands the same KeyPackage to two concurrent fetches', async () => {
    const store = await memoryStore()
    const n = 50
    await store.publish(ALICE, Array.from({ length: n }, (_, i) => kp(String(i))))
    const results = await Promise.all(Array.from({ length: n + 10 }, async () => await store.fetch(ALICE)))
    const handed = results.filter(r => r !== undefined).map(r => text(r.keyPackage))
    expect(handed).toHaveLength(n)
    expect(new Set(handed).size).toBe(n)
    expect(results.filter(r => r === undefined)).toHaveLength(10)
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
    expect(await second.fetch(ALICE)).toEqual({ keyPackage: kp('last'), lastResort: true })
    expect(text((await second.fetch(BOB))?.keyPackage)).toBe('kp:b')
    expect(await second.fetch(BOB)).toBeUndefined()
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
  })
})
