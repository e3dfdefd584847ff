/**
 * Per-track GOP cache: the chunks of a track since its last keyframe, so a
 * late subscriber starts at a keyframe instead of waiting for the next one
 * (protocol/sequences.md section 7.2). Holds references to the received chunks,
 * never copies. Bounded in bytes and chunks: a GOP that outgrows the bound is
 * discarded whole until the next keyframe, since a partial GOP is useless.
 */
export class KeyframeCache {
  readonly maxBytes: number
  readonly maxChunks: number
  private chunks: Uint8Array[] = []
  private bytes = 0
  private valid = false

  /**
   * @param maxBytes byte bound of one track's cached GOP
   * @param maxChunks chunk-count bound of one track's cached GOP
   */
  constructor (maxBytes: number, maxChunks: number) {
    this.maxBytes = maxBytes
    this.maxChunks = maxChunks
  }

  /** Records a chunk of the track; a keyframe starts a new GOP. */
  add (chunk: Uint8Array, keyframe: boolean): void {
    if (keyframe) {
      this.chunks = []
      this.bytes = 0
      this.valid = true
    }
    if (!this.valid) return
    if (this.bytes + chunk.byteLength > this.maxBytes || this.chunks.length >= this.maxChunks) {
      this.clear()
      return
    }
    this.chunks.push(chunk)
    this.bytes += chunk.byteLength
  }

  /** The cached GOP, keyframe first; empty when none is usable. Do not mutate. */
  snapshot (): readonly Uint8Array[] { return this.chunks }

  /** Bytes held. */
  get cachedBytes (): number { return this.bytes }

  /** Forgets the GOP (epoch change: its frames are under a retired key). */
  clear (): void {
    this.chunks = []
    this.bytes = 0
    this.valid = false
  }
}
