/**
 * CPU time of one process split into its main (JavaScript) thread and all
 * other threads (V8 GC helpers, libuv pool), read from /proc. The split says
 * whether a cost sits on the event loop, which bounds a node's throughput, or
 * in background threads that only compete for the machine's other cores.
 * Linux only; returns undefined elsewhere or when the process is gone.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100

/** CPU seconds (user + system) of the main thread and of all other threads. */
export interface ThreadCpu {
  mainS: number
  otherS: number
}

function ticksOf (statLine: string): number {
  // Fields after the parenthesised command name: state is the first, utime the 12th, stime the 13th.
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** Reads the split for `pid` now. */
export function threadCpu (pid: number | undefined): ThreadCpu | undefined {
  if (pid === undefined) return undefined
  try {
    let main = 0
    let other = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let ticks: number
      try { ticks = ticksOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) } catch { continue }
      if (Number(tid) === pid) main += ticks
      else other += ticks
    }
    return { mainS: main / TICKS_PER_S, otherS: other / TICKS_PER_S }
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system) of `pid`, all threads; NaN when unreadable. */
export function processCpuSeconds (pid: number | undefined): number {
  if (pid === undefined) return NaN
  try {
    return ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) / TICKS_PER_S
  } catch {
    return NaN
  }
}

/** CPU used between two readings, seconds. */
export function threadCpuDelta (a: ThreadCpu | undefined, b: ThreadCpu | undefined): ThreadCpu {
  if (a === undefined || b === undefined) return { mainS: NaN, otherS: NaN }
  return { mainS: b.mainS - a.mainS, otherS: b.otherS - a.otherS }
}
