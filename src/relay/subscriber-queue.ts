/**
 * Per-subscriber bounded queue of frames (the relay queues references to
 * shared chunks) with the slow-subscriber
 * policy of protocol/sequences.md section 7.3. Capacity is shared by all tracks, but the policy is per
 * track: once a frame of track T is dropped, every later frame of T is dropped
 * until T's next keyframe (a delta frame without its references only decodes
 * to garbage), while other tracks carry on. A keyframe that does not fit
 * evicts the queued frames of its own track first, since it supersedes them.
 * A subscriber that joins mid-GOP skips a track's deltas until its first
 * keyframe; those are counted apart (`skipped`), since nothing was lost.
 * Each queued frame carries two times the caller gave (when it was queued,
 * and when its chunk reached the node) for the latency histograms.
 * Pure state machine: no timers, no I/O, no clock.
 */

/** Told the times of each frame `take` removes, oldest first (the relay's latency histograms). */
export interface TakenFrameTimes {
  /**
   * @param queuedAtMs when the frame was queued (`push`'s `queuedAtMs`)
   * @param ingestAtMs when its chunk reached the node; NaN when not live
   */
  taken: (queuedAtMs: number, ingestAtMs: number) => void
}

/** What became of one pushed frame. */
export type PushOutcome = 'queued' | 'dropped' | 'skipped'

/** Counters of one subscriber queue, monotonic. */
export interface QueueCounters {
  /** Frames accepted into the queue. */
  queued: number
  /** Frames refused or evicted by the policy. */
  dropped: number
  /** Bytes of dropped frames. */
  droppedBytes: number
  /** Times a track entered the dropping-until-keyframe state. */
  overflows: number
  /**
   * Deltas not queued because the subscriber joined mid-GOP and waits for
   * the track's first keyframe: they would not decode, and nothing the
   * subscriber had was lost, so they are not drops.
   */
  skipped: number
}

/** What a queue holds: anything that knows its size in bytes. */
export interface Sized {
  readonly byteLength: number
}

export class SubscriberQueue<T extends Sized = Uint8Array> {
  /** Byte bound of queued frames; a stalled subscriber costs at most this. */
  readonly maxBytes: number
  /** Frame-count bound, for many tiny frames. */
  readonly maxFrames: number
  private frames: T[] = []
  private tracks: number[] = []
  /**
   * Per queued frame, index for index with `frames` (entries past
   * `frames.length` are stale): when it was queued, and when its chunk
   * reached the node (NaN: not live), ms. Reused, never swapped or shrunk,
   * so keeping times allocates nothing once a queue has reached its usual depth.
   */
  private readonly queuedAt: number[] = []
  private readonly ingestAt: number[] = []
  private bytes = 0
  private readonly dropping = new Set<number>()
  /** Tracks this subscriber joined mid-GOP: skipped until their first keyframe. */
  private readonly joining = new Set<number>()
  readonly counters: QueueCounters = { queued: 0, dropped: 0, droppedBytes: 0, overflows: 0, skipped: 0 }

  /**
   * @param maxBytes largest total of queued frame bytes (> 0)
   * @param maxFrames largest number of queued frames (> 0)
   */
  constructor (maxBytes: number, maxFrames: number) {
    if (!(maxBytes > 0) || !(maxFrames > 0)) throw new RangeError('queue bounds must be positive')
    this.maxBytes = maxBytes
    this.maxFrames = maxFrames
  }

  /** Bytes currently queued. */
  get queuedBytes (): number { return this.bytes }
  /** Frames currently queued. */
  get length (): number { return this.frames.length }
  /** True while `track`'s deltas are refused until its next keyframe (dropped or skipped). */
  isDropping (track: number): boolean { return this.dropping.has(track) || this.joining.has(track) }

  /**
   * Makes `track` wait for its first keyframe, skipping (not dropping) the
   * deltas before it: a subscriber joining mid-GOP cannot decode them.
   */
  waitForKeyframe (track: number): void {
    this.joining.add(track)
  }

