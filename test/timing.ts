/**
 * Timing helpers shared by the tests: bound a promise, poll a condition,
 * sleep. Tests assert on outcomes, never on durations; these bounds only
 * turn a hang into a clear failure.
 */

/** Rejects after `ms` unless `p` settles first. */
export async function within<T> (p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${what} did not finish within ${ms} ms`)) }, ms)
    })])
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}

/** Polls `cond` every few ms; rejects when it is still false after `ms`. */
export async function until (cond: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Resolves after `ms`. */
export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
