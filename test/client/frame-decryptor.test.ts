import { describe, expect, it } from 'vitest'
import { FrameDecryptor, HELD_CHUNK_TTL_MS, type DecryptOutcome, type ReceivedFrame } from '../../src/client/frame-decryptor.js'
import { decodeSFrameHeader } from '../../src/crypto/sframe/index.js'
import { FabricError } from '../../src/errors.js'
import { decodeKid } from '../../src/session/kid.js'
import { CHUNK_META_LENGTH, decodeChunkMeta } from '../../src/wire/chunk.js'
import { streamKey, streamTag } from '../../src/wire/stream-tag.js'
import { makeTrack, TrackContext } from '../../src/wire/track.js'
import { MAX_LEAF_INDEX } from '../../src/wire/limits.js'
import { capturingTrack, commitAndDeliver, copy, groupOf, makeJoiner, OWNER, peer, STREAM, TAG } from './helpers.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

function ok (outcome: DecryptOutcome): ReceivedFrame {
  if (!outcome.ok) throw new Error(`expected a decrypted frame, got ${outcome.reason}: ${outcome.error.message}`)
  return outcome.frame
}

function notOk (outcome: DecryptOutcome): Extract<DecryptOutcome, { ok: false }> {
  if (outcome.ok) throw new Error('expected the frame to be refused')
  return outcome
}

function setU32 (chunk: Uint8Array, offset: number, v: number): Uint8Array {
  const out = copy(chunk)
  new DataView(out.buffer).setUint32(offset, v)
  return out
}

