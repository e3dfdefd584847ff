import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey, type Extension } from 'ts-mls'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { countKeyPackages, fetchKeyPackage, publishKeyPackages } from '../../src/client/directory-client.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import type { ErrorCode } from '../../src/errors.js'
import { openKeyPackageStore, type KeyPackageStore, type OpenKeyPackageStoreOptions } from '../../src/node/directory-store.js'
import {
  DEFAULT_DIRECTORY_MAX_INBOUND_STREAMS, DIRECTORY_PROTOCOL, registerDirectoryService,
  type DirectoryService, type DirectoryServiceOptions,
} from '../../src/node/directory-service.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { credentialFor } from '../../src/session/credentials.js'
import { generateIdentity, privateKeyOfIdentity, type MemberIdentity } from '../../src/session/identity.js'
import { generateKeyPackages } from '../../src/session/key-package.js'
import { DEFAULT_CIPHER_SUITE, suiteImpl } from '../../src/session/suite.js'
import { encodeFrame, framePrefix } from '../../src/wire/framing.js'
import { MAX_DIRECTORY_FRAME, MAX_KEY_PACKAGE } from '../../src/wire/limits.js'
import { decodeDirectoryResponse } from '../../src/wire/messages.js'
import { DirectoryRequest, type DirectoryResponse } from '../../src/wire/pb/directory.js'
import { codeOf } from '../codes.js'
import { hex } from '../crypto/helpers.js'

/** A member: its identity and a dial-only host running with the identity's key. */
interface Member { host: Libp2p, id: MemberIdentity, peer: string }

async function newMember (): Promise<Member> {
  const id = await generateIdentity()
  const host = await createHost({ listen: [], privateKey: privateKeyOfIdentity(id) })
  return { host, id, peer: id.peerId }
}

/** `count` fresh KeyPackages of `m`'s identity, plus a last-resort one. */
async function keyPackagesOf (m: Member, count: number, nowMs = Date.now(), lifetimeSeconds?: number): Promise<{ kps: Uint8Array[], last: Uint8Array }> {
  const made = await generateKeyPackages(m.id, { nowMs, count, lastResort: true, lifetimeSeconds })
  return { kps: made.keyPackages.map(b => b.keyPackage), last: made.lastResort!.keyPackage }
}

/**
 * A KeyPackage of `id` carrying `kpBytes` bytes of extension data in the
 * KeyPackage's extensions and `leafBytes` in its leaf node's (0 = none),
 * otherwise valid and signed.
 */
async function keyPackageWithExtensions (id: MemberIdentity, kpBytes: number, leafBytes: number): Promise<Uint8Array> {
  const cs = await suiteImpl(DEFAULT_CIPHER_SUITE)
  const capabilities = defaultCapabilities()
  capabilities.extensions = [...capabilities.extensions, 0xff01, 0xff02]
  const ext = (type: number, n: number): Extension[] => n === 0 ? [] : [{ extensionType: type, extensionData: new Uint8Array(n).fill(7) }]
  const now = BigInt(Math.floor(Date.now() / 1000))
  const { publicPackage } = await generateKeyPackageWithKey(
    credentialFor(id.peerId), capabilities, { notBefore: now - 300n, notAfter: now + 3600n }, ext(0xff01, kpBytes),
    { signKey: Uint8Array.from(id.seed), publicKey: Uint8Array.from(id.publicKey) }, cs, ext(0xff02, leafBytes))
  return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage })
}

/** Opens a raw directory stream from `from` and writes `bytes` on it as they are. */
async function rawStream (from: Libp2p, to: Multiaddr, bytes?: Uint8Array): Promise<{ stream: Stream, framed: Libp2pChannel }> {
  const stream = await from.dialProtocol(to, DIRECTORY_PROTOCOL)
  const framed = new Libp2pChannel(stream, MAX_DIRECTORY_FRAME)
  if (bytes !== undefined) stream.send(bytes)
  return { stream, framed }
}

async function rawResponse (framed: Libp2pChannel): Promise<DirectoryResponse> {
  return decodeDirectoryResponse(await framed.next(5_000))
}

