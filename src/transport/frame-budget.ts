/**
 * A budget of inbound frame bytes announced but not yet whole, shared by a
 * set of streams (a node's group streams). Each stream bounds its own frames,
 * but a crowd of identities, each within its per-identity bounds, could
 * still announce large frames on many streams at once and park them until
 * their deadlines; the budget caps what they hold together. A frame whose
 * announcement does not fit is refused (its stream reset), never waited for.
 */

/** Default budget of a node's group streams: 64 MiB of frames under way. */
export const DEFAULT_IN_FLIGHT_FRAME_BYTES = 64 * 1024 * 1024

export class FrameBudget {
  readonly capacity: number
  private used = 0
  /** Frame announcements refused for want of room. */
  refused = 0

  /**
   * @param capacity bytes, at least 1
   * @throws RangeError when it is not a positive integer
   */
  constructor (capacity = DEFAULT_IN_FLIGHT_FRAME_BYTES) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`frame budget ${capacity} must be a positive integer`)
    this.capacity = capacity
  }

  /** Bytes held now. */
  get inFlight (): number { return this.used }

  /** Takes `n` bytes; false (and nothing taken) when they do not fit. */
  take (n: number): boolean {
    if (this.used + n > this.capacity) {
      this.refused++
      return false
    }
    this.used += n
    return true
  }

  /** Gives back `n` bytes taken before. */
  give (n: number): void {
    this.used = Math.max(0, this.used - n)
  }
}