describe('TrackPublisher -> FrameDecryptor with real MLS sessions', () => {
  it('decrypts another member\'s frames to the original bytes with sender, track and timing', async () => {
    const [alice, bob, carol] = await groupOf(2)
    const video = capturingTrack(alice, TrackContext.video)
    const audio = capturingTrack(alice, TrackContext.audio)
    const frames = [
      { t: video, payload: text('video keyframe'), keyframe: true, ts: 1_000n },
      { t: video, payload: text('video delta 1'), keyframe: false, ts: 2_000n },
      { t: audio, payload: text('audio 0'), keyframe: true, ts: 2_500n },
      { t: video, payload: new Uint8Array(5000).fill(9), keyframe: false, ts: 3_000n },
    ]
    for (const f of frames) await f.t.track.sendFrame(f.payload, { keyframe: f.keyframe, timestampUs: f.ts })
    expect(video.sent).toHaveLength(3)
    expect(audio.sent).toHaveLength(1)

    for (const receiver of [bob, carol]) {
      const dec = new FrameDecryptor(receiver, TAG)
      const got = [...video.sent, ...audio.sent].map((c) => ok(dec.decrypt(copy(c), Date.now())))
      const vid = got.slice(0, 3)
      const aud = got[3]
      expect(vid.map((f) => Buffer.from(f.payload).toString('hex'))).toEqual([frames[0], frames[1], frames[3]].map((f) => Buffer.from(f.payload).toString('hex')))
      expect(vid.map((f) => f.sequence)).toEqual([0, 1, 2])
      expect(vid.map((f) => f.keyframe)).toEqual([true, false, false])
      expect(vid.map((f) => f.timestampUs)).toEqual([1_000n, 2_000n, 3_000n])
      for (const f of got) {
        expect(f.sender).toBe(peer(0))
        expect(f.senderLeafIndex).toBe(0)
        expect(f.epoch).toBe(1n)
      }
      expect(vid.every((f) => f.context === TrackContext.video && f.track === makeTrack(0, TrackContext.video))).toBe(true)
      expect(aud).toMatchObject({ context: TrackContext.audio, track: makeTrack(0, TrackContext.audio), keyframe: true, sequence: 0, timestampUs: 2_500n })
      expect(new TextDecoder().decode(aud.payload)).toBe('audio 0')
      expect(dec.bySender.get(0)).toEqual({ received: 4, decrypted: 4, beforeKeys: 0, failures: 0, duplicates: 0, failuresByCode: {} })
    }
  })

  it('never hands a chunk over twice: a replayed or stale CTR is a duplicate, counted apart from failures', async () => {
    const [alice, bob] = await groupOf(1)
    const video = capturingTrack(alice, TrackContext.video)
    for (let i = 0; i < 1030; i++) await video.track.sendFrame(text(`v${i}`), { keyframe: i === 0 })
    const dec = new FrameDecryptor(bob, TAG)
    // The first three, then the first three again (a relay resending after a move), then the rest.
    for (const c of video.sent.slice(0, 3)) ok(dec.decrypt(copy(c), Date.now()))
    for (const c of video.sent.slice(0, 3)) expect(dec.decrypt(copy(c), Date.now())).toMatchObject({ ok: false, reason: 'duplicate', error: { code: 'REPLAY' } })
    for (const c of video.sent.slice(3)) ok(dec.decrypt(copy(c), Date.now()))
    // Out of order inside the window passes once; a chunk more than the window behind is stale.
    expect(dec.decrypt(copy(video.sent[1029]!), Date.now())).toMatchObject({ reason: 'duplicate' })
    expect(dec.bySender.get(0)).toEqual({ received: 1034, decrypted: 1030, beforeKeys: 0, failures: 0, duplicates: 4, failuresByCode: {} })
    const late = new FrameDecryptor(bob, TAG)
    ok(late.decrypt(copy(video.sent[1029]!), Date.now()))
    ok(late.decrypt(copy(video.sent[1000]!), Date.now()))
    expect(late.decrypt(copy(video.sent[5]!), Date.now())).toMatchObject({ ok: false, reason: 'duplicate' })
  })

  it('stamps the track and sequence in the clear metadata, and the KID names the sender, context and epoch', async () => {
    const [alice, bob] = await groupOf(1)
    const screen = capturingTrack(bob, TrackContext.screen)
    expect(screen.track.track).toBe(makeTrack(bob.ownLeafIndex, TrackContext.screen))
    for (let i = 0; i < 3; i++) await screen.track.sendFrame(text(`s${i}`), { keyframe: i === 0 })
    for (const [i, c] of screen.sent.entries()) {
      const meta = decodeChunkMeta(c)
      expect(meta).toMatchObject({ track: screen.track.track, sequence: i, keyframe: i === 0, streamTag: TAG })
      const { kid, ctr } = decodeSFrameHeader(c.subarray(CHUNK_META_LENGTH))
      expect(decodeKid(kid)).toEqual({ context: TrackContext.screen, senderLeafIndex: bob.ownLeafIndex, epochLowBits: 1 })
      expect(ctr).toBe(BigInt(i))
    }
    expect(screen.track.sent).toBe(3)
    expect(screen.track.keyframes).toBe(1)
    const dec = new FrameDecryptor(alice, TAG)
    expect(screen.sent.map((c) => ok(dec.decrypt(c, Date.now())).sender)).toEqual([peer(1), peer(1), peer(1)])
  })

  it('wants a keyframe when asked, until it sends one', async () => {
    const [alice] = await groupOf(1)
    const v = capturingTrack(alice, TrackContext.video)
    expect(v.track.wantsKeyframe).toBe(false)
    v.track.requestKeyframe()
    expect(v.track.wantsKeyframe).toBe(true)
    await v.track.sendFrame(text('d'), { keyframe: false })
    expect(v.track.wantsKeyframe).toBe(true)
    await v.track.sendFrame(text('k'), { keyframe: true })
    expect(v.track.wantsKeyframe).toBe(false)
  })

  it('switches to a new KID, key and CTR space when the sending epoch changes', async () => {
    const [alice, bob] = await groupOf(1)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('e1'), { keyframe: true })
    await v.track.sendFrame(text('e1'), { keyframe: false })
    const joiner = await makeJoiner(7)
    await commitAndDeliver(alice, await alice.prepareAdd([joiner.keyPackage], { nowMs: Date.now() }), [bob])
    await v.track.sendFrame(text('e2'), { keyframe: true })
    const headers = v.sent.map((c) => decodeSFrameHeader(c.subarray(CHUNK_META_LENGTH)))
    expect(headers.map((h) => decodeKid(h.kid).epochLowBits)).toEqual([1, 1, 2])
    expect(headers.map((h) => h.ctr)).toEqual([0n, 1n, 0n])
    // The chunk sequence is per track, not per key.
    expect(v.sent.map((c) => decodeChunkMeta(c).sequence)).toEqual([0, 1, 2])
    const dec = new FrameDecryptor(bob, TAG)
    expect(v.sent.map((c) => ok(dec.decrypt(c, Date.now())).epoch)).toEqual([1n, 1n, 2n])
  })

  it('refuses to send for an epoch it has no key for, and after its member was removed', async () => {
    const [alice, bob] = await groupOf(1)
    const v = capturingTrack(bob, TrackContext.video, 5n)
    await expect(v.track.sendFrame(text('x'), { keyframe: true })).rejects.toSatisfy((e: unknown) => e instanceof FabricError && e.code === 'INVALID_STATE')
    const w = capturingTrack(bob, TrackContext.video)
    await commitAndDeliver(alice, await alice.prepareRemove([peer(1)]), [bob])
    expect(bob.removed).toBe(true)
    await expect(w.track.sendFrame(text('x'), { keyframe: true })).rejects.toSatisfy((e: unknown) => e instanceof FabricError && e.code === 'REMOVED')
    expect(v.sent).toEqual([])
    expect(w.sent).toEqual([])
  })
})

