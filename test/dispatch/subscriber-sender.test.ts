import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { FlushScheduler, SubscriberSender, type WireFrame } from '../../src/dispatch/subscriber-sender.js'
import { SubscriberQueue } from '../../src/relay/subscriber-queue.js'
import { framePrefix } from '../../src/wire/framing.js'
import { until, within } from '../timing.js'
import { startHosts, type HostPair } from '../transport/hosts.js'
import { hex } from '../crypto/helpers.js'


/** Frame i: `size` bytes, the index in the first 4, so order and content are both checked. */
function frame (i: number, size: number): Uint8Array {
  const f = new Uint8Array(size)
  new DataView(f.buffer).setUint32(0, i)
  for (let j = 4; j < size; j++) f[j] = (i * 31 + j) & 0xff
  return f
}

/**
 * A payload as a wire frame: its varint length prefix in `head`, the payload
 * in `body`, nothing in `tail`. The receiver's FrameDecoder yields the payload.
 */
function wire (payload: Uint8Array): WireFrame {
  const head = framePrefix(payload.byteLength)
  return { head, body: payload, tail: new Uint8Array(0), byteLength: head.byteLength + payload.byteLength }
}

/** A relay-like source: a SubscriberQueue with room for everything, counting take calls. */
class Source {
  readonly queue = new SubscriberQueue<WireFrame>(1 << 30, 1 << 20)
  takes = 0
  readonly take = (maxBytes: number): WireFrame[] => {
    this.takes++
    return this.queue.take(maxBytes)
  }

  /** Queues payloads, each framed as `wire` does. */
  push (...payloads: Uint8Array[]): void {
    for (const p of payloads) expect(this.queue.push(wire(p), 0, false)).toBe('queued')
  }
}

/** Reads frames from `framed` into `into` until the stream ends. */
async function readAll (framed: Libp2pChannel, into: Uint8Array[]): Promise<void> {
  for await (const f of framed.frames()) into.push(f)
}

const tick = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

describe('SubscriberSender over real libp2p streams', () => {
  let hosts: HostPair

  beforeAll(async () => { hosts = await startHosts() })
  afterAll(async () => { await hosts?.stop() })

  it('delivers every queued frame intact and in order, coalescing them into few writes', async () => {
    const { client, server } = await hosts.open()
    const src = new Source()
    const failures: Error[] = []
    const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, (e) => failures.push(e))
    const got: Uint8Array[] = []
    const reading = readAll(new Libp2pChannel(server, 1 << 20), got)
    const frames = Array.from({ length: 200 }, (_, i) => frame(i, 100 + (i % 7) * 50))
    src.push(...frames)
    sender.flush()
    await until(() => !sender.busy, 10_000, 'sender idle')
    expect(sender.writes).toBe(1)

    // More frames while idle: the next flush picks them up.
    const more = Array.from({ length: 20 }, (_, i) => frame(200 + i, 64))
    src.push(...more)
    sender.flush()
    await until(() => !sender.busy && src.queue.length === 0, 10_000, 'second batch written')
    await client.close()
    await within(reading, 10_000, 'reading')
    expect(got.map(hex)).toEqual([...frames, ...more].map(hex))
    expect(failures).toEqual([])
    expect(sender.writes).toBe(2)
    expect(sender.drainWaits).toBe(0)
  })

  it('takes at most batchBytes per write', async () => {
    const { client, server } = await hosts.open()
    const src = new Source()
    const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, () => {}, 1000)
    const got: Uint8Array[] = []
    const reading = readAll(new Libp2pChannel(server, 1 << 20), got)
    const frames = Array.from({ length: 10 }, (_, i) => frame(i, 300))
    src.push(...frames)
    sender.flush()
    await until(() => !sender.busy, 10_000, 'sender idle')
    await client.close()
    await within(reading, 10_000, 'reading')
    // 3 frames (3 x (2-byte prefix + 300) = 906 bytes) per write: 4 writes for 10 frames.
    expect(wire(frames[0]).byteLength).toBe(302)
    expect(sender.writes).toBe(4)
    expect(got.map(hex)).toEqual(frames.map(hex))
  })

  it('waits for drain when the reader pauses, and resumes when it reads again', async () => {
    const { client, server } = await hosts.open((s) => { s.pause() })
    const src = new Source()
    const failures: Error[] = []
    const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, (e) => failures.push(e), 64 * 1024)
    const got: Uint8Array[] = []
    const reading = readAll(new Libp2pChannel(server, 1 << 20), got)
    // 4 MiB, far beyond the paused receiver's window. Each frame is 32 KiB on
    // the wire (3-byte prefix + payload), so two fill one 64 KiB batch.
    const frames = Array.from({ length: 128 }, (_, i) => frame(i, 32 * 1024 - 3))
    expect(wire(frames[0]).byteLength).toBe(32 * 1024)
    src.push(...frames)
    sender.flush()
    await until(() => sender.drainWaits > 0, 10_000, 'a drain wait')
    // Stalled: the task waits, the rest stays in the queue, and flush() does not start a second task.
    const takesWhileStalled = src.takes
    for (let i = 0; i < 5; i++) {
      sender.flush()
      await tick()
    }
    expect(sender.busy).toBe(true)
    expect(src.takes).toBe(takesWhileStalled)
    expect(src.queue.length).toBeGreaterThan(0)
    expect(got).toHaveLength(0)

    server.resume()
    await until(() => !sender.busy && src.queue.length === 0, 20_000, 'queue drained after resume')
    await client.close()
    await within(reading, 20_000, 'reading')
    expect(got.length).toBe(frames.length)
    expect(got.map(hex)).toEqual(frames.map(hex))
    expect(failures).toEqual([])
    expect(sender.writes).toBeLessThan(frames.length)
  })

  it('reports a stream it cannot write to once, and stops', async () => {
    const { client, server } = await hosts.open()
    const src = new Source()
    const failures: Error[] = []
    const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, (e) => failures.push(e))
    await client.close()
    src.push(frame(0, 10), frame(1, 10))
    sender.flush()
    await until(() => !sender.busy, 5_000, 'sender stopped')
    src.push(frame(2, 10))
    const takes = src.takes
    for (let i = 0; i < 3; i++) {
      sender.flush()
      await tick()
    }
    expect(failures).toHaveLength(1)
    expect(failures[0]).toBeInstanceOf(Error)
    expect(src.takes).toBe(takes)
    server.abort(new Error('test done'))
  })

  it('reports once when the subscriber resets its stream while the sender waits for drain', async () => {
    const { client, server } = await hosts.open((s) => { s.pause() })
    const src = new Source()
    const failures: Error[] = []
    const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, (e) => failures.push(e), 64 * 1024)
    src.push(...Array.from({ length: 64 }, (_, i) => frame(i, 32 * 1024)))
    sender.flush()
    await until(() => sender.drainWaits > 0, 10_000, 'a drain wait')
    server.abort(new Error('subscriber went away'))
    await until(() => failures.length > 0, 10_000, 'failure reported')
    await until(() => !sender.busy, 5_000, 'sender stopped')
    for (let i = 0; i < 3; i++) {
      sender.flush()
      await tick()
    }
    expect(failures).toHaveLength(1)
  })

  it('stop() ends the task: later flushes write nothing', async () => {
    const { client, server } = await hosts.open()
    const src = new Source()
    const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, () => {})
    sender.stop()
    src.push(frame(0, 10))
    sender.flush()
    await tick()
    expect(sender.writes).toBe(0)
    expect(src.takes).toBe(0)
    expect(src.queue.length).toBe(1)
    client.abort(new Error('test done'))
    server.abort(new Error('test done'))
  })
})

