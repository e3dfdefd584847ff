import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { countKeyPackages, fetchKeyPackage, publishKeyPackages } from '../../src/client/directory-client.js'
import { FramedStream } from '../../src/dispatch/framed-stream.js'
import { isFabricError, type ErrorCode } from '../../src/errors.js'
import { openKeyPackageStore, type KeyPackageStore } from '../../src/node/directory-store.js'
import { DIRECTORY_PROTOCOL, registerDirectoryService, type DirectoryService } from '../../src/node/directory-service.js'
import { createHost } from '../../src/node/host.js'
import { generateKeyPackages } from '../../src/session/key-package.js'
import { encodeFrame } from '../../src/wire/framing.js'
import { MAX_CONTROL_FRAME, MAX_KEY_PACKAGE } from '../../src/wire/limits.js'
import { decodeDirectoryResponse } from '../../src/wire/messages.js'
import { DirectoryRequest, type DirectoryResponse } from '../../src/wire/pb/directory.js'
import { hex } from '../crypto/helpers.js'


/** `count` fresh KeyPackages of `host`'s identity, plus a last-resort one. */
async function keyPackagesOf (host: Libp2p, count: number, nowMs = Date.now()): Promise<{ kps: Uint8Array[], last: Uint8Array }> {
  const made = await generateKeyPackages(host.peerId.toString(), { nowMs, count, lastResort: true })
  return { kps: made.keyPackages.map(b => b.keyPackage), last: made.lastResort!.keyPackage }
}

/** Resolves to the code of the FabricError `p` rejects with. */
async function codeOf (p: Promise<unknown>): Promise<ErrorCode | 'resolved' | 'other'> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return isFabricError(err) ? err.code : 'other'
  }
}

/** Opens a raw directory stream from `from` and writes `bytes` on it as they are. */
async function rawStream (from: Libp2p, to: Multiaddr, bytes?: Uint8Array): Promise<{ stream: Stream, framed: FramedStream }> {
  const stream = await from.dialProtocol(to, DIRECTORY_PROTOCOL)
  const framed = new FramedStream(stream, MAX_CONTROL_FRAME)
  if (bytes !== undefined) stream.send(bytes)
  return { stream, framed }
}

async function rawResponse (framed: FramedStream): Promise<DirectoryResponse> {
  return decodeDirectoryResponse(await framed.next(5_000))
}