describe('FrameDecryptor refuses altered chunks and says who they came from', () => {
  it('a chunk whose clear track disagrees with its KID is MALFORMED, counted for the sender the metadata names', async () => {
    const [alice, bob] = await groupOf(2)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('frame'), { keyframe: true })
    const dec = new FrameDecryptor(bob, TAG)

    // Same sender, another of its tracks (context).
    const otherContext = notOk(dec.decrypt(setU32(v.sent[0], 12, makeTrack(0, TrackContext.audio)), Date.now()))
    expect(otherContext.reason).toBe('failure')
    expect(otherContext.error.code).toBe('MALFORMED')
    expect(otherContext.senderLeafIndex).toBe(0)
    expect(dec.bySender.get(0)).toMatchObject({ received: 1, decrypted: 0, failures: 1, failuresByCode: { MALFORMED: 1 } })

    // Another sender's track: the failure goes to the leaf the clear track names.
    const otherLeaf = notOk(dec.decrypt(setU32(v.sent[0], 12, makeTrack(2, TrackContext.video)), Date.now()))
    expect(otherLeaf.error.code).toBe('MALFORMED')
    expect(otherLeaf.senderLeafIndex).toBe(2)
    expect(dec.bySender.get(2)).toMatchObject({ received: 1, failures: 1, failuresByCode: { MALFORMED: 1 } })

    // A track naming leaf 65 536, above what any KID carries: refused by the parse.
    const tooWide = notOk(dec.decrypt(setU32(v.sent[0], 12, (MAX_LEAF_INDEX + 1) * 256), Date.now()))
    expect(tooWide.reason).toBe('failure')
    expect(tooWide.error.code).toBe('MALFORMED')
    expect(tooWide.error.message).toContain(`above ${MAX_LEAF_INDEX}`)
    expect(dec.bySender.has(MAX_LEAF_INDEX + 1)).toBe(false)

    // The genuine chunk still decrypts.
    expect(new TextDecoder().decode(ok(dec.decrypt(v.sent[0], Date.now())).payload)).toBe('frame')
    expect(dec.bySender.get(0)).toMatchObject({ received: 2, decrypted: 1, failures: 1 })
  })

  it('a tampered payload or tampered authenticated metadata fails with AUTH_FAILED and is counted', async () => {
    const [alice, bob] = await groupOf(1)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(new Uint8Array(100).fill(1), { keyframe: true })
    const dec = new FrameDecryptor(bob, TAG)
    const chunk = v.sent[0]

    const flipCipher = copy(chunk)
    flipCipher[CHUNK_META_LENGTH + 20] ^= 0x01
    const flipTag = copy(chunk)
    flipTag[flipTag.length - 1] ^= 0x80
    const otherSeq = setU32(chunk, 16, 12345)
    const flipKeyframe = copy(chunk)
    flipKeyframe[1] = 0
    for (const bad of [flipCipher, flipTag, otherSeq, flipKeyframe]) {
      const r = notOk(dec.decrypt(bad, Date.now()))
      expect(r.reason).toBe('failure')
      expect(r.error.code).toBe('AUTH_FAILED')
      expect(r.senderLeafIndex).toBe(0)
    }
    expect(dec.bySender.get(0)).toEqual({ received: 4, decrypted: 0, beforeKeys: 0, failures: 4, duplicates: 0, failuresByCode: { AUTH_FAILED: 4 } })
    expect(ok(dec.decrypt(chunk, Date.now())).payload).toEqual(new Uint8Array(100).fill(1))
  })

  it('a chunk that does not parse, or is for another stream, counts as malformed with no sender to blame', async () => {
    const [alice, bob] = await groupOf(1)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('x'), { keyframe: true })
    const dec = new FrameDecryptor(bob, streamTag(streamKey(OWNER, 'another-stream')))
    expect(notOk(dec.decrypt(v.sent[0], Date.now())).error.code).toBe('MALFORMED')
    expect(notOk(dec.decrypt(v.sent[0].slice(0, 10), Date.now())).error.code).toBe('MALFORMED')
    expect(dec.malformed).toBe(2)
    expect(dec.bySender.size).toBe(0)
    // The same name under another owner is another stream, with another tag.
    const sameName = new FrameDecryptor(bob, streamTag(streamKey(peer(1), STREAM)))
    expect(notOk(sameName.decrypt(v.sent[0], Date.now())).error.code).toBe('MALFORMED')
    expect(sameName.malformed).toBe(1)
  })
})

