/**
 * Bad input from one peer is refused with a typed error or a counter and
 * disturbs no other peer. The node and the honest members (alice publishing,
 * bob recording) are separate OS processes; mallory is this test process,
 * speaking the real protocols over libp2p TCP with hand-made bad bytes.
 */
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { fetchKeyPackage, publishKeyPackages } from '../../src/client/directory-client.js'
import { GroupChannel, type GroupRequestBody } from '../../src/client/group-channel.js'
import { REPO_ROOT, nodeStats, sleep, startMember, startNodeProcess, type MemberProc, type NodeProc } from '../../src/cli/processes.js'
import { LinkOpener } from '../../src/crypto/link-seal.js'
import { deriveTransitKey, generateLinkKeyPair } from '../../src/crypto/transit-key.js'
import { FramedStream } from '../../src/dispatch/framed-stream.js'
import { FabricError } from '../../src/errors.js'
import { createHost } from '../../src/node/host.js'
import { AvSession } from '../../src/session/av-session.js'
import { encodeKid } from '../../src/session/kid.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import { encodeChunk, encodeChunkMeta } from '../../src/wire/chunk.js'
import { encodeSFrameHeader } from '../../src/crypto/sframe/index.js'
import { MAX_CONTROL_FRAME, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { decodeOpenResult, encodePublishOpen, encodeSubscribeOpen } from '../../src/wire/messages.js'
import { streamTag } from '../../src/wire/stream-tag.js'
import { makeTrack } from '../../src/wire/track.js'

type FrameLog = Array<[number, string, number, string]>
const STREAM = 'attacked'

describe('bad input from one peer', () => {
  let node: NodeProc
  let alice: MemberProc
  let bob: MemberProc
  let mallory: FabricClient

  beforeAll(async () => {
    node = await startNodeProcess()
    alice = await startMember({ name: 'alice', node: node.addr, stream: STREAM, create: true, publish: join(REPO_ROOT, 'fixtures', 'media', 'alice.ivf'), loop: true })
    bob = await startMember({ name: 'bob', node: node.addr, stream: STREAM })
    mallory = await FabricClient.connect({ node: node.addr })
  }, 90_000)

  afterAll(async () => {
    await mallory?.close()
    await alice?.proc.stop()
    await bob?.proc.stop()
    await node?.proc.stop()
  })

  const refusedCode = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p
    } catch (err) {
      expect(err).toBeInstanceOf(FabricError)
      return (err as FabricError).code
    }
    throw new Error('expected a refusal')
  }

  it('refuses a KeyPackage for someone else\'s identity and stores nothing', async () => {
    const forged = await generateKeyPackage(bob.identity, { nowMs: Date.now() })
    expect(await refusedCode(publishKeyPackages(mallory.libp2p, mallory.node, [forged.keyPackage]))).toBe('IDENTITY_MISMATCH')
    expect(await refusedCode(fetchKeyPackage(mallory.libp2p, mallory.node, bob.identity))).toBe('NO_KEY_PACKAGE')
  })

  it('refuses media streams from non-members', async () => {
    const framed = new FramedStream(await mallory.libp2p.dialProtocol(mallory.node, '/fabric/av/publish/1'), MAX_CONTROL_FRAME)
    await framed.send(encodePublishOpen({ stream: STREAM }))
    expect(decodeOpenResult(await framed.next(10_000)).error?.code).toBe('NOT_MEMBER')
  })

  it('refuses a Commit from a non-committer and a stale Commit from the committer', async () => {
    // A committer of its own stream, in this process, with a real MLS group.
    const host = await createHost({ listen: [] })
    const joinerHost = await createHost({ listen: [] })
    const addr = multiaddr(node.addr)
    try {
      const committer = await AvSession.create({ identity: host.peerId.toString(), nowMs: Date.now() })
      const channel = await GroupChannel.open(host, addr)
      await channel.request({ create: { stream: 'stale-check', groupId: committer.groupId as Uint8Array<ArrayBuffer> } })
      const joiner = await generateKeyPackage(joinerHost.peerId.toString(), { nowMs: Date.now() })
      await publishKeyPackages(joinerHost, addr, [joiner.keyPackage])
      const kp = (await fetchKeyPackage(host, addr, joinerHost.peerId.toString())).keyPackage
      // A Commit made at epoch 0 for someone else, which loses the epoch.
      const other = await generateKeyPackage(mallory.identity, { nowMs: Date.now() })
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
      expect(await refusedCode(channel.request({ commit: { ...body(stale).commit!, epoch: 1n } }))).toBe('STALE_EPOCH')

      // A non-committer (the joiner) cannot commit at all.
      const joinerChannel = await GroupChannel.open(joinerHost, addr)
      await expect(joinerChannel.request({ commit: { ...body(stale).commit!, epoch: 1n } })).rejects.toMatchObject({ code: 'INVALID_STATE' })
      await joinerChannel.close()
      await channel.close()
    } finally {
      await host.stop()
      await joinerHost.stop()
    }
  })

  it('counts malformed chunks, refuses a hijacked track, attributes undecryptable frames, and cuts only the peer that breaks framing', async () => {
    const member = await mallory.joinStream(STREAM)
    const aliceLeaf = member.session.leafIndexOf(alice.identity)!
    const ownLeaf = member.session.ownLeafIndex
    const tag = streamTag(STREAM)
    const meta = (track: number, sequence: number) => ({ keyframe: true, discardable: false, spatialLayer: 0, temporalLayer: 0, streamTag: tag, track, sequence, timestampUs: BigInt(Date.now()) * 1000n })
    const sframeOf = (kid: bigint): Uint8Array => {
      const header = encodeSFrameHeader(kid, 7n)
      const out = new Uint8Array(header.byteLength + 64)
      out.set(header)
      out.fill(0xab, header.byteLength)
      return out
    }

    const raw = new FramedStream(await mallory.libp2p.dialProtocol(mallory.node, '/fabric/av/publish/1'), MAX_CONTROL_FRAME)
    await raw.send(encodePublishOpen({ stream: STREAM }))
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
    const sub = new FramedStream(await mallory.libp2p.dialProtocol(mallory.node, '/fabric/av/subscribe/1'), MAX_MEDIA_FRAME)
    await sub.send(encodeSubscribeOpen({ stream: STREAM, subscriberPublicKey: own.publicKey, relay: false }))
    const opened = decodeOpenResult(await sub.next(10_000))
    const opener = new LinkOpener(deriveTransitKey({ privateKey: own.privateKey, peerPublicKey: opened.relayPublicKey, subscriberPublicKey: own.publicKey, relayPublicKey: opened.relayPublicKey, stream: STREAM }))
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
