/**
 * The `next` read every FrameChannel adapter shares: one frame from the
 * channel's frame iterator, bounded in time.
 */
import { FabricError } from '../errors.js'

/**
 * Reads the next frame from `iterator`.
 * @param timeoutMs give up after this long (FabricError TIMEOUT); 0 = wait
 *   forever. A timed-out read stays pending on the iterator and takes the
 *   next frame when it comes, so callers treat TIMEOUT as the end of the
 *   channel (every caller does: it closes or aborts it).
 * @throws FabricError INVALID_STATE when the channel ended first
 */
export async function nextFrame (iterator: AsyncIterator<Uint8Array>, timeoutMs: number): Promise<Uint8Array> {
  const read = iterator.next()
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const r = timeoutMs > 0
      ? await Promise.race([read, new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new FabricError('TIMEOUT', `no frame within ${timeoutMs} ms`)) }, timeoutMs)
      })])
      : await read
    if (r.done === true) throw new FabricError('INVALID_STATE', 'stream ended')
    return r.value
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}

/**
 * The deadline of the frame under way (ChannelOptions.frameDeadlineMs):
 * stops when no frame is under way, and starts afresh when a new one began
 * (a frame completed), so a busy channel whose reads end mid-frame is timed
 * per frame, not from its first byte.
 */
export class FrameDeadline {
  private readonly ms: number
  private readonly expire: (err: FabricError) => void
  private timer: ReturnType<typeof setTimeout> | undefined

  /** @param ms the deadline, ms (0: none) @param expire called once with FabricError TIMEOUT when it passes */
  constructor (ms: number, expire: (err: FabricError) => void) {
    this.ms = ms
    this.expire = expire
  }

  /** After each read: `midFrame` from the decoder, `completedOne` when the read completed a frame. */
  watch (midFrame: boolean, completedOne: boolean): void {
    if (this.ms <= 0) return
    if (!midFrame) {
      this.clear()
    } else if (this.timer === undefined || completedOne) {
      this.clear()
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.expire(new FabricError('TIMEOUT', `a frame did not arrive whole within ${this.ms} ms`))
      }, this.ms)
      unref(this.timer)
    }
  }

  clear (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}

/** Lets a Node timer not hold the process open; browsers' timers are numbers. */
export function unref (timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer) (timer as { unref: () => void }).unref()
}
