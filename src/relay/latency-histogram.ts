/**
 * A latency histogram cheap enough for the media path: fixed upper bounds
 * and one counter per bucket, so recording a value allocates nothing, reads
 * no clock and never waits. The caller passes durations in; the metrics
 * collector turns a snapshot into a Prometheus histogram at scrape time.
 */

/**
 * Default bucket upper bounds, ms: from half a millisecond (a chunk written
 * on the next turn of the event loop) to 2 s (past any useful real-time
 * latency; the +Inf bucket takes the rest).
 */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2000])

/** A histogram's state at one moment, in the histogram's unit (ms). */
export interface HistogramSnapshot {
  /** Bucket upper bounds, ms, ascending; a value equal to a bound counts in that bound's bucket. */
  boundsMs: number[]
  /**
   * Cumulative counts: `cumulative[i]` observations were <= `boundsMs[i]`;
   * one more entry at the end holds every observation (the +Inf bucket).
   */
  cumulative: number[]
  /** Observations recorded. */
  count: number
  /** Sum of the observations, ms. */
  sumMs: number
}

export class LatencyHistogram {
  /** Bucket upper bounds, ms, ascending. */
  readonly boundsMs: readonly number[]
  /** The same bounds for the scan: a plain array, as V8 reads a frozen one about three times slower. */
  private readonly scan: number[]
  /** Per bucket, not cumulative; the last one counts values above every bound. */
  private readonly counts: Float64Array
  private total = 0
  private sum = 0

  /**
   * @param boundsMs bucket upper bounds, ms: finite, > 0, strictly ascending, at least one
   * @throws RangeError for bounds that are not
   */
  constructor (boundsMs: readonly number[] = LATENCY_BUCKETS_MS) {
    if (boundsMs.length === 0) throw new RangeError('a histogram needs at least one bucket bound')
    for (let i = 0; i < boundsMs.length; i++) {
      const b = boundsMs[i]
      if (!Number.isFinite(b) || b <= 0 || (i > 0 && b <= boundsMs[i - 1])) throw new RangeError(`histogram bounds must be finite, > 0 and strictly ascending, got ${boundsMs.join(', ')}`)
    }
    this.boundsMs = Object.freeze([...boundsMs])
    this.scan = [...boundsMs]
    this.counts = new Float64Array(boundsMs.length + 1)
  }

  /** Observations recorded. */
  get count (): number { return this.total }
  /** Sum of the observations, ms. */
  get sumMs (): number { return this.sum }

  /**
   * Records one duration, ms. A negative value (two clock reads that raced)
   * counts as 0, and so does NaN, so the count always matches what was
   * recorded. Linear scan: most values fall in the first buckets.
   */
  observe (ms: number): void {
    const v = ms > 0 ? ms : 0
    const bounds = this.scan
    let i = 0
    while (i < bounds.length && v > bounds[i]) i++
    this.counts[i]++
    this.total++
    this.sum += v
  }

  /** The counts so far, cumulative as Prometheus wants them; a copy. */
  snapshot (): HistogramSnapshot {
    const cumulative = new Array<number>(this.counts.length)
    let acc = 0
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i]
      cumulative[i] = acc
    }
    return { boundsMs: [...this.boundsMs], cumulative, count: this.total, sumMs: this.sum }
  }
}