/** Runs `tasks` with at most `width` in flight (one directory stream each). */
async function inPool<T> (width: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array(tasks.length)
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) {
      const i = next++
      out[i] = await tasks[i]!()
    }
  }))
  return out
}

describe('directory service over libp2p', () => {
  let node: Libp2p
  let alice: Member
  let bob: Member
  let carol: Member
  let store: KeyPackageStore
  let service: DirectoryService
  let addr: Multiaddr
  // Fetches allowed besides an identity's own, as `${requester}>${identity}`.
  const grants = new Set<string>()

  beforeAll(async () => {
    [node, alice, bob, carol] = await Promise.all([
      createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] }),
      newMember(),
      newMember(),
      newMember(),
    ])
    store = await openKeyPackageStore()
    service = await registerDirectoryService(libp2pListener(node), store, {
      readTimeoutMs: 500,
      authorizeFetch: (requester, identity) => requester === identity || grants.has(`${requester}>${identity}`),
    })
    addr = node.getMultiaddrs()[0]!
    grants.add(`${bob.peer}>${alice.peer}`).add(`${carol.peer}>${alice.peer}`)
  })

  afterAll(async () => {
    await service?.unregister()
    await Promise.all([node, alice?.host, bob?.host, carol?.host].map(async h => { await h?.stop() }))
    await store?.close()
  })

  it('publishes, counts, fetches FIFO, then hands out the last-resort KeyPackage repeatedly', async () => {
    const { kps, last } = await keyPackagesOf(alice, 3)
    expect(await publishKeyPackages(libp2pDialer(alice.host, addr), kps, last)).toBe(3)
    expect(await countKeyPackages(libp2pDialer(alice.host, addr), alice.peer)).toEqual({ count: 3, hasLastResort: true })

    for (const expected of kps) {
      const got = await fetchKeyPackage(libp2pDialer(bob.host, addr), alice.peer)
      expect(got.lastResort).toBe(false)
      expect(hex(got.keyPackage)).toBe(hex(expected))
    }
    for (let i = 0; i < 2; i++) {
      const got = await fetchKeyPackage(libp2pDialer(bob.host, addr), alice.peer)
      expect(got.lastResort).toBe(true)
      expect(hex(got.keyPackage)).toBe(hex(last))
    }
    expect(await countKeyPackages(libp2pDialer(alice.host, addr), alice.peer)).toEqual({ count: 0, hasLastResort: true })
    expect(service.counters.fetched).toBeGreaterThanOrEqual(3)
    expect(service.counters.fetchedLastResort).toBeGreaterThanOrEqual(2)
    expect(service.counters.storedBytes).toBe(last.byteLength)
    expect(service.counters.identities).toBe(1)
  })

  it('answers NO_KEY_PACKAGE for an identity with nothing stored', async () => {
    expect(await codeOf(fetchKeyPackage(libp2pDialer(carol.host, addr), carol.peer))).toBe('NO_KEY_PACKAGE')
    expect(await countKeyPackages(libp2pDialer(carol.host, addr), carol.peer)).toEqual({ count: 0, hasLastResort: false })
  })

  it('refuses a publish holding someone else\'s KeyPackage and stores none of it', async () => {
    const own = await keyPackagesOf(carol, 2)
    const other = await keyPackagesOf(bob, 1)
    const before = service.counters.refused.IDENTITY_MISMATCH ?? 0

    expect(await codeOf(publishKeyPackages(libp2pDialer(carol.host, addr), [...own.kps, ...other.kps], own.last))).toBe('IDENTITY_MISMATCH')
    expect(await codeOf(publishKeyPackages(libp2pDialer(carol.host, addr), own.kps, other.last))).toBe('IDENTITY_MISMATCH')
    // Publishing only bob's KeyPackages from carol's connection plants nothing for bob either.
    expect(await codeOf(publishKeyPackages(libp2pDialer(carol.host, addr), other.kps))).toBe('IDENTITY_MISMATCH')

    expect(await countKeyPackages(libp2pDialer(carol.host, addr), carol.peer)).toEqual({ count: 0, hasLastResort: false })
    expect(await countKeyPackages(libp2pDialer(bob.host, addr), bob.peer)).toEqual({ count: 0, hasLastResort: false })
    expect(service.counters.refused.IDENTITY_MISMATCH).toBe(before + 3)
  })

  it('refuses garbage and expired KeyPackages as MALFORMED', async () => {
    const { kps } = await keyPackagesOf(carol, 1)
    const garbage = new Uint8Array(200).fill(0x5a)
    expect(await codeOf(publishKeyPackages(libp2pDialer(carol.host, addr), [kps[0]!, garbage]))).toBe('MALFORMED')

    const sixtyDaysAgo = Date.now() - 60 * 24 * 3600 * 1000
    const expired = await keyPackagesOf(carol, 1, sixtyDaysAgo)
    expect(await codeOf(publishKeyPackages(libp2pDialer(carol.host, addr), expired.kps))).toBe('MALFORMED')

    const tampered = Uint8Array.from(kps[0]!)
    tampered[tampered.length - 5]! ^= 0x01
    expect(await codeOf(publishKeyPackages(libp2pDialer(carol.host, addr), [tampered]))).toBe('MALFORMED')

    expect(await countKeyPackages(libp2pDialer(carol.host, addr), carol.peer)).toEqual({ count: 0, hasLastResort: false })
  })

  it('answers oversize KeyPackages and frames with TOO_LARGE, and the client checks the frame bound before sending', async () => {
    // The client's encoder refuses it before sending, so speak raw protobuf.
    const big = DirectoryRequest.encode({ version: 1, publish: { keyPackages: [new Uint8Array(MAX_KEY_PACKAGE + 1)], lastResort: new Uint8Array(0), replace: false } })
    const a = await rawStream(carol.host, addr, encodeFrame(big))
    expect((await rawResponse(a.framed)).error?.code).toBe('TOO_LARGE')

    // A length prefix one above the directory's frame bound: refused before any of it is buffered.
    const b = await rawStream(carol.host, addr, framePrefix(MAX_DIRECTORY_FRAME + 1))
    expect((await rawResponse(b.framed)).error?.code).toBe('TOO_LARGE')

    await expect(publishKeyPackages(libp2pDialer(carol.host, addr), [new Uint8Array(MAX_KEY_PACKAGE + 1)])).rejects.toMatchObject({ code: 'TOO_LARGE' })
    // Within every field bound (6 of 64 KiB), but above MAX_DIRECTORY_FRAME as a whole: never sent.
    const requests = service.counters.requests
    const six = Array.from({ length: 6 }, () => new Uint8Array(MAX_KEY_PACKAGE).fill(1))
    await expect(publishKeyPackages(libp2pDialer(carol.host, addr), six)).rejects.toMatchObject({ code: 'TOO_LARGE' })
    expect(service.counters.requests).toBe(requests)
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
      const { framed } = await rawStream(carol.host, addr, bytes)
      expect((await rawResponse(framed)).error?.code).toBe(code)
    }
  })

  it('answers TIMEOUT to a stream that never sends a whole request', async () => {
    const { framed } = await rawStream(carol.host, addr, Uint8Array.of(10, 1, 2))
    expect((await rawResponse(framed)).error?.code).toBe('TIMEOUT')
  })

  it('keeps serving good clients while a raw stream breaks framing or stalls', async () => {
    const { kps, last } = await keyPackagesOf(bob, 4)
    grants.add(`${alice.peer}>${bob.peer}`)
    // Opened first and left hanging on the same connection as the good calls.
    const stalled = await rawStream(bob.host, addr, Uint8Array.of(40, 1))
    const broken = await rawStream(bob.host, addr, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff))
    const [accepted, brokenResponse] = await Promise.all([
      publishKeyPackages(libp2pDialer(bob.host, addr), kps, last),
      rawResponse(broken.framed),
    ])
    expect(brokenResponse.error?.code).toBe('MALFORMED')
    expect(accepted).toBe(4)
    expect(await countKeyPackages(libp2pDialer(bob.host, addr), bob.peer)).toEqual({ count: 4, hasLastResort: true })
    expect(hex((await fetchKeyPackage(libp2pDialer(alice.host, addr), bob.peer)).keyPackage)).toBe(hex(kps[0]!))
    expect((await rawResponse(stalled.framed)).error?.code).toBe('TIMEOUT')
    // Drain the rest so later tests see bob empty.
    for (let i = 1; i < 4; i++) await fetchKeyPackage(libp2pDialer(alice.host, addr), bob.peer)
  })

  it('never hands the same KeyPackage to two concurrent fetches', async () => {
    const n = 24
    const { kps } = await keyPackagesOf(alice, n)
    // alice's last-resort KeyPackage from the first test is still held.
    expect(await publishKeyPackages(libp2pDialer(alice.host, addr), kps)).toBe(n)
    const fetchers = [bob, carol]
    // Four in flight per connection: under the node's bound of 8 directory streams per connection.
    const results = await inPool(8, Array.from({ length: n }, (_, i) => async () =>
      await fetchKeyPackage(libp2pDialer(fetchers[i % 2]!.host, addr), alice.peer)))
    const handed = results.map(r => hex(r.keyPackage))
    expect(results.every(r => !r.lastResort)).toBe(true)
    expect(new Set(handed).size).toBe(n)
    expect(new Set(handed)).toEqual(new Set(kps.map(hex)))
    expect((await fetchKeyPackage(libp2pDialer(bob.host, addr), alice.peer)).lastResort).toBe(true)
  })

  it('resets directory streams past 8 per connection, and serves again once they are gone', async () => {
    expect(DEFAULT_DIRECTORY_MAX_INBOUND_STREAMS).toBe(8)
    const stalled = await Promise.all(Array.from({ length: 8 }, async () => await rawStream(carol.host, addr, Uint8Array.of(40, 1))))
    // Let the node register all eight before the ninth arrives.
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(await codeOf(countKeyPackages(libp2pDialer(carol.host, addr), carol.peer, { timeoutMs: 2_000 }))).not.toBe('resolved')
    for (const s of stalled) {
      expect((await rawResponse(s.framed)).error?.code).toBe('TIMEOUT')
      await s.stream.close()
    }
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(await countKeyPackages(libp2pDialer(carol.host, addr), carol.peer)).toEqual({ count: 0, hasLastResort: false })
  })
})

