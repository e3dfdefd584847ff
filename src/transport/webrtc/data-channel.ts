/**
 * The WebRTC adapter of the transport seam (src/transport/channel.ts): one
 * data channel as a FrameChannel, the same on the node (werift) and in the
 * page (the browser's RTCDataChannel). protocol/webrtc.md section 4: binary
 * messages carry the channel's byte stream (length-prefixed frames,
 * protocol/framing.md, split anywhere); the text message "FIN" half-closes
 * the sender's side; closing the data channel before both sides sent FIN is
 * a reset. Portable: no Node or browser globals.
 */
import { FabricError, MalformedError } from '../../errors.js'
import { FrameDecoder, framePrefix, type WireFrame } from '../../wire/framing.js'
import { FrameDeadline, nextFrame, unref } from '../next-frame.js'
import type { ChannelOptions, FrameChannel } from '../channel.js'
import type { FrameBudget } from '../frame-budget.js'

/** The text message that half-closes a data channel (protocol/webrtc.md section 4). */
export const FIN_MESSAGE = 'FIN'

/**
 * Largest data-channel message this side sends, bytes: every WebRTC stack
 * takes 16 KiB (RFC 8831 section 6.6 leaves larger sizes to negotiation).
 */
export const MAX_MESSAGE_BYTES = 16 * 1024

/** How long the side that sent FIN last waits for the peer to close the data channel, ms. */
export const FIN_LINGER_MS = 5_000

/** Unsent bytes above which writers are asked to wait for `drained()`. */
export const HIGH_WATER_BYTES = 1024 * 1024

/**
 * Inbound frames a channel holds for a reader that does not take them
 * (paused, or slow), bytes, beyond the one frame under way; above it the
 * channel is reset (FabricError QUOTA_EXCEEDED): a data channel, unlike a
 * yamux stream, has no window to hold the peer back with.
 */
export const MAX_QUEUED_INBOUND_BYTES = 4 * 1024 * 1024

/**
 * What a FrameChannel needs of one open data channel; src/transport/webrtc
 * adapts the browser's RTCDataChannel, src/platform/node/werift-peer.ts
 * werift's.
 */
export interface DataChannelPort {
  /** The channel's label: the fabric protocol id it carries. */
  readonly label: string
  /** Bytes queued and not yet handed to SCTP. */
  readonly bufferedAmount: number
  /** Sends one message (binary or text). @throws when the channel is not open */
  send: (data: Uint8Array | string) => void
  /** Closes the data channel both ways. */
  close: () => void
  /** Where 'bufferedamountlow' fires; sets the threshold. */
  setLowThreshold: (bytes: number) => void
  /** Installs the handlers; called once, before any message can be lost. */
  listen: (handlers: DataChannelHandlers) => void
}

/** Events of a DataChannelPort. */
export interface DataChannelHandlers {
  message: (data: Uint8Array | string) => void
  /** The data channel closed (either side, or its peer connection went). */
  close: () => void
  /** bufferedAmount fell to the threshold. */
  low: () => void
}

/** Who is at the other end: the peer the binding handshake proved, and the peer connection. */
export interface DataChannelPeer {
  remotePeer: string
  connectionId: string
}

type Waiter = () => void

/**
 * A FrameChannel over one data channel. Inbound messages are decoded as
 * they arrive, so the frame deadline and the shared budget hold whether or
 * not anybody reads; whole frames wait in a bounded queue.
 */
export class DataChannelChannel implements FrameChannel {
  readonly remotePeer: string
  readonly connectionId: string
  readonly protocol: string
  lastReadAtMs = Number.NaN
  private readonly port: DataChannelPort
  private readonly decoder: FrameDecoder
  private readonly budget: FrameBudget | undefined
  private readonly clock: (() => number) | undefined
  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0
  private held = 0
  private readonly deadline: FrameDeadline
  private paused = false
  private reading = true
  private sentFin = false
  private gotFin = false
  private closed = false
  private failure: Error | undefined
  private readerWake: Waiter | undefined
  private readonly drainWaiters = new Set<Waiter>()
  private readonly closeListeners: Array<(err?: Error) => void> = []
  private iterator: AsyncGenerator<Uint8Array> | undefined