describe('FrameDecryptor across epochs', () => {
  it('a frame under an epoch it never had, before any frame of that track decrypted, is beforeKeys, not a failure', async () => {
    const [alice, bob] = await groupOf(1)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('before dave'), { keyframe: true })
    await v.track.sendFrame(text('before dave 2'), { keyframe: false })
    const dave = await makeJoiner(9)
    const add = await alice.prepareAdd([dave.keyPackage], { nowMs: Date.now() })
    await commitAndDeliver(alice, add, [bob])
    const daveSession = await dave.join(add.welcome!)
    expect(daveSession.epoch).toBe(2n)
    const dec = new FrameDecryptor(daveSession, TAG)

    for (const c of v.sent) {
      const r = notOk(dec.decrypt(c, Date.now()))
      expect(r.reason).toBe('before-keys')
      expect(r.error.code).toBe('UNKNOWN_KID')
      expect(r.senderLeafIndex).toBe(0)
    }
    expect(dec.bySender.get(0)).toEqual({ received: 2, decrypted: 0, beforeKeys: 2, failures: 0, duplicates: 0, failuresByCode: {} })

    await v.track.sendFrame(text('for dave'), { keyframe: true })
    expect(new TextDecoder().decode(ok(dec.decrypt(v.sent[2], Date.now())).payload)).toBe('for dave')
    // Once the track decrypted, a frame under an unknown key is a real failure.
    const late = notOk(dec.decrypt(v.sent[1], Date.now()))
    expect(late.reason).toBe('failure')
    expect(dec.bySender.get(0)).toEqual({ received: 4, decrypted: 1, beforeKeys: 2, failures: 1, duplicates: 0, failuresByCode: { UNKNOWN_KID: 1 } })
  })

  it('holds a frame of the next epoch until that epoch\'s Commit is processed, then decrypts it on retry', async () => {
    const [alice, bob] = await groupOf(2)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('epoch 1'), { keyframe: true })
    const dec = new FrameDecryptor(bob, TAG)
    expect(ok(dec.decrypt(v.sent[0], Date.now())).epoch).toBe(1n)

    // Alice removes Carol and switches keys at once; the Commit has not reached Bob yet.
    const remove = await alice.prepareRemove([peer(2)])
    await alice.applyPending(remove, Date.now())
    await v.track.sendFrame(text('epoch 2, first'), { keyframe: true })
    await v.track.sendFrame(text('epoch 2, second'), { keyframe: false })
    for (const c of v.sent.slice(1)) {
      const r = notOk(dec.decrypt(c, Date.now()))
      expect(r.reason).toBe('held')
      expect(r.senderLeafIndex).toBe(0)
    }
    // Held frames are not counted yet, either way.
    expect(dec.bySender.get(0)).toEqual({ received: 1, decrypted: 1, beforeKeys: 0, failures: 0, duplicates: 0, failuresByCode: {} })
    // Without the epoch, a retry within the time limit holds them again.
    expect(dec.retryHeld(Date.now()).map((r) => r.ok ? 'ok' : r.reason)).toEqual(['held', 'held'])

    await bob.processCommit(copy(remove.commit), Date.now())
    const retried = dec.retryHeld(Date.now()).map(ok)
    expect(retried.map((f) => new TextDecoder().decode(f.payload))).toEqual(['epoch 2, first', 'epoch 2, second'])
    expect(retried.map((f) => f.epoch)).toEqual([2n, 2n])
    expect(dec.retryHeld(Date.now())).toEqual([])
    expect(dec.bySender.get(0)).toEqual({ received: 3, decrypted: 3, beforeKeys: 0, failures: 0, duplicates: 0, failuresByCode: {} })
  })

  it('gives up on a held frame whose epoch never comes once its time is up', async () => {
    const [alice, bob] = await groupOf(1)
    const v = capturingTrack(alice, TrackContext.video)
    // Alice moves to epoch 2, but its Commit never reaches Bob.
    const fake = await alice.prepareAdd([(await makeJoiner(5)).keyPackage], { nowMs: Date.now() })
    await alice.applyPending(fake, Date.now())
    await v.track.sendFrame(text('orphan'), { keyframe: true })
    const dec = new FrameDecryptor(bob, TAG)
    expect(notOk(dec.decrypt(v.sent[0], Date.now())).reason).toBe('held')
    const [last] = dec.retryHeld(Date.now() + HELD_CHUNK_TTL_MS + 1_000)
    expect(notOk(last).reason).toBe('before-keys')
    expect(dec.retryHeld(Date.now())).toEqual([])
    expect(dec.bySender.get(0)).toMatchObject({ received: 1, decrypted: 0, beforeKeys: 1 })
  })

  it('a removed member cannot decrypt frames of the epoch after its removal', async () => {
    const [alice, bob, carol] = await groupOf(2)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('all three'), { keyframe: true })
    const carolDec = new FrameDecryptor(carol, TAG)
    const bobDec = new FrameDecryptor(bob, TAG)
    expect(ok(carolDec.decrypt(v.sent[0], Date.now())).sender).toBe(peer(0))
    expect(ok(bobDec.decrypt(v.sent[0], Date.now())).sender).toBe(peer(0))

    const remove = await alice.prepareRemove([peer(2)])
    await alice.applyPending(remove, Date.now())
    await bob.processCommit(copy(remove.commit), Date.now())
    const outcome = await carol.processCommit(copy(remove.commit), Date.now())
    expect(outcome.removedSelf).toBe(true)

    await v.track.sendFrame(text('without carol'), { keyframe: true })
    expect(new TextDecoder().decode(ok(bobDec.decrypt(v.sent[1], Date.now())).payload)).toBe('without carol')
    const refused = notOk(carolDec.decrypt(v.sent[1], Date.now()))
    expect(refused.reason).toBe('failure')
    expect(refused.error.code).toBe('UNKNOWN_KID')
    // Not even held as a next-epoch frame: the session is dead.
    expect(carolDec.retryHeld(Date.now())).toEqual([])
    // Names outlive the roster the removed member can no longer read.
    expect(carolDec.nameOf(0)).toBe(peer(0))
    expect(carolDec.bySender.get(0)).toMatchObject({ decrypted: 1, failures: 1 })
  })

  it('a removed member that has not processed its removal yet holds the frame, and never decrypts it', async () => {
    const [alice, bob, carol] = await groupOf(2)
    const v = capturingTrack(alice, TrackContext.video)
    const remove = await alice.prepareRemove([peer(2)])
    await alice.applyPending(remove, Date.now())
    await bob.processCommit(copy(remove.commit), Date.now())
    await v.track.sendFrame(text('secret'), { keyframe: true })

    const carolDec = new FrameDecryptor(carol, TAG)
    expect(notOk(carolDec.decrypt(v.sent[0], Date.now())).reason).toBe('held')
    expect((await carol.processCommit(copy(remove.commit), Date.now())).removedSelf).toBe(true)
    const [retried] = carolDec.retryHeld(Date.now())
    expect(retried.ok).toBe(false)
    expect(carolDec.bySender.get(0)?.decrypted).toBe(0)
  })
})
