/**
 * The libp2p adapter of the transport seam (src/transport/channel.ts): one
 * libp2p stream as a FrameChannel. Length-prefixed frames in and out
 * (protocol/framing.md), drain-aware writes. Writes never copy payloads: a
 * frame goes out as a Uint8ArrayList of its varint prefix and the payload.
 * This module and its siblings are the only code that touches libp2p
 * streams.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { FabricError } from '../../errors.js'
import { FrameDecoder, framePrefix, type WireFrame } from '../../wire/framing.js'
import type { FrameBudget } from '../frame-budget.js'
import { FrameDeadline, nextFrame } from '../next-frame.js'
import type { ChannelOptions, FrameChannel } from '../channel.js'

const EMPTY = new Uint8Array(0)

/** The channel options beyond the frame bound, which the constructor takes on its own (src/transport/channel.ts). */
export type Libp2pChannelOptions = Omit<ChannelOptions, 'maxFrameLength'>

/** Who is at the other end of a channel: the connection's authenticated peer and its id. */
export interface ChannelPeer {
  /** The remote peer id string (noise-authenticated, Ed25519). */
  remotePeer: string
  /** The libp2p connection id. */
  connectionId: string
}

/** The peer of `connection` as a ChannelPeer. */
export function channelPeerOf (connection: Pick<Connection, 'remotePeer' | 'id'>): ChannelPeer {
  return { remotePeer: connection.remotePeer.toString(), connectionId: connection.id }
}

const UNKNOWN_PEER: ChannelPeer = { remotePeer: '', connectionId: '' }

export class Libp2pChannel implements FrameChannel {
  /** The libp2p stream; only the adapter and its tests reach it. */
  readonly stream: Stream
  readonly remotePeer: string
  readonly connectionId: string
  private readonly decoder: FrameDecoder
  private readonly budget: FrameBudget | undefined
  private readonly clock: (() => number) | undefined
  /** When the transport read that delivered the latest frames happened, ms (ChannelOptions.clock); NaN without a clock. */
  lastReadAtMs = Number.NaN
  private iterator: AsyncIterator<Uint8Array> | undefined
  private readonly deadline: FrameDeadline
  /** Bytes of the budget this stream holds now. */
  private held = 0

  /**
   * @param stream an open libp2p stream
   * @param maxFrameLength bound of one inbound frame, bytes (TooLargeError beyond)
   * @param peer the stream's connection (channelPeerOf); absent in tests
   *   over bare streams, where `remotePeer` is ''
   */
  constructor (stream: Stream, maxFrameLength: number, options: Libp2pChannelOptions = {}, peer: ChannelPeer = UNKNOWN_PEER) {
    this.stream = stream
    this.remotePeer = peer.remotePeer
    this.connectionId = peer.connectionId
    this.decoder = new FrameDecoder(maxFrameLength)
    this.deadline = new FrameDeadline(options.frameDeadlineMs ?? 0, (err) => { this.stream.abort(err) })
    this.budget = options.budget
    this.clock = options.clock
  }

  /** A channel over `stream` with the options of the seam. */
  static of (stream: Stream, options: ChannelOptions, peer?: ChannelPeer): Libp2pChannel {
    return new Libp2pChannel(stream, options.maxFrameLength, options, peer)
  }

  get protocol (): string { return this.stream.protocol }

  get bufferedBytes (): number { return this.stream.writeBufferLength }

  get needsDrain (): boolean { return this.stream.writableNeedsDrain }

  get isOpen (): boolean { return this.stream.status === 'open' }

  /** Bound of inbound frames not yet announced, bytes; settable as a peer's role changes. */
  get maxFrameLength (): number { return this.decoder.maxFrameLength }
  set maxFrameLength (n: number) { this.decoder.maxFrameLength = n }

