/**
 * Bad input from one peer is refused with a typed error or a counter and
 * disturbs no other peer. The node and the honest members (alice publishing,
 * bob recording) are separate OS processes; mallory is this test process,
 * speaking the real protocols over libp2p TCP with hand-made bad bytes.
 */
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey } from 'ts-mls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { fetchKeyPackage, publishKeyPackages } from '../../src/client/directory-client.js'
import { GroupChannel, type GroupRequestBody } from '../../src/client/group-channel.js'
import { loadOrCreateIdentity } from '../../src/cli/identity-file.js'
import { REPO_ROOT, nodeStats, sleep, startMember, startNodeProcess, type MemberProc, type NodeProc } from '../../src/cli/processes.js'
import { LinkOpener } from '../../src/crypto/link-seal.js'
import { deriveTransitKey, generateLinkKeyPair } from '../../src/crypto/transit-key.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { FabricError } from '../../src/errors.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { AvSession } from '../../src/session/av-session.js'
import { credentialFor } from '../../src/session/credentials.js'
import { generateIdentity, privateKeyOfIdentity, type MemberIdentity } from '../../src/session/identity.js'
import { encodeKid } from '../../src/session/kid.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import { DEFAULT_CIPHER_SUITE, suiteImpl } from '../../src/session/suite.js'
import { encodeChunk } from '../../src/wire/chunk.js'
import { encodeSFrameHeader } from '../../src/crypto/sframe/index.js'
import { MAX_CONTROL_FRAME, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { decodeOpenResult, encodePublishOpen, encodeSubscribeOpen } from '../../src/wire/messages.js'
import { streamKey, streamTag } from '../../src/wire/stream-tag.js'
import { makeTrack } from '../../src/wire/track.js'
import { codeOf } from '../codes.js'

type FrameLog = Array<[number, string, number, string]>
const STREAM = 'attacked'

/**
 * A KeyPackage whose credential names `victim` but which `signer` signed:
 * the only "KeyPackage for someone else" a peer without the victim's key
 * can make, since a member's identity is its signature key.
 */
async function forgedKeyPackage (victim: string, signer: MemberIdentity): Promise<Uint8Array> {
  const now = BigInt(Math.floor(Date.now() / 1000))
  const { publicPackage } = await generateKeyPackageWithKey(
    credentialFor(victim), defaultCapabilities(), { notBefore: now - 300n, notAfter: now + 3600n }, [],
    { signKey: Uint8Array.from(signer.seed), publicKey: Uint8Array.from(signer.publicKey) }, await suiteImpl(DEFAULT_CIPHER_SUITE))
  return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage })
}

