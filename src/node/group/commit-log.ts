/**
 * The Commit log of one stream (protocol/survival.md section 3): the most
 * recent accepted Commits, oldest first, bounded in count and bytes, so a
 * member that was away can be handed the Commits it missed. Each entry is the
 * Commit that starts `epoch`; entries are consecutive epochs.
 */

/** One accepted Commit: the MLSMessage bytes that start `epoch`. */
export interface LoggedCommit {
  readonly epoch: bigint
  readonly commit: Uint8Array
}

export class CommitLog {
  private readonly maxEntries: number
  private readonly maxBytes: number
  private entries: LoggedCommit[] = []
  private bytes = 0

  /**
   * @param maxEntries most Commits kept (at least 1)
   * @param maxBytes most bytes of Commits kept; a Commit larger than this is not kept at all
   * @throws RangeError when a bound is not a positive integer
   */
  constructor (maxEntries: number, maxBytes: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`commit log entries must be a positive integer, got ${maxEntries}`)
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`commit log bytes must be a positive integer, got ${maxBytes}`)
    this.maxEntries = maxEntries
    this.maxBytes = maxBytes
  }

  /**
   * Appends the Commit that starts `epoch`, evicting the oldest entries to
   * stay within the bounds. A Commit that does not follow the last entry's
   * epoch clears the log first, so the log never has a hole.
   */
  append (epoch: bigint, commit: Uint8Array): void {
    const last = this.entries[this.entries.length - 1]
    if (last !== undefined && last.epoch + 1n !== epoch) this.clear()
    if (commit.byteLength > this.maxBytes) {
      this.clear()
      return
    }
    this.entries.push({ epoch, commit })
    this.bytes += commit.byteLength
    while (this.entries.length > this.maxEntries || this.bytes > this.maxBytes) {
      this.bytes -= this.entries.shift()!.commit.byteLength
    }
  }

  /**
   * The Commits that take a member from `fromEpoch` to `toEpoch`, oldest
   * first (empty when they are equal), or undefined when the log no longer
   * holds all of them.
   */
  since (fromEpoch: bigint, toEpoch: bigint): LoggedCommit[] | undefined {
    if (fromEpoch === toEpoch) return []
    if (fromEpoch > toEpoch) return undefined
    const first = this.entries[0]
    if (first === undefined || first.epoch > fromEpoch + 1n) return undefined
    const start = Number(fromEpoch + 1n - first.epoch)
    const out = this.entries.slice(start)
    if (out.length !== Number(toEpoch - fromEpoch) || out[out.length - 1]?.epoch !== toEpoch) return undefined
    return out
  }

  /** Every entry, oldest first (for persistence). */
  all (): readonly LoggedCommit[] {
    return this.entries
  }

  /** Bytes of Commits held. */
  get size (): number {
    return this.bytes
  }

  clear (): void {
    this.entries = []
    this.bytes = 0
  }
}
