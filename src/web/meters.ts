/**
 * The member page's pure parts: rate windows (frames per second, kbit/s),
 * bounded lists, the pixel digest a test reads off a tile, which tiles a
 * roster adds and removes, and how ids and safety codes are shown. No
 * browser or Node API: test/web/meters.test.ts runs them in Node.
 */

/**
 * Events (frames, with their sizes) over the last `windowMs`, for a rate.
 * Holds at most `capacity` events: past that the oldest are forgotten, so
 * a rate over a window holding more than `capacity` events reads low (the
 * default, 512 events over 2 s, is 256 frames a second).
 */
export class RateWindow {
  private readonly windowMs: number
  private readonly capacity: number
  /** Times (ms) and sizes (bytes) of the events kept, oldest first, as a ring. */
  private readonly times: Float64Array
  private readonly sizes: Float64Array
  private start = 0
  private count = 0

  /**
   * @param windowMs how far back rates look, ms (> 0)
   * @param capacity most events kept (>= 1)
   * @throws RangeError on a bound out of range
   */
  constructor (windowMs = 2_000, capacity = 512) {
    if (!(windowMs > 0) || !Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bad rate window: ${windowMs} ms, ${capacity} events`)
    this.windowMs = windowMs
    this.capacity = capacity
    this.times = new Float64Array(capacity)
    this.sizes = new Float64Array(capacity)
  }

  /** Records one event of `bytes` at `nowMs` (times must not go back). */
  add (nowMs: number, bytes = 0): void {
    if (this.count === this.capacity) {
      this.start = (this.start + 1) % this.capacity
      this.count--
    }
    const i = (this.start + this.count) % this.capacity
    this.times[i] = nowMs
    this.sizes[i] = bytes
    this.count++
  }

  /** Events per second over the window ending at `nowMs`. */
  perSecond (nowMs: number): number {
    this.expire(nowMs)
    return this.count * 1_000 / this.windowMs
  }

  /** kbit/s (1 000 bits a second) over the window ending at `nowMs`. */
  kbps (nowMs: number): number {
    this.expire(nowMs)
    let bytes = 0
    for (let k = 0; k < this.count; k++) bytes += this.sizes[(this.start + k) % this.capacity]
    // bytes * 8 bits over windowMs ms is bits per ms, which is kbit/s.
    return bytes * 8 / this.windowMs
  }

  /** Events kept now (at most `capacity`). */
  get size (): number { return this.count }

  private expire (nowMs: number): void {
    while (this.count > 0 && this.times[this.start] <= nowMs - this.windowMs) {
      this.start = (this.start + 1) % this.capacity
      this.count--
    }
  }
}

/**
 * Appends `item` to `list` in place and drops the oldest items beyond
 * `max`, so arrays a test reads live (window.fabricPage) stay bounded.
 */
export function pushBounded<T> (list: T[], item: T, max: number): void {
  list.push(item)
  if (list.length > max) list.splice(0, list.length - max)
}

/** What `canvasDigest` reports of a picture. */
export interface PixelDigest {
  /** FNV-1a (32 bits, 8 hex digits) over the RGBA bytes: equal pictures, equal hashes. */
  hash: string
  /** Mean luma (BT.601, 0..255) over the pixels; 0 for no pixels. */
  mean: number
  /** Variance of the luma over the pixels; 0 for a one-colour picture. */
  variance: number
}

/**
 * Hash, mean and variance of an RGBA picture (getImageData's layout, 4
 * bytes a pixel; a trailing partial pixel is hashed but not measured), so a
 * test can tell a blank tile (variance 0) from video, and a still picture
 * (same hash) from a moving one.
 */
export function pixelDigest (rgba: ArrayLike<number>): PixelDigest {
  let hash = 0x811c9dc5
  for (let i = 0; i < rgba.length; i++) hash = Math.imul(hash ^ rgba[i], 0x01000193)
  const pixels = Math.floor(rgba.length / 4)
  let sum = 0
  let sumSq = 0
  for (let p = 0; p < pixels; p++) {
    const y = luma(rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2])
    sum += y
    sumSq += y * y
  }
  const mean = pixels === 0 ? 0 : sum / pixels
  // Clamped: rounding can take E[y²] - E[y]² a hair below zero.
  const variance = pixels === 0 ? 0 : Math.max(0, sumSq / pixels - mean * mean)
  return { hash: (hash >>> 0).toString(16).padStart(8, '0'), mean, variance }
}

/** BT.601 luma of an RGB pixel, 0..255. */
export function luma (r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b
}

/**
 * The tiles a roster calls for: one per member but `self`. Returns the
 * members to add a tile for (roster order) and the tiles to remove (the
 * order of `current`); applying both to `current` gives the roster less
 * `self`, as a set.
 */
export function diffTiles (current: Iterable<string>, roster: readonly string[], self: string): { add: string[], remove: string[] } {
  const have = new Set(current)
  const want = new Set(roster.filter((m) => m !== self))
  return {
    add: [...want].filter((m) => !have.has(m)),
    remove: [...have].filter((m) => !want.has(m)),
  }
}

/** A peer id as the page labels it: its last 6 characters, as `fabric join` prints them (every Ed25519 id starts alike). */
export function shortId (peerId: string): string {
  return peerId.slice(-6)
}

/** A safety code in groups of 5 digits, to read aloud; other text unchanged but trimmed. */
export function formatSafetyCode (code: string): string {
  return /^\d+$/.test(code) ? (code.match(/.{1,5}/g) ?? []).join(' ') : code.trim()
}

/** Lower-case hex of the first `chars` hex digits of `bytes`. */
export function hexPrefix (bytes: Uint8Array, chars: number): string {
  let out = ''
  for (let i = 0; i < bytes.length && out.length < chars; i++) out += bytes[i].toString(16).padStart(2, '0')
  return out.slice(0, chars)
}

/** `error` as the page shows it: a FabricError's code, or INTERNAL, and its message. */
export function errorInfo (error: unknown): { code: string, message: string } {
  const e = error as { code?: unknown, message?: unknown } | undefined
  const code = typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'INTERNAL'
  const message = typeof e?.message === 'string' ? e.message : String(error)
  return { code, message }
}