describe('directory service over libp2p', () => {
  let node: Libp2p
  let alice: Libp2p
  let bob: Libp2p
  let carol: Libp2p
  let store: KeyPackageStore
  let service: DirectoryService
  let addr: Multiaddr

  beforeAll(async () => {
    [node, alice, bob, carol] = await Promise.all([
      createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] }),
      createHost({ listen: [] }),
      createHost({ listen: [] }),
      createHost({ listen: [] }),
    ])
    store = await openKeyPackageStore()
    service = await registerDirectoryService(node, store, { readTimeoutMs: 500 })
    addr = node.getMultiaddrs()[0]!
  })

  afterAll(async () => {
    await service?.unregister()
    await Promise.all([node, alice, bob, carol].map(async h => { await h?.stop() }))
    await store?.close()
  })

  it('publishes, counts, fetches FIFO, then hands out the last-resort KeyPackage repeatedly', async () => {
    const { kps, last } = await keyPackagesOf(alice, 3)
    const identity = alice.peerId.toString()
    expect(await publishKeyPackages(alice, addr, kps, last)).toBe(3)
    expect(await countKeyPackages(bob, addr, identity)).toEqual({ count: 3, hasLastResort: true })

    for (const expected of kps) {
      const got = await fetchKeyPackage(bob, addr, identity)
      expect(got.lastResort).toBe(false)
      expect(hex(got.keyPackage)).toBe(hex(expected))
    }
    for (let i = 0; i < 2; i++) {
      const got = await fetchKeyPackage(bob, addr, identity)
      expect(got.lastResort).toBe(true)
      expect(hex(got.keyPackage)).toBe(hex(last))
    }
    expect(await countKeyPackages(bob, addr, identity)).toEqual({ count: 0, hasLastResort: true })
    expect(service.counters.fetched).toBeGreaterThanOrEqual(3)
    expect(service.counters.fetchedLastResort).toBeGreaterThanOrEqual(2)
  })

  it('answers NO_KEY_PACKAGE for an identity with nothing stored', async () => {
    expect(await codeOf(fetchKeyPackage(alice, addr, carol.peerId.toString()))).toBe('NO_KEY_PACKAGE')
    expect(await countKeyPackages(alice, addr, carol.peerId.toString())).toEqual({ count: 0, hasLastResort: false })
  })

  it('refuses a publish holding someone else\'s KeyPackage and stores none of it', async () => {
    const own = await keyPackagesOf(carol, 2)
    const other = await keyPackagesOf(bob, 1)
    const before = service.counters.refused.IDENTITY_MISMATCH ?? 0

    expect(await codeOf(publishKeyPackages(carol, addr, [...own.kps, ...other.kps], own.last))).toBe('IDENTITY_MISMATCH')
    expect(await codeOf(publishKeyPackages(carol, addr, own.kps, other.last))).toBe('IDENTITY_MISMATCH')
    // Publishing only bob's KeyPackages from carol's connection plants nothing for bob either.
    expect(await codeOf(publishKeyPackages(carol, addr, other.kps))).toBe('IDENTITY_MISMATCH')

    expect(await countKeyPackages(alice, addr, carol.peerId.toString())).toEqual({ count: 0, hasLastResort: false })
    expect(await countKeyPackages(alice, addr, bob.peerId.toString())).toEqual({ count: 0, hasLastResort: false })
    expect(service.counters.refused.IDENTITY_MISMATCH).toBe(before + 3)
  })

  it('refuses garbage and expired KeyPackages as MALFORMED', async () => {
    const { kps } = await keyPackagesOf(carol, 1)
    const garbage = new Uint8Array(200).fill(0x5a)
    expect(await codeOf(publishKeyPackages(carol, addr, [kps[0]!, garbage]))).toBe('MALFORMED')

    const sixtyDaysAgo = Date.now() - 60 * 24 * 3600 * 1000
    const expired = await keyPackagesOf(carol, 1, sixtyDaysAgo)
    expect(await codeOf(publishKeyPackages(carol, addr, expired.kps))).toBe('MALFORMED')

    const tampered = Uint8Array.from(kps[0]!)
    tampered[tampered.length - 5]! ^= 0x01
    expect(await codeOf(publishKeyPackages(carol, addr, [tampered]))).toBe('MALFORMED')

    expect(await countKeyPackages(alice, addr, carol.peerId.toString())).toEqual({ count: 0, hasLastResort: false })
  })

  it('answers oversize KeyPackages and frames with TOO_LARGE', async () => {
    // The client's encoder refuses it before sending, so speak raw protobuf.
    const big = DirectoryRequest.encode({ version: 1, publish: { keyPackages: [new Uint8Array(MAX_KEY_PACKAGE + 1)], lastResort: new Uint8Array(0) } })
    const a = await rawStream(carol, addr, encodeFrame(big))
    expect((await rawResponse(a.framed)).error?.code).toBe('TOO_LARGE')

    // A length prefix announcing 3 MiB: refused before any of it is buffered.
    const b = await rawStream(carol, addr, Uint8Array.of(0x80, 0x80, 0xc0, 0x01))
    expect((await rawResponse(b.framed)).error?.code).toBe('TOO_LARGE')

    await expect(publishKeyPackages(carol, addr, [new Uint8Array(MAX_KEY_PACKAGE + 1)])).rejects.toMatchObject({ code: 'TOO_LARGE' })
  })

  it('answers other bad requests with their codes', async () => {
    const cases: Array<[Uint8Array, ErrorCode]> = [
      [encodeFrame(Uint8Array.of(0xff, 0xff, 0xff)), 'MALFORMED'],
      [encodeFrame(DirectoryRequest.encode({ version: 1 })), 'MALFORMED'],
      [encodeFrame(DirectoryRequest.encode({ version: 2, count: { identity: 'abc' } })), 'UNSUPPORTED_VERSION'],
      [encodeFrame(DirectoryRequest.encode({ version: 1, fetch: { identity: 'not/a/peer' } })), 'MALFORMED'],
      [Uint8Array.of(0x85, 0x00), 'MALFORMED'], // non-minimal length prefix
    ]
    for (const [bytes, code] of cases) {
      const { framed } = await rawStream(carol, addr, bytes)
      expect((await rawResponse(framed)).error?.code).toBe(code)
    }
  })

  it('answers TIMEOUT to a stream that never sends a whole request', async () => {
    const { framed } = await rawStream(carol, addr, Uint8Array.of(10, 1, 2))
    expect((await rawResponse(framed)).error?.code).toBe('TIMEOUT')
  })

  it('keeps serving good clients while a raw stream breaks framing or stalls', async () => {
    const { kps, last } = await keyPackagesOf(bob, 4)
    const identity = bob.peerId.toString()
    // Opened first and left hanging on the same connection as the good calls.
    const stalled = await rawStream(bob, addr, Uint8Array.of(40, 1))
    const broken = await rawStream(bob, addr, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff))
    const [accepted, brokenResponse] = await Promise.all([
      publishKeyPackages(bob, addr, kps, last),
      rawResponse(broken.framed),
    ])
    expect(brokenResponse.error?.code).toBe('MALFORMED')
    expect(accepted).toBe(4)
    expect(await countKeyPackages(alice, addr, identity)).toEqual({ count: 4, hasLastResort: true })
    expect(hex((await fetchKeyPackage(alice, addr, identity)).keyPackage)).toBe(hex(kps[0]!))
    expect((await rawResponse(stalled.framed)).error?.code).toBe('TIMEOUT')
    // Drain the rest so later tests see bob empty.
    for (let i = 1; i < 4; i++) await fetchKeyPackage(alice, addr, identity)
  })

  it('never hands the same KeyPackage to two concurrent fetches', async () => {
    const n = 24
    const { kps } = await keyPackagesOf(alice, n)
    const identity = alice.peerId.toString()
    // alice's last-resort KeyPackage from the first test is still held.
    expect(await publishKeyPackages(alice, addr, kps)).toBe(n)
    const fetchers = [bob, carol]
    const results = await Promise.all(Array.from({ length: n }, async (_, i) =>
      await fetchKeyPackage(fetchers[i % 2]!, addr, identity)))
    const handed = results.map(r => hex(r.keyPackage))
    expect(results.every(r => !r.lastResort)).toBe(true)
    expect(new Set(handed).size).toBe(n)
    expect(new Set(handed)).toEqual(new Set(kps.map(hex)))
    expect((await fetchKeyPackage(bob, addr, identity)).lastResort).toBe(true)
  })
})