  /**
   * @param port an open data channel
   * @param options framing bounds and clocks of the protocol it carries
   * @param peer the authenticated peer and its connection
   */
  constructor (port: DataChannelPort, options: ChannelOptions, peer: DataChannelPeer) {
    this.port = port
    this.protocol = port.label
    this.remotePeer = peer.remotePeer
    this.connectionId = peer.connectionId
    this.decoder = new FrameDecoder(options.maxFrameLength)
    this.deadline = new FrameDeadline(options.frameDeadlineMs ?? 0, (err) => { this.fail(err) })
    this.budget = options.budget
    this.clock = options.clock
    port.listen({
      message: (data) => { this.onMessage(data) },
      close: () => { this.onPortClose() },
      low: () => { this.wakeDrainers() },
    })
  }

  get maxFrameLength (): number { return this.decoder.maxFrameLength }
  set maxFrameLength (n: number) { this.decoder.maxFrameLength = n }

  get bufferedBytes (): number { return this.closed ? 0 : this.port.bufferedAmount }

  get needsDrain (): boolean { return !this.closed && this.port.bufferedAmount > HIGH_WATER_BYTES }

  get isOpen (): boolean { return !this.closed }

  private onMessage (data: Uint8Array | string): void {
    if (this.closed) return
    if (typeof data === 'string') {
      if (data !== FIN_MESSAGE || this.gotFin) {
        this.fail(new MalformedError(`a data channel carries binary messages and one "${FIN_MESSAGE}"; got a text message of ${data.length} characters`))
        return
      }
      this.gotFin = true
      if (this.decoder.midFrame) {
        this.fail(new MalformedError('the peer half-closed in the middle of a frame'))
        return
      }
      this.deadline.clear()
      this.wakeReader()
      this.finishIfDone(false)
      return
    }
    if (this.gotFin) {
      this.fail(new MalformedError('bytes after FIN'))
      return
    }
    if (!this.reading) return
    if (this.clock !== undefined) this.lastReadAtMs = this.clock()
    let frames: Uint8Array[]
    try {
      frames = this.decoder.push(data)
    } catch (err) {
      this.fail(err as Error)
      return
    }
    this.deadline.watch(this.decoder.midFrame, frames.length > 0)
    if (this.budget !== undefined && !this.holdAnnounced(this.budget)) return
    for (const frame of frames) {
      this.queue.push(frame)
      this.queuedBytes += frame.byteLength
    }
    if (this.queuedBytes > MAX_QUEUED_INBOUND_BYTES) {
      this.fail(new FabricError('QUOTA_EXCEEDED', `more than ${MAX_QUEUED_INBOUND_BYTES} bytes of frames wait for a reader`))
      return
    }
    if (frames.length > 0) this.wakeReader()
  }

  private holdAnnounced (budget: FrameBudget): boolean {
    const announced = this.decoder.announcedBytes
    if (announced < this.held) {
      budget.give(this.held - announced)
    } else if (announced > this.held && !budget.take(announced - this.held)) {
      this.fail(new FabricError('QUOTA_EXCEEDED', `a ${announced}-byte frame does not fit the node's budget of frames under way (${budget.capacity} bytes)`))
      return false
    }
    this.held = announced
    return true
  }




  private wakeReader (): void {
    const wake = this.readerWake
    this.readerWake = undefined
    wake?.()
  }

  private wakeDrainers (): void {
    for (const w of [...this.drainWaiters]) w()
  }

