/**
 * Sender task of one subscriber: moves the frames its relay queue holds onto
 * its channel (src/transport/channel.ts). Woken synchronously by the forward path (which never
 * awaits), it runs on the next turn of the event loop, writes everything
 * queued as one coalesced transport write, and when the stream reports
 * back-pressure waits for 'drain' while the relay queue (bounded, with the
 * drop policy) absorbs the backlog. A stalled subscriber therefore costs the
 * others nothing.
 */
import type { FrameChannel } from '../transport/channel.js'
import type { WireFrame } from '../wire/framing.js'

export type { WireFrame }

/** Largest batch of frames taken per write, bytes. */
export const DEFAULT_BATCH_BYTES = 256 * 1024

/**
 * Unsent bytes a subscriber's stream may hold before the sender stops taking
 * from the relay queue. Keeping the transport's own buffer this small leaves
 * the backlog in the relay queue, where the drop-until-keyframe policy works;
 * bytes handed to the transport can only wait.
 */
export const TRANSPORT_LOW_WATER_BYTES = 64 * 1024

export class SubscriberSender {
  private readonly framed: FrameChannel
  private readonly take: (maxBytes: number) => WireFrame[]
  private readonly onFailed: (err: Error) => void
  private readonly batchBytes: number
  private running = false
  private stopped = false
  /** Transport writes issued (one per batch). */
  writes = 0
  /** Frames handed to the transport. */
  framesSent = 0
  /** Bytes of those frames, as written (framing and link seal included). */
  bytesSent = 0
  /** Times a write had to wait for 'drain'. */
  drainWaits = 0

  /**
   * @param framed the subscriber's stream
   * @param take removes up to `maxBytes` of queued wire frames, which are
   *   written at once (RelayNode.take)
   * @param onFailed called once when the stream fails; the task stops
   * @param batchBytes largest batch of frames taken per write, bytes
   */
  constructor (framed: FrameChannel, take: (maxBytes: number) => WireFrame[], onFailed: (err: Error) => void, batchBytes = DEFAULT_BATCH_BYTES) {
    this.framed = framed
    this.take = take
    this.onFailed = onFailed
    this.batchBytes = batchBytes
  }

  /** True while the task waits for the stream to drain or is writing. */
  get busy (): boolean { return this.running }

  /**
   * Writes what is queued now. Returns at once when the task is already
   * running (it picks up new frames itself) or stopped.
   */
  flush (): void {
    if (this.running || this.stopped) return
    this.running = true
    void this.loop()
  }

  /** Stops the task; queued frames are left to the relay to discard. */
  stop (): void { this.stopped = true }

  private async loop (): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.framed.bufferedBytes > TRANSPORT_LOW_WATER_BYTES || this.framed.needsDrain) {
          this.drainWaits++
          await this.framed.drained(TRANSPORT_LOW_WATER_BYTES)
          continue
        }
        const frames = this.take(this.batchBytes)
        if (frames.length === 0) break
        this.writes++
        this.framesSent += frames.length
        for (const f of frames) this.bytesSent += f.byteLength
        this.framed.writeWire(frames)
      }
    } catch (err) {
      this.stopped = true
      this.onFailed(err as Error)
    } finally {
      this.running = false
    }
  }
}

/**
 * Batches wake-ups: the forward path marks senders, and one callback per
 * event-loop turn flushes them all, so a burst of chunks becomes one write
 * per subscriber instead of one per chunk.
 */
export class FlushScheduler {
  /** The time senders flushed by this scheduler give their batches (the relay's latency histograms). */
  readonly clock: BatchClock
  private readonly pending = new Set<SubscriberSender>()
  private scheduled = false

  /** @param clock told where each run starts and ends; default one on performance.now */
  constructor (clock = new BatchClock()) {
    this.clock = clock
  }

  /** Marks `sender` for the next flush. */
  wake (sender: SubscriberSender): void {
    this.pending.add(sender)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.run)
    }
  }

  private readonly run = (): void => {
    this.scheduled = false
    this.clock.beginRun()
    try {
      for (const s of this.pending) s.flush()
    } finally {
      this.clock.endRun()
    }
    this.pending.clear()
  }
}

/** Batches that may share one clock read within a run (BatchClock). */
export const BATCH_CLOCK_BATCHES = 16
/** Chunk bytes that may share one clock read within a run (BatchClock): about 40 µs of sealing. */
export const BATCH_CLOCK_BYTES = 64 * 1024

/**
 * The time of a batch about to be taken, sealed and written, for the
 * relay's latency histograms. A clock read (performance.now, ~40 ns) per
 * batch would cost about 1 % of a 1 KiB chunk's forward path at one chunk
 * per batch, so within one FlushScheduler run, where the senders write
 * their batches back to back synchronously, one read serves up to
 * BATCH_CLOCK_BATCHES batches or BATCH_CLOCK_BYTES chunk bytes: a time is
 * then early by at most the sealing of those (well under the smallest
 * bucket, 0.5 ms). Outside a run (a sender resuming after a drain) every call reads
 * the clock.
 */
export class BatchClock {
  private readonly read: () => number
  private inRun = false
  /** A reading is being shared: set by a read inside a run, cleared at each run's start and end. */
  private shared = false
  private at = 0
  private batches = 0
  private bytes = 0

  /** @param read the clock, ms; default performance.now */
  constructor (read: () => number = () => performance.now()) {
    this.read = read
  }

  /**
   * @param bytes about how many chunk bytes the batch holds
   * @returns the time, ms, on the `read` clock
   */
  now (bytes: number): number {
    if (!this.shared || this.batches >= BATCH_CLOCK_BATCHES || this.bytes >= BATCH_CLOCK_BYTES) {
      this.at = this.read()
      this.shared = this.inRun
      this.batches = 0
      this.bytes = 0
    }
    this.batches++
    this.bytes += bytes
    return this.at
  }

  /** A scheduler run starts: the senders' first batches follow back to back. */
  beginRun (): void {
    this.inRun = true
    this.shared = false
  }

  /** The run ended: later calls come from other turns of the event loop. */
  endRun (): void {
    this.inRun = false
    this.shared = false
  }
}