describe('directory service on a persistent store', () => {
  const hosts: Libp2p[] = []
  let dataDir: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fabric-dir-service-'))
  })

  afterEach(async () => {
    await Promise.all(hosts.splice(0).map(async h => { await h.stop() }))
  })

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('serves KeyPackages published before a node restart', async () => {
    const member = await createHost({ listen: [] })
    hosts.push(member)
    const identity = member.peerId.toString()
    const { kps, last } = await keyPackagesOf(member, 3)

    const first = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    hosts.push(first)
    const firstStore = await openKeyPackageStore({ dataDir })
    const firstService = await registerDirectoryService(first, firstStore)
    expect(await publishKeyPackages(member, first.getMultiaddrs()[0]!, kps, last)).toBe(3)
    expect(hex((await fetchKeyPackage(member, first.getMultiaddrs()[0]!, identity)).keyPackage)).toBe(hex(kps[0]!))
    await firstService.unregister()
    await first.stop()
    await firstStore.close()

    const second = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    hosts.push(second)
    const secondStore = await openKeyPackageStore({ dataDir })
    const secondService = await registerDirectoryService(second, secondStore)
    try {
      const to = second.getMultiaddrs()[0]!
      expect(await countKeyPackages(member, to, identity)).toEqual({ count: 2, hasLastResort: true })
      expect(hex((await fetchKeyPackage(member, to, identity)).keyPackage)).toBe(hex(kps[1]!))
      expect(hex((await fetchKeyPackage(member, to, identity)).keyPackage)).toBe(hex(kps[2]!))
      expect(await fetchKeyPackage(member, to, identity)).toEqual({ keyPackage: last, lastResort: true })
    } finally {
      await secondService.unregister()
      await secondStore.close()
    }
  })

  it('unregister resets a stalled stream at once instead of waiting for its read timeout', async () => {
    const node = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const member = await createHost({ listen: [] })
    hosts.push(node, member)
    const store = await openKeyPackageStore()
    const service = await registerDirectoryService(node, store, { readTimeoutMs: 60_000 })
    const { framed } = await rawStream(member, node.getMultiaddrs()[0]!, Uint8Array.of(40))
    const reading = codeOf(framed.next(10_000))
    await new Promise(resolve => setTimeout(resolve, 100))
    await service.unregister()
    await store.close()
    // Had unregister waited for the service's 60 s read timeout, this read's own 10 s deadline would end it in TIMEOUT.
    expect(await reading).not.toBe('TIMEOUT')
    await expect(publishKeyPackages(member, node.getMultiaddrs()[0]!, (await keyPackagesOf(member, 1)).kps)).rejects.toThrow()
  })

  it('answers TOO_LARGE once an identity holds its bound, storing none of the excess', async () => {
    const node = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const member = await createHost({ listen: [] })
    hosts.push(node, member)
    const store = await openKeyPackageStore({ maxPerIdentity: 3 })
    const service = await registerDirectoryService(node, store)
    try {
      const to = node.getMultiaddrs()[0]!
      const { kps } = await keyPackagesOf(member, 4)
      expect(await publishKeyPackages(member, to, kps.slice(0, 2))).toBe(2)
      expect(await codeOf(publishKeyPackages(member, to, kps.slice(2, 4)))).toBe('TOO_LARGE')
      expect(await countKeyPackages(member, to, member.peerId.toString())).toEqual({ count: 2, hasLastResort: false })
      expect(service.counters.refused.TOO_LARGE).toBe(1)
    } finally {
      await service.unregister()
      await store.close()
    }
  })
})
