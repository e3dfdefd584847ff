/**
 * Sliding anti-replay window over 64-bit sequence numbers (the bitmap scheme
 * of RFC 4303 section 3.4.3 / RFC 6479), used by the link seal's receiver.
 * A window of width W accepts a sequence s when it was never accepted and
 * s > highest - W (where highest is the largest accepted so far), so losses
 * and reordering inside the window pass while duplicates and stale packets
 * do not. Pure state, no I/O; the caller decides when a packet counts as
 * accepted (after its tag verified).
 */
import { MalformedError, ReplayError } from '../errors.js'
import { MAX_UINT64 } from './bytes.js'

/** Default window width in sequences (protocol/link-seal.md section 6). */
export const DEFAULT_REPLAY_WINDOW = 1024

/** Largest width accepted, to bound the bitmap at 128 KiB. */
export const MAX_REPLAY_WINDOW = 1 << 20

/** Tracks which recent sequences were accepted. */
export class ReplayWindow {
  /** Width W: how many sequences, ending at the highest accepted one, are remembered. */
  readonly width: number
  // A ring of bits indexed by sequence mod slots; slots is a power of two >= width,
  // so positions inside the window never share a bit.
  private readonly bits: Uint32Array
  private readonly mask: number
  private readonly maskBig: bigint
  private top: bigint | undefined

  /**
   * @param width window width in sequences, an integer in [1, 2^20]; default 1024.
   * @throws RangeError for any other width (a configuration bug).
   */
  constructor (width: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(width) || width < 1 || width > MAX_REPLAY_WINDOW) throw new RangeError(`replay window width ${width} is outside [1, ${MAX_REPLAY_WINDOW}]`)
    this.width = width
    let slots = 32
    while (slots < width) slots *= 2
    this.bits = new Uint32Array(slots / 32)
    this.mask = slots - 1
    this.maskBig = BigInt(slots - 1)
  }

  /** Largest sequence accepted so far, undefined before the first. */
  get highest (): bigint | undefined {
    return this.top
  }

  private isMarked (slot: number): boolean {
    return (this.bits[slot >>> 5] & (1 << (slot & 31))) !== 0
  }

  /**
   * Throws unless `sequence` would be accepted now. Changes nothing.
   * @throws ReplayError when the sequence was already accepted or is at or below highest - width.
   * @throws MalformedError when the sequence is outside [0, 2^64 - 1].
   */
  check (sequence: bigint): void {
    if (sequence < 0n || sequence > MAX_UINT64) throw new MalformedError(`sequence ${sequence} is outside [0, 2^64 - 1]`)
    const top = this.top
    if (top === undefined || sequence > top) return
    if (top - sequence >= BigInt(this.width)) throw new ReplayError(sequence, `older than the ${this.width}-wide window ending at ${top}`)
    if (this.isMarked(Number(sequence & this.maskBig))) throw new ReplayError(sequence, 'already accepted')
  }

  /**
   * Records `sequence` as accepted, sliding the window forward when it is
   * the new highest. Call only once the packet is authentic.
   * @throws ReplayError / MalformedError as `check` does; nothing changes then.
   */
  accept (sequence: bigint): void {
    this.check(sequence)
    const top = this.top
    if (top === undefined || sequence > top) {
      if (top !== undefined) this.clearAfter(top, sequence - top)
      this.top = sequence
    }
    const slot = Number(sequence & this.maskBig)
    this.bits[slot >>> 5] |= 1 << (slot & 31)
  }

  /** Clears the bits of top+1 .. top+advance, which now stand for new sequences. */
  private clearAfter (top: bigint, advance: bigint): void {
    if (advance > BigInt(this.mask)) {
      this.bits.fill(0)
      return
    }
    const start = Number(top & this.maskBig)
    for (let i = 1, n = Number(advance); i <= n; i++) {
      const slot = (start + i) & this.mask
      this.bits[slot >>> 5] &= ~(1 << (slot & 31))
    }
  }
}
