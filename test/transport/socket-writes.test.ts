import { createHash } from 'node:crypto'
import { createServer, connect, Socket } from 'node:net'
import type { Connection } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { gatherSocketWrites } from '../../src/transport/libp2p/socket-writes.js'
import { framePrefix } from '../../src/wire/framing.js'
import { startHosts, type HostPair } from './hosts.js'
import { until } from '../timing.js'

/**
 * Counts the writes handed to the kernel on both ends of the pair's TCP
 * connection: each `_writeGeneric` call of a net.Socket (what `write` and
 * the corked `writev` both come down to) is one write or writev syscall. A
 * per-socket count, not /proc/self/io's process-wide one, which the test
 * runner's own IPC writes inflated on a loaded machine (2.6 per frame once).
 * @returns a function giving the count so far
 */
function countSocketWrites (pair: HostPair): () => number {
  let writes = 0
  for (const host of [pair.client, pair.server]) {
    for (const conn of host.getConnections()) {
      const socket = (conn as unknown as { maConn?: { socket?: Socket } }).maConn?.socket
      if (!(socket instanceof Socket)) throw new Error('no TCP socket under the connection')
      const s = socket as unknown as { _writeGeneric: (...args: unknown[]) => unknown }
      const original = s._writeGeneric.bind(socket)
      s._writeGeneric = (...args: unknown[]) => { writes++; return original(...args) }
    }
  }
  return () => writes
}

const FRAMES = 200

/**
 * Sends FRAMES three-piece frames (prefix, body, tail, as the relay writes
 * them) over real hosts and returns write syscalls per frame and whether
 * the bytes arrived intact.
 */
async function writesPerFrame (pair: HostPair): Promise<{ perFrame: number, intact: boolean }> {
  const { client, server } = await pair.open()
  const received = createHash('sha256')
  let receivedBytes = 0
  void (async () => {
    for await (const buf of server) {
      const bytes = buf.subarray()
      received.update(bytes)
      receivedBytes += bytes.byteLength
    }
  })()
  const framed = new Libp2pChannel(client, 1 << 20)
  const sent = createHash('sha256')
  const body = new Uint8Array(9000).fill(7)
  const tail = new Uint8Array(16).fill(9)
  const head = framePrefix(body.byteLength + tail.byteLength)
  let total = 0
  const writeCount = countSocketWrites(pair)
  const before = writeCount()
  for (let i = 0; i < FRAMES; i++) {
    framed.writeWire([{ head, body, tail, byteLength: head.byteLength + body.byteLength + tail.byteLength }])
    sent.update(head).update(body).update(tail)
    total += head.byteLength + body.byteLength + tail.byteLength
    // One frame per event-loop turn, as paced media arrives.
    await new Promise((resolve) => setImmediate(resolve))
  }
  const perFrame = (writeCount() - before) / FRAMES
  await until(() => receivedBytes >= total, 10_000, 'all bytes received')
  return { perFrame, intact: received.digest('hex') === sent.digest('hex') }
}

describe('gathered socket writes', () => {
  let pair: HostPair | undefined
  afterEach(async () => { await pair?.stop(); pair = undefined })

  it('sends a frame of several buffers as one write syscall, bytes intact', async () => {
    pair = await startHosts()
    const result = await writesPerFrame(pair)
    expect(result.intact).toBe(true)
    // One write for the frame, one for the receiver's yamux window update
    // (yamux 8 answers every data frame with one); plain sends 8 here.
    expect(result.perFrame).toBeLessThan(2.5)
  })

  it('plain @libp2p/tcp writes each buffer on its own (what the hook removes)', async () => {
    pair = await startHosts({ gatherWrites: false })
    const result = await writesPerFrame(pair)
    expect(result.intact).toBe(true)
    expect(result.perFrame).toBeGreaterThanOrEqual(4)
  })

  it('leaves connections of other shapes alone', () => {
    expect(gatherSocketWrites({} as unknown as Connection)).toBe(false)
    expect(gatherSocketWrites({ maConn: { socket: {}, sendData: () => ({}) } } as unknown as Connection)).toBe(false)
  })

  it('reports back-pressure when the socket is full and loses nothing', async () => {
    let serverSide: Socket | undefined
    let receivedBytes = 0
    const srv = createServer((s) => {
      serverSide = s
      s.pause()
      s.on('data', (b: Buffer) => { receivedBytes += b.byteLength })
    })
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
    const port = (srv.address() as { port: number }).port
    const socket = connect({ port, host: '127.0.0.1', noDelay: true })
    await new Promise((resolve) => socket.once('connect', resolve))
    const maConn = { socket, sendData: (_: Iterable<Uint8Array>) => ({ sentBytes: 0, canSendMore: true }) }
    expect(gatherSocketWrites({ maConn } as unknown as Connection)).toBe(true)
    expect(gatherSocketWrites({ maConn } as unknown as Connection)).toBe(true)
    const piece = new Uint8Array(64 * 1024)
    let total = 0
    let canSendMore = true
    // The reader is paused: the kernel buffers fill and the socket queues the rest.
    for (let i = 0; i < 2048 && canSendMore; i++) {
      const r = maConn.sendData([piece.subarray(0, 2), piece, piece.subarray(0, 16)])
      expect(r.sentBytes).toBe(2 + piece.byteLength + 16)
      total += r.sentBytes
      canSendMore = r.canSendMore
    }
    expect(canSendMore).toBe(false)
    await until(() => serverSide !== undefined, 5_000, 'server socket')
    serverSide!.resume()
    await until(() => receivedBytes === total, 10_000, 'all queued bytes delivered')
    socket.destroy()
    serverSide!.destroy()
    await new Promise((resolve) => srv.close(resolve))
  })
})