  /**
   * Whether a frame would be refused outright by the policy (its track waits
   * for a keyframe). Side-effect free; a frame that passes may still be
   * dropped by `push` for lack of room.
   */
  wouldRefuse (track: number, keyframe: boolean): boolean {
    return !keyframe && this.isDropping(track)
  }

  /**
   * Offers one sealed frame of `track`.
   * @param queuedAtMs now, on the caller's clock (ms); kept with the frame
   * @param ingestAtMs when the frame's chunk reached the node, same clock;
   *   NaN when that is not this frame's live path (a cached GOP replayed)
   * @returns 'queued', or 'dropped' (counted; the track now waits for a keyframe)
   */
  push (frame: T, track: number, keyframe: boolean, queuedAtMs = 0, ingestAtMs = queuedAtMs): PushOutcome {
    const size = frame.byteLength
    if (keyframe) {
      this.joining.delete(track)
      if (!this.fits(size)) this.evictTrack(track)
      if (!this.fits(size)) return this.drop(track, size)
      this.dropping.delete(track)
    } else if (this.joining.has(track)) {
      this.counters.skipped++
      return 'skipped'
    } else if (this.dropping.has(track)) {
      return this.count(size)
    } else if (!this.fits(size)) {
      return this.drop(track, size)
    }
    const at = this.frames.length
    this.frames.push(frame)
    this.tracks.push(track)
    this.queuedAt[at] = queuedAtMs
    this.ingestAt[at] = ingestAtMs
    this.bytes += size
    this.counters.queued++
    return 'queued'
  }

  /**
   * Removes and returns queued frames, oldest first, up to `maxBytes` in
   * total (at least one frame when any is queued, whatever its size).
   * @param times told each removed frame's times, oldest first
   */
  take (maxBytes = Infinity, times?: TakenFrameTimes): T[] {
    const all = this.frames.length
    if (all === 0) return []
    let n = 0
    let total = 0
    while (n < all && (n === 0 || total + this.frames[n].byteLength <= maxBytes)) {
      total += this.frames[n].byteLength
      n++
    }
    if (times !== undefined) for (let i = 0; i < n; i++) times.taken(this.queuedAt[i], this.ingestAt[i])
    const out = this.frames
    if (n === all) {
      this.frames = []
      this.tracks = []
    } else {
      this.frames = out.slice(n)
      this.tracks = this.tracks.slice(n)
      out.length = n
      // Rare (a batch bound reached): the remaining times move to the front.
      this.queuedAt.copyWithin(0, n, all)
      this.ingestAt.copyWithin(0, n, all)
    }
    this.bytes -= total
    return out
  }

  /** Drops everything queued, uncounted (the subscriber is gone). */
  clear (): void {
    this.frames = []
    this.tracks = []
    this.bytes = 0
  }

  private fits (size: number): boolean {
    return this.bytes + size <= this.maxBytes && this.frames.length < this.maxFrames
  }

  private evictTrack (track: number): void {
    const keptFrames: T[] = []
    const keptTracks: number[] = []
    for (let i = 0; i < this.frames.length; i++) {
      if (this.tracks[i] === track) {
        this.count(this.frames[i].byteLength)
        this.bytes -= this.frames[i].byteLength
      } else {
        // Compacted in place: the kept frame's index is never past its old one.
        this.queuedAt[keptFrames.length] = this.queuedAt[i]
        this.ingestAt[keptFrames.length] = this.ingestAt[i]
        keptFrames.push(this.frames[i])
        keptTracks.push(this.tracks[i])
      }
    }
    this.frames = keptFrames
    this.tracks = keptTracks
  }

  private drop (track: number, size: number): PushOutcome {
    if (!this.dropping.has(track)) {
      this.counters.overflows++
      this.dropping.add(track)
    }
    return this.count(size)
  }

  private count (size: number): PushOutcome {
    this.counters.dropped++
    this.counters.droppedBytes += size
    return 'dropped'
  }
}
