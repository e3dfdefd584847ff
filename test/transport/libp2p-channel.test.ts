import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FrameBudget } from '../../src/transport/frame-budget.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { FabricError, TooLargeError } from '../../src/errors.js'
import { encodeFrame, FrameDecoder } from '../../src/wire/framing.js'
import { until, within } from '../timing.js'
import { startHosts, type HostPair } from './hosts.js'
import { hex } from '../crypto/helpers.js'


/** Deterministic pseudo-random bytes and sizes (mulberry32), so failures replay. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function bytes (n: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256)
  return out
}

async function collect (framed: Libp2pChannel, ms: number): Promise<Uint8Array[]> {
  return await within((async () => {
    const out: Uint8Array[] = []
    for await (const f of framed.frames()) out.push(f)
    return out
  })(), ms, 'reading frames')
}

describe('Libp2pChannel over real libp2p streams', () => {
  let hosts: HostPair

  beforeAll(async () => { hosts = await startHosts() })
  afterAll(async () => { await hosts?.stop() })

  it('carries frames intact and in order, from empty to well over one yamux window', async () => {
    const { client, server } = await hosts.open()
    const rand = prng(1)
    const sizes = [0, 1, 127, 128, 16_383, 16_384, 70_000, 300_000, 5, 1_000_000, 3]
    const frames = sizes.map((n) => bytes(n, rand))
    const tx = new Libp2pChannel(client, 2_000_000)
    const rx = new Libp2pChannel(server, 2_000_000)
    const reading = collect(rx, 20_000)
    for (const f of frames) await within(tx.send(f), 10_000, 'send')
    await tx.close()
    const got = await reading
    expect(got.map((f) => f.byteLength)).toEqual(sizes)
    expect(got.map(hex)).toEqual(frames.map(hex))
  })

  it('writeMany puts several frames in one write that arrive as separate frames', async () => {
    const { client, server } = await hosts.open()
    const rand = prng(2)
    const frames = Array.from({ length: 50 }, (_, i) => bytes(i * 37 % 500, rand))
    const tx = new Libp2pChannel(client, 1 << 20)
    const rx = new Libp2pChannel(server, 1 << 20)
    let sends = 0
    const send = client.send.bind(client)
    client.send = (data) => { sends++; return send(data) }
    const reading = collect(rx, 10_000)
    tx.writeMany(frames)
    tx.writeMany([frames[0]])
    await tx.close()
    const got = await reading
    expect(sends).toBe(2)
    expect(got.map(hex)).toEqual([...frames, frames[0]].map(hex))
  })

  it('next() reads frame by frame, rest() continues after it, and the end is reported', async () => {
    const { client, server } = await hosts.open()
    const tx = new Libp2pChannel(client, 1024)
    const rx = new Libp2pChannel(server, 1024)
    for (const s of ['one', 'two', 'three', 'four']) tx.write(new TextEncoder().encode(s))
    const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
    expect(dec(await rx.next(5_000))).toBe('one')
    expect(dec(await rx.next(5_000))).toBe('two')
    await tx.close()
    const rest: string[] = []
    await within((async () => { for await (const f of rx.rest()) rest.push(dec(f)) })(), 5_000, 'rest')
    expect(rest).toEqual(['three', 'four'])
    const ended = await rx.next(5_000).then(() => undefined, (err: unknown) => err)
    expect(ended).toBeInstanceOf(FabricError)
    expect((ended as FabricError).code).toBe('INVALID_STATE')
  })

  it('next(timeout) gives up with TIMEOUT when no frame comes', async () => {
    const { client, server } = await hosts.open()
    const rx = new Libp2pChannel(server, 1024)
    const err = await within(rx.next(50).then(() => undefined, (e: unknown) => e), 5_000, 'next with timeout')
    expect(err).toBeInstanceOf(FabricError)
    expect((err as FabricError).code).toBe('TIMEOUT')
    client.abort(new Error('test done'))
  })

  it('streams sharing a frame budget hold what their frames under way announce, and one that does not fit is reset', async () => {
    const budget = new FrameBudget(1000)
    const a = await hosts.open()
    const b = await hosts.open()
    const rxA = new Libp2pChannel(a.server, 10_000, { budget })
    const rxB = new Libp2pChannel(b.server, 10_000, { budget })
    const readA = collect(rxA, 20_000)
    const readB = collect(rxB, 20_000).then(() => 'ended', (err: unknown) => err)
    // A announces 800 bytes and sends half: it holds 800 until the frame is whole.
    const frameA = new Uint8Array(800).fill(1)
    const wireA = encodeFrame(frameA)
    a.client.send(wireA.subarray(0, 402))
    await until(() => budget.inFlight === 800, 5_000, 'A holding its frame')
    // B announces 500 and sends part of it: it does not fit, so B is reset and holds nothing.
    // (A frame that arrives whole in one read never counts: it is not parked.)
    b.client.send(encodeFrame(new Uint8Array(500)).subarray(0, 100))
    const errB = await readB
    expect(errB).toBeInstanceOf(Error)
    expect(budget.refused).toBe(1)
    expect(budget.inFlight).toBe(800)
    // A's frame completes: the bytes go back, and a frame of 900 fits again.
    a.client.send(wireA.subarray(402))
    await until(() => budget.inFlight === 0, 5_000, 'A giving back')
    const frameA2 = new Uint8Array(900).fill(2)
    const tx = new Libp2pChannel(a.client, 10_000)
    await tx.send(frameA2)
    await tx.close()
    const got = await readA
    expect(got.map((f) => f.byteLength)).toEqual([800, 900])
    expect(budget.inFlight).toBe(0)
  })

  it('refuses an inbound frame above its bound with TooLargeError', async () => {
    const { client, server } = await hosts.open()
    const rx = new Libp2pChannel(server, 100)
    new Libp2pChannel(client, 1 << 20).write(new Uint8Array(101))
    const err = await rx.next(5_000).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(TooLargeError)
    expect((err as TooLargeError).code).toBe('TOO_LARGE')
    client.abort(new Error('test done'))
  })

  it('a FrameDecoder reassembles frames from whatever chunks the transport delivers', async () => {
    const { client, server } = await hosts.open()
    const rand = prng(3)
    const frames = Array.from({ length: 300 }, () => bytes(Math.floor(rand() ** 3 * 200_000), rand))
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f)))
    const decoder = new FrameDecoder(200_000)
    let chunks = 0
    const reading = within((async () => {
      const out: Uint8Array[] = []
      for await (const chunk of server) {
        chunks++
        out.push(...decoder.push(chunk))
      }
      return out
    })(), 30_000, 'decoding')
    // Cut the byte stream at arbitrary points, prefixes included, and let the
    // transport re-chunk it as it likes.
    for (let at = 0; at < wire.length;) {
      const n = 1 + Math.floor(rand() ** 2 * 100_000)
      if (!client.send(wire.subarray(at, at + n))) await within(client.onDrain(), 10_000, 'drain')
      at += n
    }
    await client.close()
    const got = await reading
    expect(decoder.bufferedBytes).toBe(0)
    expect(got.length).toBe(frames.length)
    expect(got.map(hex)).toEqual(frames.map(hex))
    expect(chunks).toBeGreaterThan(1)
  })

  it('drained() resolves at once when the stream needs no drain, and send() completes', async () => {
    const { client, server } = await hosts.open()
    const tx = new Libp2pChannel(client, 1024)
    expect(client.writableNeedsDrain).toBe(false)
    await within(tx.drained(), 1_000, 'drained')
    await within(tx.send(Uint8Array.of(1, 2, 3)), 5_000, 'send')
    expect([...await new Libp2pChannel(server, 1024).next(5_000)]).toEqual([1, 2, 3])
    tx.abort(new Error('test done'))
    await until(() => server.status !== 'open', 5_000, 'remote reset seen')
  })
})
