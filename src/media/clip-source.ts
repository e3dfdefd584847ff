/**
 * A VP8 clip as a live frame source, sans-IO: the caller owns the timer and
 * calls `next()` every `frameIntervalMs`. Frames are VP8 (RFC 6386); keyframe
 * flags come from the §9.1 frame tag.
 */
import { MalformedError } from '../errors.js'
import type { IvfFile } from './ivf.js'
import { vp8FrameInfo } from './vp8.js'

/**
 * One frame handed to the publisher.
 * - `index`: position in the clip, 0-based (restarts at 0 on each loop).
 * - `seq`: frames emitted before this one by this source, 0-based, never resets.
 * - `data`: the VP8 frame bytes (a view of the clip's storage, not a copy).
 * - `keyframe`: RFC 6386 §9.1 frame type is key.
 * - `ptsMs`: presentation time on the output timeline, ms since the first
 *   frame (`seq × frameIntervalMs`), so it keeps rising across loops and skips.
 */
export interface ClipFrame {
  index: number
  seq: number
  data: Uint8Array
  keyframe: boolean
  ptsMs: number
}

/** Result of {@link ClipSource.requestKeyframe}. */
export interface KeyframeJump {
  /** Delta frames passed over and never emitted (0 when the next frame already was a keyframe). */
  skipped: number
  /** Clip index of the keyframe `next()` will return, or null if the source ended instead. */
  index: number | null
}

/** Options for {@link ClipSource}. `fps` frames per second (0 < fps <= 1000); `loop` restarts at frame 0 after the last. */
export interface ClipSourceOptions {
  fps: number
  loop?: boolean
}

const MAX_FPS = 1000

/**
 * Frame rate of an IVF clip, frames per second: the mean pts step between the
 * first and last frame converted through the timebase. Using the pts rather
 * than the raw timebase matters because some muxers write a 1/1000 timebase
 * with pts in ms.
 * @throws MalformedError when the result is not in (0, 1000].
 */
export function ivfFrameRate (file: IvfFile): number {
  const { timebaseDen, timebaseNum } = file.header
  const n = file.frames.length
  let ticksPerFrame = 1
  if (n >= 2) {
    const span = Number(file.frames[n - 1]!.pts - file.frames[0]!.pts)
    if (span > 0) ticksPerFrame = span / (n - 1)
  }
  const fps = timebaseDen / (timebaseNum * ticksPerFrame)
  if (!Number.isFinite(fps) || fps <= 0 || fps > MAX_FPS) throw new MalformedError(`IVF frame rate ${fps} is out of range`)
  return fps
}

/**
 * Replays a VP8 clip frame by frame, optionally looping, and can jump to the
 * next keyframe on request (e.g. after an MLS epoch change a receiver that
 * only holds the new key must be able to start decoding). Jumping forward to
 * a keyframe never breaks decoding: a keyframe references no earlier frame,
 * so dropping the delta frames before it leaves a valid stream.
 */
export class ClipSource {
  /** Frames per second the caller should pace `next()` at. */
  readonly fps: number
  /** Time between two `next()` calls for real-time pacing, ms. */
  readonly frameIntervalMs: number
  /** Whether the clip restarts at frame 0 after its last frame. */
  readonly loop: boolean
  private readonly frames: readonly Uint8Array[]
  private readonly keyframes: readonly boolean[]
  private position = 0
  private emitted = 0

  /**
   * @param frames VP8 frames in decode order; kept by reference, not copied.
   * @throws MalformedError when `frames` is empty, a frame's §9.1 header is
   *   invalid, frame 0 is not a keyframe (nothing could decode the start or a
   *   loop restart), or `fps` is not in (0, 1000].
   */
  constructor (frames: readonly Uint8Array[], options: ClipSourceOptions) {
    if (frames.length === 0) throw new MalformedError('clip has no frames')
    if (!Number.isFinite(options.fps) || options.fps <= 0 || options.fps > MAX_FPS) {
      throw new MalformedError(`clip frame rate ${options.fps} is out of range`)
    }
    this.keyframes = frames.map(f => vp8FrameInfo(f).keyframe)
    if (this.keyframes[0] !== true) throw new MalformedError('clip does not start with a keyframe')
    this.frames = frames
    this.fps = options.fps
    this.frameIntervalMs = 1000 / options.fps
    this.loop = options.loop ?? false
  }

  /**
   * Builds a source from a parsed IVF file, frame rate from {@link ivfFrameRate}
   * unless `options.fps` is given.
   * @throws MalformedError as the constructor and {@link ivfFrameRate}.
   */
  static fromIvf (file: IvfFile, options: Partial<ClipSourceOptions> = {}): ClipSource {
    const fps = options.fps ?? ivfFrameRate(file)
    return new ClipSource(file.frames.map(f => f.data), { ...options, fps })
  }

  /** Number of frames in the clip. */
  get length (): number { return this.frames.length }

  /** One pass of the clip, ms (`length × frameIntervalMs`). */
  get durationMs (): number { return this.frames.length * this.frameIntervalMs }

  /** True once a non-looping source has emitted (or skipped) its last frame. */
  get done (): boolean { return !this.loop && this.position >= this.frames.length }

  /** The next frame, or undefined when a non-looping source is done. */
  next (): ClipFrame | undefined {
    if (this.position >= this.frames.length) {
      if (!this.loop) return undefined
      this.position = 0
    }
    const index = this.position++
    const seq = this.emitted++
    return { index, seq, data: this.frames[index]!, keyframe: this.keyframes[index]!, ptsMs: seq * this.frameIntervalMs }
  }

  /**
   * How many delta frames `next()` would return before the next keyframe:
   * 0 when the next frame is a keyframe, null when a non-looping source has no
   * keyframe left. Does not change state.
   */
  framesUntilKeyframe (): number | null {
    const from = this.position >= this.frames.length && this.loop ? 0 : this.position
    for (let i = from; i < this.frames.length; i++) {
      if (this.keyframes[i]!) return i - from
    }
    // Looping wraps to frame 0, which the constructor proved is a keyframe.
    return this.loop ? this.frames.length - from : null
  }

  /**
   * Skips forward so that the next `next()` returns a keyframe: the next one
   * at or after the current position, wrapping to frame 0 when looping. The
   * skipped delta frames are never emitted and `seq`/`ptsMs` do not advance
   * for them, so the output stays evenly paced. A non-looping source with no
   * keyframe left skips to its end and reports `index: null`.
   */
  requestKeyframe (): KeyframeJump {
    const skipped = this.framesUntilKeyframe()
    if (skipped === null) {
      const rest = this.frames.length - this.position
      this.position = this.frames.length
      return { skipped: rest, index: null }
    }
    const from = this.position >= this.frames.length ? 0 : this.position
    const target = (from + skipped) % this.frames.length
    this.position = target
    return { skipped, index: target }
  }

  /** Returns to frame 0 with `seq` and `ptsMs` restarting at 0. */
  reset (): void {
    this.position = 0
    this.emitted = 0
  }
}