describe('bad input from one peer', () => {
  let dir: string
  let node: NodeProc
  let alice: MemberProc
  let bob: MemberProc
  let mallory: FabricClient
  /** owner/name of the attacked stream. */
  let key: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-bad-input-'))
    // alice admits bob (an identity file) and mallory (an identity of this process) by name.
    const bobFile = join(dir, 'bob.key')
    const bobId = (await loadOrCreateIdentity(bobFile)).identity.peerId
    const malloryId = await generateIdentity()
    node = await startNodeProcess()
    alice = await startMember({ name: 'alice', node: node.addr, stream: STREAM, create: true, allow: [bobId, malloryId.peerId], publish: join(REPO_ROOT, 'fixtures', 'media', 'alice.ivf'), loop: true })
    key = streamKey(alice.identity, STREAM)
    bob = await startMember({ name: 'bob', node: node.addr, stream: STREAM, owner: alice.identity, identity: bobFile })
    mallory = await FabricClient.connect({ node: node.addr, identity: malloryId })
  }, 90_000)

  afterAll(async () => {
    await mallory?.close()
    await alice?.proc.stop()
    await bob?.proc.stop()
    await node?.proc.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('refuses a KeyPackage for someone else\'s identity and stores nothing', async () => {
    const before = (await nodeStats(node)).directory
    // Naming bob, signed with mallory's key.
    expect(await codeOf(publishKeyPackages(libp2pDialer(mallory.libp2p, mallory.node), [await forgedKeyPackage(bob.identity, mallory.memberIdentity)]))).toBe('IDENTITY_MISMATCH')
    // Validly signed by another identity whose key mallory holds, sent over mallory's connection.
    const other = await generateKeyPackage(await generateIdentity(), { nowMs: Date.now() })
    expect(await codeOf(publishKeyPackages(libp2pDialer(mallory.libp2p, mallory.node), [other.keyPackage]))).toBe('IDENTITY_MISMATCH')
    const after = (await nodeStats(node)).directory
    expect(after.storedBytes).toBe(before.storedBytes)
    expect(after.published).toBe(before.published)
    expect(after.refused.IDENTITY_MISMATCH - (before.refused.IDENTITY_MISMATCH ?? 0)).toBe(2)
    // A third party may not fetch bob's KeyPackages at all: NOT_ADMITTED, nothing consumed.
    expect(await codeOf(fetchKeyPackage(libp2pDialer(mallory.libp2p, mallory.node), bob.identity))).toBe('NOT_ADMITTED')
    expect((await nodeStats(node)).directory.fetched).toBe(after.fetched)
  })

  it('refuses media streams from non-members', async () => {
    const framed = new Libp2pChannel(await mallory.libp2p.dialProtocol(mallory.node, '/fabric/av/publish/1'), MAX_CONTROL_FRAME)
    await framed.send(encodePublishOpen({ stream: STREAM, owner: alice.identity }))
    expect(decodeOpenResult(await framed.next(10_000)).error?.code).toBe('NOT_MEMBER')
  })

  it('refuses a Commit from a non-committer and a stale Commit from the committer', async () => {
    // A committer of its own stream, in this process, with a real MLS group;
    // it admits the joiner and mallory by name.
    const committerId = await generateIdentity()
    const joinerId = await generateIdentity()
    const host = await createHost({ listen: [], privateKey: privateKeyOfIdentity(committerId) })
    const joinerHost = await createHost({ listen: [], privateKey: privateKeyOfIdentity(joinerId) })
    const addr = multiaddr(node.addr)
    try {
      const committer = await AvSession.create({ identity: committerId, stream: 'stale-check', admission: { allow: [joinerId.peerId, mallory.identity] }, nowMs: Date.now() })
      const channel = await GroupChannel.open(libp2pDialer(host, addr))
      await channel.request({ create: { stream: 'stale-check', groupId: committer.groupId as Uint8Array<ArrayBuffer> } })
      const joiner = await generateKeyPackage(joinerId, { nowMs: Date.now() })
      await publishKeyPackages(libp2pDialer(joinerHost, addr), [joiner.keyPackage])
      // The committer may fetch only a KeyPackage of someone waiting to join its stream.
      expect(await codeOf(fetchKeyPackage(libp2pDialer(host, addr), joinerId.peerId))).toBe('NOT_ADMITTED')
      const joinerChannel = await GroupChannel.open(libp2pDialer(joinerHost, addr))
      await joinerChannel.request({ join: { stream: 'stale-check', owner: committerId.peerId, redemption: new Uint8Array(0) } })
      const kp = (await fetchKeyPackage(libp2pDialer(host, addr), joinerId.peerId)).keyPackage
      // A Commit made at epoch 0 for someone else, which loses the epoch.
      const other = await generateKeyPackage(mallory.memberIdentity, { nowMs: Date.now() })
      const stale = await committer.prepareAdd([other.keyPackage], { nowMs: Date.now() })
      committer.discardPending(stale)
      const winner = await committer.prepareAdd([kp], { nowMs: Date.now() })
      const body = (p: typeof winner): GroupRequestBody => ({
        commit: { epoch: p.fromEpoch, commit: p.commit as Uint8Array<ArrayBuffer>, welcome: p.welcome! as Uint8Array<ArrayBuffer>, added: [...p.addedIdentities], removed: [] },
      })
      expect(await channel.request(body(winner))).toBe(1n)
      await committer.applyPending(winner, Date.now())

      const err = await channel.request(body(stale)).then(() => undefined, (e: unknown) => e as FabricError & { currentEpoch?: bigint })
      expect(err?.code).toBe('STALE_EPOCH')
      expect(err?.currentEpoch).toBe(1n)
      // Lying about the epoch does not help: the service reads it from the Commit.
      expect(await codeOf(channel.request({ commit: { ...body(stale).commit!, epoch: 1n } }))).toBe('STALE_EPOCH')

      // A non-committer (the joiner, now a member) cannot commit at all:
      // not on its member stream, and not as the first message of a new one.
      expect(await codeOf(joinerChannel.request({ commit: { ...body(stale).commit!, epoch: 1n } }))).toBe('NOT_COMMITTER')
      const unbound = await GroupChannel.open(libp2pDialer(joinerHost, addr))
      await expect(unbound.request({ commit: { ...body(stale).commit!, epoch: 1n } })).rejects.toMatchObject({ code: 'INVALID_STATE' })
      await unbound.close()
      await joinerChannel.close()
      await channel.close()
    } finally {
      await host.stop()
      await joinerHost.stop()
    }
  })

  it('counts malformed chunks, refuses a hijacked track, attributes undecryptable frames, and cuts only the peer that breaks framing', async () => {
    const member = await mallory.joinStream(STREAM, { owner: alice.identity })
    const aliceLeaf = member.session.leafIndexOf(alice.identity)!
    const ownLeaf = member.session.ownLeafIndex
    const tag = streamTag(key)
    const meta = (track: number, sequence: number) => ({ keyframe: true, discardable: false, spatialLayer: 0, temporalLayer: 0, streamTag: tag, track, sequence, timestampUs: BigInt(Date.now()) * 1000n })
    const sframeOf = (kid: bigint): Uint8Array => {
      const header = encodeSFrameHeader(kid, 7n)
      const out = new Uint8Array(header.byteLength + 64)
      out.set(header)
      out.fill(0xab, header.byteLength)
      return out
    }

    const raw = new Libp2pChannel(await mallory.libp2p.dialProtocol(mallory.node, '/fabric/av/publish/1'), MAX_CONTROL_FRAME)
    await raw.send(encodePublishOpen({ stream: STREAM, owner: alice.identity }))
    expect(decodeOpenResult(await raw.next(10_000)).error).toBeUndefined()

    const before = (await nodeStats(node)).av
    // Garbage, truncated, wrong version, wrong stream tag.
    await raw.send(new Uint8Array([1, 2, 3]))
    const good = encodeChunk(meta(makeTrack(ownLeaf, 0), 0), sframeOf(encodeKid({ context: 0, senderLeafIndex: ownLeaf, epoch: member.session.epoch })))
    const badVersion = good.slice(); badVersion[0] = 9
    const badTag = good.slice(); badTag[4] ^= 0xff
    await raw.send(badVersion)
    await raw.send(badTag)
    // Alice's track, claimed by mallory.
    await raw.send(encodeChunk(meta(makeTrack(aliceLeaf, 0), 0), sframeOf(encodeKid({ context: 0, senderLeafIndex: aliceLeaf, epoch: member.session.epoch }))))
    // Well-formed, but sealed with no real key: bob cannot decrypt it.
    for (let i = 0; i < 5; i++) await raw.send(encodeChunk(meta(makeTrack(ownLeaf, 0), i), sframeOf(encodeKid({ context: 0, senderLeafIndex: ownLeaf, epoch: member.session.epoch }))))
    // A real frame first on a second track, then one under an epoch nobody has.
    const screen = member.publishTrack(2)
    await screen.sendFrame(new Uint8Array(200).fill(5), { keyframe: true })
    await raw.send(encodeChunk(meta(makeTrack(ownLeaf, 2), 100), sframeOf(encodeKid({ context: 2, senderLeafIndex: ownLeaf, epoch: member.session.epoch + 77n }))))
    await sleep(500)

    const after = (await nodeStats(node)).av
    expect(after.rejectedChunks - before.rejectedChunks).toBe(4)
    expect(after.rejectedByCode.MALFORMED - (before.rejectedByCode.MALFORMED ?? 0)).toBeGreaterThanOrEqual(3)
    expect(after.rejectedByCode.UNSUPPORTED_VERSION - (before.rejectedByCode.UNSUPPORTED_VERSION ?? 0)).toBe(1)

    // A frame whose declared length breaks the bound: only this stream is cut.
    const prefix = new Uint8Array([0xff, 0xff, 0xff, 0x7f])
    raw.stream.send(prefix)
    await expect(raw.next(10_000)).rejects.toThrow()
    expect(raw.stream.status).not.toBe('open')

    // Replayed sealed chunks are refused by the subscriber's link opener.
    const own = generateLinkKeyPair()
    const sub = new Libp2pChannel(await mallory.libp2p.dialProtocol(mallory.node, '/fabric/av/subscribe/1'), MAX_MEDIA_FRAME)
    await sub.send(encodeSubscribeOpen({ stream: STREAM, owner: alice.identity, subscriberPublicKey: own.publicKey, relay: false }))
    const opened = decodeOpenResult(await sub.next(10_000))
    const opener = new LinkOpener(deriveTransitKey({ privateKey: own.privateKey, peerPublicKey: opened.relayPublicKey, subscriberPublicKey: own.publicKey, relayPublicKey: opened.relayPublicKey, stream: key }))
    const sealed = (await sub.next(10_000)).slice()
    expect(opener.open(sealed).byteLength).toBeGreaterThan(0)
    expect(() => opener.open(sealed)).toThrow(expect.objectContaining({ code: 'REPLAY' }))
    await sub.close()

    // bob: failures are pinned on mallory, alice's video is untouched.
    await sleep(1_000)
    alice.proc.send('stop')
    bob.proc.send('stop')
    const aliceSummary = await alice.proc.waitFor((e) => e.event === 'summary')
    const bobSummary = await bob.proc.waitFor((e) => e.event === 'summary')
    const bySender = (bobSummary.stats as { bySender: Record<string, { decrypted: number, failures: number, failuresByCode: Record<string, number> }> }).bySender
    expect(bySender[alice.identity].failures).toBe(0)
    expect(bySender[mallory.identity].failures).toBeGreaterThanOrEqual(6)
    expect(bySender[mallory.identity].failuresByCode.AUTH_FAILED).toBeGreaterThanOrEqual(5)
    expect(bySender[mallory.identity].failuresByCode.UNKNOWN_KID).toBe(1)
    expect(bySender[mallory.identity].decrypted).toBe(1)

    const sent = aliceSummary.sent as FrameLog
    const got = (bobSummary.received as Record<string, FrameLog>)[`${alice.identity}/0`]
    const first = got.find((f) => f[2] === 1)!
    const last = got[got.length - 1][0]
    const hashes = new Map(got.map((f) => [f[0], f[1]]))
    const expected = sent.filter((f) => f[0] >= first[0] && f[0] <= last)
    expect(expected.length).toBeGreaterThan(50)
    expect(expected.filter((f) => hashes.get(f[0]) !== f[1])).toEqual([])
    await member.shutdown()
  }, 120_000)
})
