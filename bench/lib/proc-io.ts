/**
 * Write system calls of one process, from /proc/<pid>/io (`syscw`). The
 * fan-out divides them by delivered frames: every socket write on loopback is
 * a syscall plus, with TCP_NODELAY, a TCP segment the receiver must process,
 * so writes per frame price the transport path independently of clock noise.
 * Linux only; undefined elsewhere or when the process is gone.
 */
import { readFileSync } from 'node:fs'

/** Write syscalls `pid` has made so far. */
export function writeSyscalls (pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const m = /^syscw:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}
