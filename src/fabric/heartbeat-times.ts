/**
 * When each relay was last heard from, and which have been silent too long.
 * The planner's clock never goes back (it keeps the latest `nowMs`), so the
 * relay heard from longest ago is always the one first inserted in a Map
 * that re-inserts on every heartbeat: the next deadline and every expiry
 * cost O(1) per relay, with no heap.
 */
export class HeartbeatTimes {
  private readonly lastSeen = new Map<string, number>()
  private readonly timeoutMs: number

  constructor (timeoutMs: number) {
    this.timeoutMs = timeoutMs
  }

  /** Records that `id` was heard from at `nowMs` (never earlier than any previous call). */
  seen (id: string, nowMs: number): void {
    this.lastSeen.delete(id)
    this.lastSeen.set(id, nowMs)
  }

  /** Stops watching `id`. */
  forget (id: string): void {
    this.lastSeen.delete(id)
  }

  /** When `id` was last heard from, or undefined. */
  lastSeenMs (id: string): number | undefined {
    return this.lastSeen.get(id)
  }

  /** Relays silent for at least the timeout at `nowMs`, by id; they stay watched until forgotten. */
  expired (nowMs: number): string[] {
    const out: string[] = []
    for (const [id, at] of this.lastSeen) {
      if (nowMs - at < this.timeoutMs) break
      out.push(id)
    }
    return out.sort()
  }

  /** When the next relay would expire (ms), or undefined when none is watched. */
  deadline (): number | undefined {
    for (const at of this.lastSeen.values()) return at + this.timeoutMs
    return undefined
  }
}