  /**
   * Inbound frames in order; ends when the remote closes its write side.
   * Only one consumer may iterate. Throws TooLargeError/MalformedError when
   * the peer breaks framing (the stream is then unusable), and the stream
   * is reset when a frame misses its deadline (ChannelOptions).
   */
  async * frames (): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of this.stream) {
        if (this.clock !== undefined) this.lastReadAtMs = this.clock()
        const frames = this.decoder.push(chunk)
        this.deadline.watch(this.decoder.midFrame, frames.length > 0)
        if (this.budget !== undefined) this.holdAnnounced(this.budget)
        for (const frame of frames) yield frame
      }
    } finally {
      this.deadline.clear()
      if (this.budget !== undefined) this.budget.give(this.held)
      this.held = 0
    }
  }

  /** Holds exactly the declared length of the frame under way against the shared budget. */
  private holdAnnounced (budget: FrameBudget): void {
    const announced = this.decoder.announcedBytes
    if (announced === this.held) return
    if (announced < this.held) {
      budget.give(this.held - announced)
      this.held = announced
    } else if (budget.take(announced - this.held)) {
      this.held = announced
    } else {
      this.stream.abort(new FabricError('QUOTA_EXCEEDED', `a ${announced}-byte frame does not fit the node's budget of frames under way (${budget.capacity} bytes)`))
    }
  }




  /**
   * Reads the next inbound frame.
   * @param timeoutMs give up after this long (FabricError TIMEOUT); 0 = wait forever.
   *   A timed-out read stays pending on the shared iterator and takes the
   *   next frame when it comes, so treat TIMEOUT as the end of the stream
   *   (every caller does: it closes or aborts it).
   * @throws FabricError('INVALID_STATE') when the stream ended first
   */
  async next (timeoutMs = 0): Promise<Uint8Array> {
    this.iterator ??= this.frames()
    return await nextFrame(this.iterator, timeoutMs)
  }


  /** Iterates the rest of the inbound frames after any `next` calls. */
  rest (): AsyncIterable<Uint8Array> {
    this.iterator ??= this.frames()
    const it = this.iterator
    return { [Symbol.asyncIterator]: () => it }
  }

  /**
   * Queues one frame. @returns false when the caller should wait for
   * `drained()` before writing more.
   * @throws when the stream is closed for writing
   */
  write (frame: Uint8Array): boolean {
    return this.stream.send(new Uint8ArrayList(framePrefix(frame.byteLength), frame))
  }

  /**
   * Queues several payloads as one transport write, each with its own
   * length prefix. @returns as `write`.
   */
  writeMany (frames: readonly Uint8Array[]): boolean {
    if (frames.length === 1) return this.write(frames[0])
    return this.writeWire(frames.map((body) => {
      const head = framePrefix(body.byteLength)
      return { head, body, tail: EMPTY, byteLength: head.byteLength + body.byteLength }
    }))
  }

  /**
   * Queues frames that already carry their length prefix (WireFrame) as one
   * gather write: small writes cost far more per byte than one coalesced
   * write, and the pieces are sent as they are, never joined.
   * @returns false when the caller should wait for `drained()`
   */
  writeWire (frames: readonly WireFrame[]): boolean {
    const list = new Uint8ArrayList()
    for (const f of frames) {
      list.append(f.head)
      if (f.body.byteLength > 0) list.append(f.body)
      if (f.tail.byteLength > 0) list.append(f.tail)
    }
    return this.stream.send(list)
  }

  /**
   * Resolves when the stream accepts writes again and holds at most
   * `lowWaterBytes` unsent; rejects when it closes first. Checks the buffer
   * itself on every 'drain' and 'idle': yamux fires 'drain' on each window
   * update while bytes are still queued, and `stream.onDrain()` in
   * @libp2p/utils 7.4.1 resolves at once after the first drain, so neither
   * alone means "the transport has caught up".
   */
  async drained (lowWaterBytes = 0): Promise<void> {
    const s = this.stream
    const ready = (): boolean => !s.writableNeedsDrain && s.writeBufferLength <= lowWaterBytes
    if (ready()) return
    await new Promise<void>((resolve, reject) => {
      const onProgress = (): void => { if (ready()) { cleanup(); resolve() } }
      const onClose = (): void => { cleanup(); reject(new FabricError('INVALID_STATE', 'stream closed while waiting to drain')) }
      const cleanup = (): void => {
        s.removeEventListener('drain', onProgress)
        s.removeEventListener('idle', onProgress)
        s.removeEventListener('close', onClose)
      }
      s.addEventListener('drain', onProgress)
      s.addEventListener('idle', onProgress)
      s.addEventListener('close', onClose)
    })
  }

  /** Writes one frame and waits until the stream accepts more. */
  async send (frame: Uint8Array): Promise<void> {
    if (!this.write(frame)) await this.drained()
  }

  /** Half-closes our write side after queued bytes are written; never throws. */
  async close (): Promise<void> {
    try { await this.stream.close() } catch { this.stream.abort(new Error('close failed')) }
  }

  /** Stops taking bytes from the peer; yamux stops granting window, so the peer backs up. */
  pause (): void { this.stream.pause() }

  /** Takes bytes from the peer again. */
  resume (): void { this.stream.resume() }

  /**
   * Stops taking bytes from the peer, for a stream this side will not read
   * again but has not closed yet (answered, refused). The stream's async
   * iterator queues, without bound, whatever arrives while nobody pulls
   * from it, and yamux keeps granting window for what it queues; paused,
   * the stream grants no more, so the peer can send at most its receive
   * window (MAX_STREAM_WINDOW_BYTES) more. The remote's close and reset are
   * still seen. Never throws.
   */
  stopReading (): void {
    try {
      if (this.stream.readStatus === 'readable') this.stream.pause()
    } catch {}
  }

  /**
   * Half-closes after queued bytes are written, and resets the stream if
   * the peer has not closed its side within `graceMs` (or does not read
   * what was queued): a close is only a half-close, and a peer that never
   * closes its side would otherwise keep the stream for as long as its
   * connection lives. Never throws.
   */
  closeOrReset (graceMs: number): void {
    const timer = setTimeout(() => { this.abort(new FabricError('TIMEOUT', `the peer did not close its side within ${graceMs} ms`)) }, graceMs)
    timer.unref()
    this.stream.addEventListener('close', () => { clearTimeout(timer) }, { once: true })
    void this.close()
  }

  /** Resets the stream at once. */
  abort (err: Error): void {
    this.stream.abort(err)
  }

  /** Calls `listener` once when the stream has closed or was reset. */
  onClose (listener: (err?: Error) => void): void {
    this.stream.addEventListener('close', (evt) => { listener(evt.error) }, { once: true })
  }
}
