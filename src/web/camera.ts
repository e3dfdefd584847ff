/**
 * The page's own video: the camera (getUserMedia, 640x360 at 30 fps asked
 * for), its frames through Chromium's MediaStreamTrackProcessor, a
 * WebCodecs VP8 encoder (~800 kbit/s, realtime), and each encoded frame
 * sent on the member's video track (`TrackPublisher.sendFrame`, SFrame
 * then the publish stream).
 *
 * Frames are read (and closed) from the moment the camera is on, so the
 * capture never stalls, but encoded only while a track is attached
 * (`publishTo`, after the join resolved). Nothing queues without bound:
 * a frame is dropped when the encoder holds more than 2 or more than
 * MAX_SENDS_IN_FLIGHT sends wait on the publish stream, and the next
 * frame is then a keyframe, so receivers recover at once.
 */
import type { TrackPublisher } from '../browser.js'
import type { Browser, EncodedVideoChunkLike, MediaStreamLike, ReaderLike, VideoEncoderLike, VideoEl, VideoFrameLike } from './dom.js'
import { hexPrefix, pushBounded, RateWindow } from './meters.js'
import { SENT_HASHES_KEPT, type FabricPage } from './page-state.js'

/** What the camera is asked for. */
export const CAPTURE = { width: 640, height: 360, frameRate: 30 }
/** Encoder target, bits per second. */
export const VIDEO_BITRATE = 800_000
/** Longest time between keyframes, ms. */
export const KEYFRAME_INTERVAL_MS = 2_000
/** Frames the encoder may hold before the camera's next one is dropped (`encodeQueueSize`). */
export const MAX_ENCODE_QUEUE = 2
/** Sends waiting on the publish stream (its back-pressure) before frames are dropped. */
export const MAX_SENDS_IN_FLIGHT = 8
/** Capture times remembered for frames in the encoder, by frame timestamp. */
const MAX_CAPTURE_TIMES = 32

export class Camera {
  private readonly b: Browser
  private readonly page: FabricPage
  private readonly log: (line: string) => void
  private stream: MediaStreamLike | undefined
  private reader: ReaderLike<VideoFrameLike> | undefined
  private encoder: VideoEncoderLike | undefined
  private encodedSize = { width: 0, height: 0 }
  private track: TrackPublisher | undefined
  private keyframeDue = true
  /**
   * A keyframe is in the encoder: the track's `wantsKeyframe` stays true
   * until one is sent, and should not make every frame until then a keyframe.
   */
  private keyframeEncoding = false
  private lastKeyframeAt = Number.NEGATIVE_INFINITY
  private sendsInFlight = 0
  /** Wall-clock capture time (Date.now(), ms) by VideoFrame timestamp (µs): the frame's SFrame metadata time. */
  private readonly capturedAt = new Map<number, number>()
  /** Keeps `sent.hashes` in send order though digests resolve when they like. */
  private hashes: Promise<void> = Promise.resolve()
  private readonly rate = new RateWindow()
  private stopped = false

  constructor (b: Browser, page: FabricPage, log: (line: string) => void) {
    this.b = b
    this.page = page
    this.log = log
  }