  async * frames (): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (!this.paused && this.queue.length > 0) {
        const frame = this.queue.shift() as Uint8Array
        this.queuedBytes -= frame.byteLength
        yield frame
        continue
      }
      if (this.queue.length === 0 || this.closed) {
        if (this.failure !== undefined) throw this.failure
        if (this.gotFin || this.closed) return
      }
      await new Promise<void>((resolve) => { this.readerWake = resolve })
    }
  }

  async next (timeoutMs = 0): Promise<Uint8Array> {
    this.iterator ??= this.frames()
    return await nextFrame(this.iterator, timeoutMs)
  }


  rest (): AsyncIterable<Uint8Array> {
    this.iterator ??= this.frames()
    const it = this.iterator
    return { [Symbol.asyncIterator]: () => it }
  }

  private checkWritable (): void {
    if (this.closed) throw new FabricError('INVALID_STATE', 'channel closed', { cause: this.failure })
    if (this.sentFin) throw new FabricError('INVALID_STATE', 'channel closed for writing')
  }

  /**
   * Sends `pieces` (one frame: prefix, payload, tail) as messages of at most
   * MAX_MESSAGE_BYTES. A small frame is joined into one message (one SCTP
   * chunk rather than two; werift copies every message into its chunk
   * anyway); a large one goes as slices of the payload, never copied here.
   */
  private sendPieces (pieces: readonly Uint8Array[], total: number): void {
    if (total <= MAX_MESSAGE_BYTES) {
      const joined = new Uint8Array(total)
      let at = 0
      for (const p of pieces) { joined.set(p, at); at += p.byteLength }
      this.port.send(joined)
      return
    }
    for (const p of pieces) {
      for (let at = 0; at < p.byteLength; at += MAX_MESSAGE_BYTES) {
        this.port.send(p.subarray(at, Math.min(p.byteLength, at + MAX_MESSAGE_BYTES)))
      }
    }
  }

  write (frame: Uint8Array): boolean {
    this.checkWritable()
    const head = framePrefix(frame.byteLength)
    this.sendPieces([head, frame], head.byteLength + frame.byteLength)
    return !this.needsDrain
  }

  writeMany (frames: readonly Uint8Array[]): boolean {
    for (const f of frames) this.write(f)
    return !this.needsDrain
  }

  writeWire (frames: readonly WireFrame[]): boolean {
    this.checkWritable()
    for (const f of frames) this.sendPieces([f.head, f.body, f.tail].filter((p) => p.byteLength > 0), f.byteLength)
    return !this.needsDrain
  }

  async drained (lowWaterBytes = 0): Promise<void> {
    const ready = (): boolean => this.port.bufferedAmount <= lowWaterBytes
    if (this.closed) throw new FabricError('INVALID_STATE', 'channel closed while waiting to drain')
    if (ready()) return
    this.port.setLowThreshold(lowWaterBytes)
    await new Promise<void>((resolve, reject) => {
      const check: Waiter = () => {
        if (this.closed) {
          this.drainWaiters.delete(check)
          reject(new FabricError('INVALID_STATE', 'channel closed while waiting to drain'))
        } else if (ready()) {
          this.drainWaiters.delete(check)
          resolve()
        }
      }
      this.drainWaiters.add(check)
    })
  }

  async send (frame: Uint8Array): Promise<void> {
    if (!this.write(frame)) await this.drained()
  }

  pause (): void { this.paused = true }

  resume (): void {
    this.paused = false
    this.wakeReader()
  }

  /** Drops what arrives from now on (a data channel cannot hold the peer back); FIN and close are still seen. */
  stopReading (): void {
    this.reading = false
    this.queue.length = 0
    this.queuedBytes = 0
  }

  async close (): Promise<void> {
    if (this.closed || this.sentFin) return
    this.sentFin = true
    try {
      this.port.send(FIN_MESSAGE)
    } catch (err) {
      this.fail(err as Error)
      return
    }
    this.finishIfDone(true)
  }

  closeOrReset (graceMs: number): void {
    const timer = setTimeout(() => { this.abort(new FabricError('TIMEOUT', `the peer did not close its side within ${graceMs} ms`)) }, graceMs)
    unref(timer)
    this.onClose(() => { clearTimeout(timer) })
    void this.close()
  }

  abort (err: Error): void {
    this.fail(err)
  }

  onClose (listener: (err?: Error) => void): void {
    if (this.closed) {
      listener(this.failure)
      return
    }
    this.closeListeners.push(listener)
  }

  /**
   * Both sides sent FIN: the data channel has done its work. The side whose
   * own FIN went first closes it, since by the time the peer's FIN reaches
   * it every byte has arrived both ways (the peer read our FIN after our
   * data). The other side leaves the closing to it: werift's close can
   * overtake messages still queued in SCTP, so a closer whose last bytes
   * were still on their way would cut them off. It closes after
   * FIN_LINGER_MS itself if the peer never does.
   */
  private finishIfDone (finLast: boolean): void {
    if (!this.sentFin || !this.gotFin) return
    this.end(undefined)
    const port = this.port
    if (!finLast) {
      try { port.close() } catch {}
      return
    }
    const timer = setTimeout(() => { try { port.close() } catch {} }, FIN_LINGER_MS)
    unref(timer)
    port.listen({ message: () => {}, close: () => { clearTimeout(timer) }, low: () => {} })
  }

  private onPortClose (): void {
    if (this.closed) return
    this.end(this.sentFin && this.gotFin ? undefined : new FabricError('INVALID_STATE', 'the data channel was reset'))
  }

  private fail (err: Error): void {
    if (this.closed) return
    this.end(err)
    try { this.port.close() } catch {}
  }

  private end (err: Error | undefined): void {
    this.closed = true
    if (err !== undefined && this.failure === undefined) this.failure = err
    this.deadline.clear()
    if (this.budget !== undefined) this.budget.give(this.held)
    this.held = 0
    this.wakeReader()
    this.wakeDrainers()
    const listeners = this.closeListeners.splice(0)
    for (const l of listeners) l(this.failure)
  }
}