describe('directory quotas, expiry and the fetch rule', () => {
  const cleanups: Array<() => Promise<void>> = []

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  /** A node with a directory of its own, and `count` members; all stopped after the test. */
  async function directory (
    count: number,
    options: DirectoryServiceOptions = {},
    storeOptions: Omit<OpenKeyPackageStoreOptions, 'dataDir'> = {},
  ): Promise<{ addr: Multiaddr, store: KeyPackageStore, service: DirectoryService, members: Member[] }> {
    const node = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const store = await openKeyPackageStore(storeOptions)
    const service = await registerDirectoryService(libp2pListener(node), store, { readTimeoutMs: 1_000, ...options })
    const members = await Promise.all(Array.from({ length: count }, newMember))
    cleanups.push(async () => {
      await service.unregister()
      await Promise.all([node, ...members.map(m => m.host)].map(async h => { await h.stop() }))
      await store.close()
    })
    return { addr: node.getMultiaddrs()[0]!, store, service, members }
  }

  it('refuses a duplicate KeyPackage, within one publish or already held, and stores it once', async () => {
    const { addr, service, members: [alice] } = await directory(1)
    const { kps, last } = await keyPackagesOf(alice!, 2)
    // The measured attack, bounded: the same KeyPackage over and over.
    expect(await codeOf(publishKeyPackages(libp2pDialer(alice!.host, addr), Array.from({ length: 64 }, () => kps[0]!)))).toBe('ALREADY_EXISTS')
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), [kps[0]!], last)).toBe(1)
    for (let i = 0; i < 32; i++) expect(await codeOf(publishKeyPackages(libp2pDialer(alice!.host, addr), [kps[0]!]))).toBe('ALREADY_EXISTS')
    expect(await codeOf(publishKeyPackages(libp2pDialer(alice!.host, addr), [kps[1]!, last]))).toBe('ALREADY_EXISTS')
    expect(await countKeyPackages(libp2pDialer(alice!.host, addr), alice!.peer)).toEqual({ count: 1, hasLastResort: true })
    expect(service.counters.storedBytes).toBe(kps[0]!.byteLength + last.byteLength)
    expect(service.counters.duplicatesRefused).toBe(34)
    expect(service.counters.refused.ALREADY_EXISTS).toBe(34)
    // The held last-resort KeyPackage again, with a fresh one: a retry-safe no-op for the last-resort one.
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), [kps[1]!], last)).toBe(1)
    expect(await countKeyPackages(libp2pDialer(alice!.host, addr), alice!.peer)).toEqual({ count: 2, hasLastResort: true })
  })

  it('refuses publishes crossing the per-identity and global byte quotas at the boundary, storing nothing', async () => {
    const first = await directory(2)
    const [alice, bob] = first.members
    const a = await keyPackagesOf(alice!, 4)
    const b = await keyPackagesOf(bob!, 2)
    const sum = (xs: Uint8Array[]): number => xs.reduce((n, x) => n + x.byteLength, 0)
    // Quotas set exactly at what alice's three and one of bob's take.
    const { addr, service } = await directory(0, {}, { maxBytesPerIdentity: sum(a.kps.slice(0, 3)), maxTotalBytes: sum(a.kps.slice(0, 3)) + b.kps[0]!.byteLength })
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), a.kps.slice(0, 3))).toBe(3)
    expect(await codeOf(publishKeyPackages(libp2pDialer(alice!.host, addr), [a.kps[3]!]))).toBe('QUOTA_EXCEEDED')
    // Last-resort bytes count against the identity's quota too.
    expect(await codeOf(publishKeyPackages(libp2pDialer(alice!.host, addr), [], a.last))).toBe('QUOTA_EXCEEDED')
    expect(await publishKeyPackages(libp2pDialer(bob!.host, addr), [b.kps[0]!])).toBe(1)
    expect(await codeOf(publishKeyPackages(libp2pDialer(bob!.host, addr), [b.kps[1]!], b.last))).toBe('QUOTA_EXCEEDED')
    expect(service.counters.storedBytes).toBe(sum(a.kps.slice(0, 3)) + b.kps[0]!.byteLength)
    expect(await countKeyPackages(libp2pDialer(alice!.host, addr), alice!.peer)).toEqual({ count: 3, hasLastResort: false })
    expect(await countKeyPackages(libp2pDialer(bob!.host, addr), bob!.peer)).toEqual({ count: 1, hasLastResort: false })
    expect(service.counters.refused.QUOTA_EXCEEDED).toBe(3)
  })

  it('keeps a flood from 8 identities under the global quota, each stopped by its own quota, and a healthy identity still publishes', async () => {
    const probe = await keyPackagesOf((await directory(1)).members[0]!, 1)
    const size = probe.kps[0]!.byteLength
    // Room for 8 KeyPackages per identity; the global quota is 16 identities' worth.
    const perIdentity = 8 * size + Math.floor(size / 2)
    const { addr, service, members } = await directory(9, {}, { maxBytesPerIdentity: perIdentity, maxTotalBytes: 16 * perIdentity })
    const flooders = members.slice(0, 8)
    const healthy = members[8]!
    const batches = await Promise.all(flooders.map(async m => (await keyPackagesOf(m, 12)).kps))
    const codes = await Promise.all(flooders.map(async (m, i) => [
      await codeOf(publishKeyPackages(libp2pDialer(m.host, addr), batches[i]!.slice(0, 6))),
      await codeOf(publishKeyPackages(libp2pDialer(m.host, addr), batches[i]!.slice(6, 12))),
    ]))
    expect(codes.every(([a, b]) => a === 'resolved' && b === 'QUOTA_EXCEEDED')).toBe(true)
    expect(service.counters.storedBytes).toBe(batches.reduce((n, b) => n + b.slice(0, 6).reduce((m, kp) => m + kp.byteLength, 0), 0))
    expect(service.counters.storedBytes).toBeLessThan(16 * perIdentity)
    expect(service.counters.identities).toBe(8)
    const { kps, last } = await keyPackagesOf(healthy, 2)
    expect(await publishKeyPackages(libp2pDialer(healthy.host, addr), kps, last)).toBe(2)
  })

  it('never hands out expired KeyPackages, does not count them, and purges them (injected clock)', async () => {
    let nowMs = Date.now()
    const { addr, service, store, members: [alice, bob] } = await directory(2, { now: () => nowMs, purgeIntervalMs: 0 })
    const short = await keyPackagesOf(alice!, 2, nowMs, 60)
    const long = await keyPackagesOf(alice!, 1, nowMs, 3600)
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), short.kps, short.last)).toBe(2)
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), long.kps)).toBe(1)
    const bobs = await keyPackagesOf(bob!, 3, nowMs, 60)
    expect(await publishKeyPackages(libp2pDialer(bob!.host, addr), bobs.kps, bobs.last)).toBe(3)
    expect(await countKeyPackages(libp2pDialer(alice!.host, addr), alice!.peer)).toEqual({ count: 3, hasLastResort: true })

    nowMs += 120_000
    expect(await countKeyPackages(libp2pDialer(alice!.host, addr), alice!.peer)).toEqual({ count: 1, hasLastResort: false })
    expect(hex((await fetchKeyPackage(libp2pDialer(alice!.host, addr), alice!.peer)).keyPackage)).toBe(hex(long.kps[0]!))
    // The expired last-resort KeyPackage is not handed out either.
    expect(await codeOf(fetchKeyPackage(libp2pDialer(alice!.host, addr), alice!.peer))).toBe('NO_KEY_PACKAGE')
    expect(service.counters.expiredPurged).toBe(3)
    // A KeyPackage whose lifetime passed on the node's clock is refused at publish.
    expect(await codeOf(publishKeyPackages(libp2pDialer(bob!.host, addr), [(await keyPackagesOf(bob!, 1, nowMs - 120_000, 60)).kps[0]!]))).toBe('MALFORMED')

    // bob's four expired ones are still stored until the purge runs.
    expect(store.stats()).toMatchObject({ keyPackages: 4, identities: 1 })
    expect(await service.purgeExpired()).toBe(4)
    expect(service.counters).toMatchObject({ storedBytes: 0, identities: 0, expiredPurged: 7 })
  })

  it('runs the purge on its timer', async () => {
    let nowMs = Date.now()
    const { addr, service, members: [alice] } = await directory(1, { now: () => nowMs, purgeIntervalMs: 20 })
    const { kps } = await keyPackagesOf(alice!, 2, nowMs, 60)
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), kps)).toBe(2)
    nowMs += 120_000
    const deadline = Date.now() + 2_000
    while (service.counters.expiredPurged < 2 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    expect(service.counters).toMatchObject({ expiredPurged: 2, storedBytes: 0 })
  })

  it('refuses KeyPackages whose extensions exceed 1 KiB in all as MALFORMED, and accepts 1 KiB', async () => {
    const { addr, service, members: [alice] } = await directory(1)
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), [await keyPackageWithExtensions(alice!.id, 1024, 0)])).toBe(1)
    expect(await publishKeyPackages(libp2pDialer(alice!.host, addr), [await keyPackageWithExtensions(alice!.id, 512, 512)])).toBe(1)
    for (const [k, l] of [[1025, 0], [0, 1025], [512, 513], [60_000, 0]] as const) {
      expect(await codeOf(publishKeyPackages(libp2pDialer(alice!.host, addr), [await keyPackageWithExtensions(alice!.id, k, l)]))).toBe('MALFORMED')
    }
    // As a last-resort KeyPackage too, and beside good ones: nothing of that publish is stored.
    const { kps } = await keyPackagesOf(alice!, 1)
    expect(await codeOf(publishKeyPackages(libp2pDialer(alice!.host, addr), kps, await keyPackageWithExtensions(alice!.id, 2048, 0)))).toBe('MALFORMED')
    expect(await countKeyPackages(libp2pDialer(alice!.host, addr), alice!.peer)).toEqual({ count: 2, hasLastResort: false })
    expect(service.counters.refused.MALFORMED).toBe(5)
  })

  it('refuses a third party\'s fetch and count NOT_ADMITTED, consuming nothing (default: only the identity itself)', async () => {
    const { addr, service, members: [joiner, mallory] } = await directory(2)
    const { kps } = await keyPackagesOf(joiner!, 1)
    // The measured drain: a joiner's only KeyPackage, polled by someone else (bounded: 64 tries).
    expect(await publishKeyPackages(libp2pDialer(joiner!.host, addr), kps)).toBe(1)
    const codes = await inPool(4, Array.from({ length: 64 }, () => async () => await codeOf(fetchKeyPackage(libp2pDialer(mallory!.host, addr), joiner!.peer))))
    expect(codes.every(c => c === 'NOT_ADMITTED')).toBe(true)
    expect(await codeOf(countKeyPackages(libp2pDialer(mallory!.host, addr), joiner!.peer))).toBe('NOT_ADMITTED')
    // An identity with nothing stored answers the same, so a refusal tells nothing about the stock.
    expect(await codeOf(fetchKeyPackage(libp2pDialer(joiner!.host, addr), mallory!.peer))).toBe('NOT_ADMITTED')
    expect(service.counters.refused.NOT_ADMITTED).toBe(66)
    expect(service.counters.fetched).toBe(0)
    expect(await countKeyPackages(libp2pDialer(joiner!.host, addr), joiner!.peer)).toEqual({ count: 1, hasLastResort: false })
    expect(hex((await fetchKeyPackage(libp2pDialer(joiner!.host, addr), joiner!.peer)).keyPackage)).toBe(hex(kps[0]!))
  })

  it('lets exactly the committer authorizeFetch allows fetch the joiner\'s KeyPackage', async () => {
    const asked: string[] = []
    let committerPeer = ''
    let joinerPeer = ''
    const { addr, service, members: [joiner, committer, mallory] } = await directory(3, {
      // Asynchronous, as a node consulting its group service may be.
      authorizeFetch: async (requester, identity) => {
        asked.push(`${requester}>${identity}`)
        await new Promise(resolve => setImmediate(resolve))
        return requester === committerPeer && identity === joinerPeer
      },
    })
    committerPeer = committer!.peer
    joinerPeer = joiner!.peer
    const { kps, last } = await keyPackagesOf(joiner!, 1)
    expect(await publishKeyPackages(libp2pDialer(joiner!.host, addr), kps, last)).toBe(1)
    expect(await codeOf(fetchKeyPackage(libp2pDialer(mallory!.host, addr), joiner!.peer))).toBe('NOT_ADMITTED')
    // The hook replaces the default: not even the identity itself may fetch now.
    expect(await codeOf(fetchKeyPackage(libp2pDialer(joiner!.host, addr), joiner!.peer))).toBe('NOT_ADMITTED')
    const got = await fetchKeyPackage(libp2pDialer(committer!.host, addr), joiner!.peer)
    expect(got).toEqual({ keyPackage: kps[0], lastResort: false })
    expect((await fetchKeyPackage(libp2pDialer(committer!.host, addr), joiner!.peer)).lastResort).toBe(true)
    expect(asked).toEqual([
      `${mallory!.peer}>${joiner!.peer}`, `${joiner!.peer}>${joiner!.peer}`,
      `${committer!.peer}>${joiner!.peer}`, `${committer!.peer}>${joiner!.peer}`,
    ])
    // count stays the identity's own business whatever the fetch rule says.
    expect(await codeOf(countKeyPackages(libp2pDialer(committer!.host, addr), joiner!.peer))).toBe('NOT_ADMITTED')
    expect(asked).toHaveLength(4)
    expect(service.counters.fetched).toBe(1)
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

  it('serves KeyPackages published before a node restart, with the same byte accounting', async () => {
    const member = await newMember()
    hosts.push(member.host)
    const { kps, last } = await keyPackagesOf(member, 3)

    const first = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    hosts.push(first)
    const firstStore = await openKeyPackageStore({ dataDir })
    const firstService = await registerDirectoryService(libp2pListener(first), firstStore)
    expect(await publishKeyPackages(libp2pDialer(member.host, first.getMultiaddrs()[0]!), kps, last)).toBe(3)
    expect(hex((await fetchKeyPackage(libp2pDialer(member.host, first.getMultiaddrs()[0]!), member.peer)).keyPackage)).toBe(hex(kps[0]!))
    const bytes = firstService.counters.storedBytes
    expect(bytes).toBe(kps[1]!.byteLength + kps[2]!.byteLength + last.byteLength)
    await firstService.unregister()
    await first.stop()
    await firstStore.close()

    const second = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    hosts.push(second)
    const secondStore = await openKeyPackageStore({ dataDir })
    const secondService = await registerDirectoryService(libp2pListener(second), secondStore)
    try {
      const to = second.getMultiaddrs()[0]!
      expect(secondService.counters).toMatchObject({ storedBytes: bytes, identities: 1 })
      expect(await countKeyPackages(libp2pDialer(member.host, to), member.peer)).toEqual({ count: 2, hasLastResort: true })
      expect(await codeOf(publishKeyPackages(libp2pDialer(member.host, to), [kps[1]!]))).toBe('ALREADY_EXISTS')
      expect(hex((await fetchKeyPackage(libp2pDialer(member.host, to), member.peer)).keyPackage)).toBe(hex(kps[1]!))
      expect(hex((await fetchKeyPackage(libp2pDialer(member.host, to), member.peer)).keyPackage)).toBe(hex(kps[2]!))
      expect(await fetchKeyPackage(libp2pDialer(member.host, to), member.peer)).toEqual({ keyPackage: last, lastResort: true })
      expect(secondService.counters.storedBytes).toBe(last.byteLength)
    } finally {
      await secondService.unregister()
      await secondStore.close()
    }
  })

  it('unregister resets a stalled stream at once instead of waiting for its read timeout', async () => {
    const node = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const member = await newMember()
    hosts.push(node, member.host)
    const store = await openKeyPackageStore()
    const service = await registerDirectoryService(libp2pListener(node), store, { readTimeoutMs: 60_000 })
    const { framed } = await rawStream(member.host, node.getMultiaddrs()[0]!, Uint8Array.of(40))
    const reading = codeOf(framed.next(10_000))
    await new Promise(resolve => setTimeout(resolve, 100))
    await service.unregister()
    await store.close()
    // Had unregister waited for the service's 60 s read timeout, this read's own 10 s deadline would end it in TIMEOUT.
    expect(await reading).not.toBe('TIMEOUT')
    expect(await service.purgeExpired()).toBe(0)
    await expect(publishKeyPackages(libp2pDialer(member.host, node.getMultiaddrs()[0]!), (await keyPackagesOf(member, 1)).kps)).rejects.toThrow()
  })

  it('answers QUOTA_EXCEEDED once an identity holds its count bound, storing none of the excess', async () => {
    const node = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const member = await newMember()
    hosts.push(node, member.host)
    const store = await openKeyPackageStore({ maxPerIdentity: 3 })
    const service = await registerDirectoryService(libp2pListener(node), store)
    try {
      const to = node.getMultiaddrs()[0]!
      const { kps } = await keyPackagesOf(member, 4)
      expect(await publishKeyPackages(libp2pDialer(member.host, to), kps.slice(0, 2))).toBe(2)
      expect(await codeOf(publishKeyPackages(libp2pDialer(member.host, to), kps.slice(2, 4)))).toBe('QUOTA_EXCEEDED')
      expect(await countKeyPackages(libp2pDialer(member.host, to), member.peer)).toEqual({ count: 2, hasLastResort: false })
      expect(service.counters.refused.QUOTA_EXCEEDED).toBe(1)
    } finally {
      await service.unregister()
      await store.close()
    }
  })
})
