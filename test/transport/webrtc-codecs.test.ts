/**
 * Property tests of the WebRTC transport's codecs and policies (protocol/
 * webrtc.md): the SDP fingerprint reader, the binding handshake (an honest
 * run always binds; any change to any message, and any disagreement on the
 * fingerprints, is refused with a typed error), and the data-channel
 * framing (frames arrive whole and in order however messages are split,
 * FIN half-closes, anything else is refused and loses nothing).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isFabricError } from '../../src/errors.js'
import { identityFromSeed } from '../../src/session/identity.js'
import { BindingInitiator, BindingResponder } from '../../src/transport/webrtc/binding.js'
import { DataChannelChannel, MAX_QUEUED_INBOUND_BYTES } from '../../src/transport/webrtc/data-channel.js'
import { sha256Fingerprint, MAX_SDP_BYTES } from '../../src/transport/webrtc/sdp.js'
import { signalRefusal } from '../../src/transport/webrtc/signal.js'
import { memoryPortPair } from './memory-ports.js'

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })
const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':')
const sdpWith = (fps: string[]): string => ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', ...fps.map((f) => `a=fingerprint:sha-256 ${f}`), 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', ''].join('\r\n')

function throwsFabric (f: () => unknown): string {
  try {
    f()
  } catch (err) {
    if (!isFabricError(err)) throw err
    return err.code
  }
  return 'no error'
}

describe('sha256Fingerprint', () => {
  it('reads back any fingerprint, at session or media level, repeated or not', () => {
    fc.assert(fc.property(bytes(32), fc.integer({ min: 1, max: 3 }), (fp, times) => {
      expect(sha256Fingerprint(sdpWith(Array(times).fill(hex(fp))))).toEqual(fp)
      expect(sha256Fingerprint(sdpWith([hex(fp).toLowerCase()]))).toEqual(fp)
    }))
  })

  it('refuses two different fingerprints, none, malformed ones, and oversized SDP, with typed errors only', () => {
    fc.assert(fc.property(bytes(32), bytes(32), (a, b) => {
      fc.pre(hex(a) !== hex(b))
      expect(throwsFabric(() => sha256Fingerprint(sdpWith([hex(a), hex(b)])))).toBe('MALFORMED')
    }))
    expect(throwsFabric(() => sha256Fingerprint(sdpWith([])))).toBe('MALFORMED')
    expect(throwsFabric(() => sha256Fingerprint(sdpWith(['AB:CD'])))).toBe('MALFORMED')
    expect(throwsFabric(() => sha256Fingerprint('x'.repeat(MAX_SDP_BYTES + 1)))).toBe('TOO_LARGE')
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => {
      const code = throwsFabric(() => sha256Fingerprint(s))
      expect(['MALFORMED', 'no error']).toContain(code)
    }))
  })
})

describe('binding handshake', () => {
  const sides = fc.record({ member: bytes(32), node: bytes(32), offer: bytes(32), answer: bytes(32), mn: bytes(32), nn: bytes(32) })

  it('binds both identities in an honest run', () => {
    fc.assert(fc.property(sides, (s) => {
      const member = identityFromSeed(s.member)
      const node = identityFromSeed(s.node)
      const fp = { offer: s.offer, answer: s.answer }
      const init = new BindingInitiator(member, fp, node.peerId, s.mn)
      const resp = new BindingResponder(node, fp, s.nn)
      const proof = resp.receive(init.hello())
      const memberProof = init.receive(proof)
      expect(memberProof).toBeInstanceOf(Uint8Array)
      expect(init.receive(resp.receive(memberProof as Uint8Array))).toBe('done')
      expect(init.nodePeer).toBe(node.peerId)
      expect(resp.memberPeer).toBe(member.peerId)
    }), { numRuns: 40 })
  })

  it('refuses any flipped bit in either proof, and sides that saw different fingerprints (a party in the middle)', () => {
    fc.assert(fc.property(sides, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean(), (s, at, bit, flipNode) => {
      const member = identityFromSeed(s.member)
      const node = identityFromSeed(s.node)
      const fp = { offer: s.offer, answer: s.answer }
      const init = new BindingInitiator(member, fp, undefined, s.mn)
      const resp = new BindingResponder(node, fp, s.nn)
      const proof = resp.receive(init.hello())
      if (flipNode) {
        const bad = Uint8Array.from(proof)
        bad[at % bad.length]! ^= 1 << bit
        expect(['MALFORMED', 'IDENTITY_MISMATCH']).toContain(throwsFabric(() => init.receive(bad)))
        return
      }
      const memberProof = Uint8Array.from(init.receive(proof) as Uint8Array)
      memberProof[at % memberProof.length]! ^= 1 << bit
      expect(['MALFORMED', 'IDENTITY_MISMATCH']).toContain(throwsFabric(() => resp.receive(memberProof)))
      expect(resp.memberPeer).toBeUndefined()
    }), { numRuns: 60 })
    fc.assert(fc.property(sides, bytes(32), (s, other) => {
      fc.pre(hex(other) !== hex(s.answer))
      const init = new BindingInitiator(identityFromSeed(s.member), { offer: s.offer, answer: other }, undefined, s.mn)
      const resp = new BindingResponder(identityFromSeed(s.node), { offer: s.offer, answer: s.answer }, s.nn)
      expect(throwsFabric(() => init.receive(resp.receive(init.hello())))).toBe('IDENTITY_MISMATCH')
    }), { numRuns: 20 })
  })

  it('answers arbitrary bytes with typed errors only', () => {
    fc.assert(fc.property(sides, fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (s, x, y) => {
      const resp = new BindingResponder(identityFromSeed(s.node), { offer: s.offer, answer: s.answer }, s.nn)
      const init = new BindingInitiator(identityFromSeed(s.member), { offer: s.offer, answer: s.answer }, undefined, s.mn)
      init.hello()
      for (const [side, msg] of [[resp, x], [init, y]] as const) {
        const code = throwsFabric(() => side.receive(msg))
        expect(code === 'no error' || code === 'MALFORMED' || code === 'IDENTITY_MISMATCH').toBe(true)
      }
    }), { numRuns: 200 })
  })
})

describe('data-channel framing', () => {
  const opts = { maxFrameLength: 1 << 20 }
  const peer = { remotePeer: 'p', connectionId: 'c' }

  it('delivers every frame whole and in order however messages are split, then ends on FIN', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 40_000 }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }),
      async (frames, cuts) => {
        let k = 0
        const [a, b] = memoryPortPair('/t/1', (n) => { const out: number[] = []; let left = n; while (left > 0) { const c = Math.min(left, cuts[k++ % cuts.length]!); out.push(c); left -= c } return out })
        const tx = new DataChannelChannel(a, opts, peer)
        const rx = new DataChannelChannel(b, opts, peer)
        for (const f of frames) tx.write(f)
        await tx.close()
        const got: Uint8Array[] = []
        for await (const f of rx.frames()) got.push(Uint8Array.from(f))
        expect(got).toEqual(frames)
        await rx.close()
        await new Promise((r) => setTimeout(r, 0))
        expect(tx.isOpen).toBe(false)
        expect(rx.isOpen).toBe(false)
      }), { numRuns: 60 })
  })

  it('refuses text other than one FIN, bytes after FIN and a FIN mid-frame, as MALFORMED', async () => {
    for (const bad of [['hello'], ['FIN', 'FIN'], ['FIN', new Uint8Array([1, 0])], [new Uint8Array([5, 1]), 'FIN']] as Array<Array<Uint8Array | string>>) {
      const [a, b] = memoryPortPair()
      const rx = new DataChannelChannel(b, opts, peer)
      for (const m of bad) a.send(m)
      const err = await (async () => { for await (const _ of rx.frames()) { /* drain */ } })().then(() => undefined, (e: unknown) => e)
      expect(isFabricError(err) && err.code).toBe('MALFORMED')
      expect(a.closed).toBe(true)
    }
  })

  it('resets a channel whose unread frames pass the queue bound, and one whose frame passes its bound', async () => {
    const [a, b] = memoryPortPair()
    const tx = new DataChannelChannel(a, opts, peer)
    const rx = new DataChannelChannel(b, opts, peer)
    rx.pause()
    const frame = new Uint8Array(512 * 1024)
    for (let i = 0; i <= MAX_QUEUED_INBOUND_BYTES / frame.length; i++) tx.write(frame)
    await new Promise((r) => setTimeout(r, 10))
    expect(rx.isOpen).toBe(false)
    const closed = await new Promise<Error | undefined>((resolve) => { rx.onClose(resolve) })
    expect(isFabricError(closed) && closed.code).toBe('QUOTA_EXCEEDED')

    const [c, d] = memoryPortPair()
    const small = new DataChannelChannel(d, { maxFrameLength: 100 }, peer)
    new DataChannelChannel(c, opts, peer).write(new Uint8Array(101))
    const err = await small.next().then(() => undefined, (e: unknown) => e)
    expect(isFabricError(err) && err.code).toBe('TOO_LARGE')
  })
})

describe('signalling refusals', () => {
  it('maps any answer body to a FabricError: a refusal keeps its code, anything else is UNREACHABLE', () => {
    expect(signalRefusal(429, JSON.stringify({ code: 'QUOTA_EXCEEDED', message: 'full' })).code).toBe('QUOTA_EXCEEDED')
    expect(signalRefusal(500, JSON.stringify({ code: 'NOT_A_CODE', message: 'x' })).code).toBe('UNREACHABLE')
    fc.assert(fc.property(fc.integer({ min: 100, max: 599 }), fc.string({ maxLength: 300 }), (status, body) => {
      const err = signalRefusal(status, body)
      expect(isFabricError(err)).toBe(true)
      expect(err.message.length).toBeLessThan(700)
    }))
  })
})