  /**
   * Opens the camera, shows it in `preview` and starts reading its frames.
   * Resolves once reading started; a camera or WebCodecs that is missing
   * or refused sets `page.camera` to 'error' and is logged, never thrown:
   * the page can still join and watch.
   */
  async start (preview: VideoEl): Promise<void> {
    const b = this.b
    try {
      if (b.navigator.mediaDevices === undefined) throw new Error('no camera API (a page not served over https or localhost?)')
      if (b.MediaStreamTrackProcessor === undefined || b.VideoEncoder === undefined) throw new Error('this browser lacks MediaStreamTrackProcessor or WebCodecs VideoEncoder (Chromium has both)')
      this.stream = await b.navigator.mediaDevices.getUserMedia({ video: CAPTURE, audio: false })
      if (this.stopped) { this.stopTracks(); return }
      preview.srcObject = this.stream
      preview.play().catch(() => {})
      const [videoTrack] = this.stream.getVideoTracks()
      // maxBufferSize 1: a frame we are slow to take is replaced by the next, not queued.
      this.reader = new b.MediaStreamTrackProcessor({ track: videoTrack, maxBufferSize: 1 }).readable.getReader()
      this.page.camera = 'on'
      void this.readLoop(this.reader)
    } catch (err) {
      this.page.camera = 'error'
      this.log(`camera: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  /** Starts encoding and sending on `track` (a joined member's video track); the first frame is a keyframe. */
  publishTo (track: TrackPublisher): void {
    this.track = track
    this.keyframeDue = true
  }

  /** Stops encoding (the camera stays on for the preview). */
  unpublish (): void {
    this.track = undefined
    this.closeEncoder()
  }

  /** Makes the next encoded frame a keyframe (the member's 'keyframe-needed'). */
  requestKeyframe (): void {
    this.keyframeDue = true
  }

  /** Refreshes `page.sent.fps` and `kbps`. */
  refresh (nowMs: number): void {
    this.page.sent.fps = this.rate.perSecond(nowMs)
    this.page.sent.kbps = this.rate.kbps(nowMs)
  }

  /** Turns the camera off for good. */
  stop (): void {
    this.stopped = true
    this.unpublish()
    void this.reader?.cancel().catch(() => {})
    this.stopTracks()
    this.page.camera = 'off'
  }

  private stopTracks (): void {
    for (const t of this.stream?.getTracks() ?? []) t.stop()
  }

  private async readLoop (reader: ReaderLike<VideoFrameLike>): Promise<void> {
    try {
      for (;;) {
        const r = await reader.read()
        if (r.done) break
        try {
          if (this.track !== undefined) this.encode(r.value)
        } finally {
          r.value.close()
        }
      }
    } catch (err) {
      if (!this.stopped) this.log(`camera: ${err instanceof Error ? err.message : String(err)}`)
    }
    if (!this.stopped) this.page.camera = 'off'
  }

  private encode (frame: VideoFrameLike): void {
    const encoder = this.encoderFor(frame)
    if (encoder.encodeQueueSize > MAX_ENCODE_QUEUE || this.sendsInFlight >= MAX_SENDS_IN_FLIGHT) {
      // A dropped frame may be one a later delta frame refers to: start over from a keyframe.
      this.page.sent.dropped++
      this.keyframeDue = true
      return
    }
    const now = performance.now()
    const wanted = this.track?.wantsKeyframe === true && !this.keyframeEncoding
    const keyFrame = this.keyframeDue || wanted || now - this.lastKeyframeAt >= KEYFRAME_INTERVAL_MS
    if (keyFrame) {
      this.keyframeDue = false
      this.keyframeEncoding = true
      this.lastKeyframeAt = now
    }
    this.capturedAt.set(frame.timestamp, Date.now())
    if (this.capturedAt.size > MAX_CAPTURE_TIMES) this.capturedAt.delete(this.capturedAt.keys().next().value!)
    encoder.encode(frame, { keyFrame })
  }

  /** The encoder, configured for `frame`'s size (made, or configured anew when the camera's size changes). */
  private encoderFor (frame: VideoFrameLike): VideoEncoderLike {
    const width = frame.displayWidth & ~1
    const height = frame.displayHeight & ~1
    if (this.encoder === undefined || this.encoder.state === 'closed') {
      this.encoder = new this.b.VideoEncoder!({
        output: (chunk) => { this.encoded(chunk) },
        error: (err) => {
          this.log(`encoder: ${err.message}`)
          this.encoder = undefined
          this.keyframeDue = true
          this.keyframeEncoding = false
        },
      })
      this.encodedSize = { width: 0, height: 0 }
    }
    if (this.encodedSize.width !== width || this.encodedSize.height !== height) {
      this.encoder.configure({ codec: 'vp8', width, height, bitrate: VIDEO_BITRATE, framerate: CAPTURE.frameRate, latencyMode: 'realtime' })
      this.encodedSize = { width, height }
      this.keyframeDue = true
    }
    return this.encoder
  }

  private closeEncoder (): void {
    if (this.encoder !== undefined && this.encoder.state !== 'closed') this.encoder.close()
    this.encoder = undefined
    this.keyframeEncoding = false
  }

  private encoded (chunk: EncodedVideoChunkLike): void {
    const track = this.track
    const capturedMs = this.capturedAt.get(chunk.timestamp) ?? Date.now()
    this.capturedAt.delete(chunk.timestamp)
    if (track === undefined) return
    const bytes = new Uint8Array(chunk.byteLength)
    chunk.copyTo(bytes)
    const keyframe = chunk.type === 'key'
    if (keyframe) this.keyframeEncoding = false
    this.sendsInFlight++
    const sent = track.sendFrame(bytes, { keyframe, timestampUs: BigInt(Math.round(capturedMs * 1000)) })
      .then(() => {
        const s = this.page.sent
        s.frames++
        if (keyframe) s.keyframes++
        s.bytes += bytes.byteLength
        this.rate.add(performance.now(), bytes.byteLength)
        return true
      }, (err: unknown) => {
        this.log(`send: ${err instanceof Error ? err.message : String(err)}`)
        return false
      })
      .finally(() => { this.sendsInFlight-- })
    // Started now (digest reads the bytes as they are), pushed in send order once the send succeeded.
    const digest = this.b.crypto.subtle.digest('SHA-256', bytes)
    this.hashes = this.hashes.then(async () => {
      if (await sent) pushBounded(this.page.sent.hashes, hexPrefix(new Uint8Array(await digest), 16), SENT_HASHES_KEPT)
    }).catch(() => {})
  }
}