describe('FlushScheduler over real libp2p streams', () => {
  let hosts: HostPair

  beforeAll(async () => { hosts = await startHosts() })
  afterAll(async () => { await hosts?.stop() })

  it('turns a burst of wake-ups into one write per sender on the next turn', async () => {
    const scheduler = new FlushScheduler()
    // Opened one after the other: the handler pairs inbound streams with dials in order.
    const pairs = [await hosts.open(), await hosts.open()]
    const subs = pairs.map(({ client, server }) => {
      const src = new Source()
      const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, () => {})
      const got: Uint8Array[] = []
      const reading = readAll(new Libp2pChannel(server, 1 << 20), got)
      return { client, src, sender, got, reading }
    })
    const sent: Uint8Array[] = []
    // A forward path: 30 chunks, each waking both senders synchronously.
    for (let i = 0; i < 30; i++) {
      const f = frame(i, 200)
      sent.push(f)
      for (const s of subs) {
        s.src.push(f)
        scheduler.wake(s.sender)
      }
    }
    // Nothing is written synchronously.
    for (const s of subs) expect(s.sender.writes).toBe(0)
    await tick()
    await until(() => subs.every((s) => !s.sender.busy), 10_000, 'senders idle')
    for (const s of subs) {
      expect(s.sender.writes).toBe(1)
      expect(s.src.takes).toBeLessThanOrEqual(2)
      await s.client.close()
      await within(s.reading, 10_000, 'reading')
      expect(s.got.map(hex)).toEqual(sent.map(hex))
    }
  })

  it('wakes again after a flush: later bursts get their own write', async () => {
    const scheduler = new FlushScheduler()
    const { client, server } = await hosts.open()
    const src = new Source()
    const sender = new SubscriberSender(new Libp2pChannel(client, 1 << 20), src.take, () => {})
    const got: Uint8Array[] = []
    const reading = readAll(new Libp2pChannel(server, 1 << 20), got)
    for (let burst = 0; burst < 3; burst++) {
      for (let i = 0; i < 5; i++) {
        src.push(frame(burst * 5 + i, 50))
        scheduler.wake(sender)
      }
      await until(() => !sender.busy && src.queue.length === 0, 10_000, `burst ${burst} written`)
    }
    expect(sender.writes).toBe(3)
    await client.close()
    await within(reading, 10_000, 'reading')
    expect(got.map((f) => new DataView(f.buffer, f.byteOffset).getUint32(0))).toEqual(Array.from({ length: 15 }, (_, i) => i))
  })
})
