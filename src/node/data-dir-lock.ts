/**
 * Who holds a data directory. The KeyPackage store is LevelDB, which takes
 * an fcntl write lock on its LOCK file for as long as a process has it open;
 * a second open fails with a bare "Database failed to open". On Linux the
 * kernel lists every such lock with its owner's pid in /proc/locks, so the
 * node can say which process to stop.
 */
import { readFile, stat } from 'node:fs/promises'

/** Who holds a lock file: a pid, `unknown` (held, or not knowable here), or `free`. */
export type LockHolder = number | 'unknown' | 'free'

/**
 * Looks `lockFile` up in /proc/locks by its inode.
 * @returns the pid of the process holding a lock on it; `free` when the
 *   kernel lists none; `unknown` when /proc/locks or the file cannot be read
 *   (not Linux, no /proc), so the caller must not rule a holder out. Never throws.
 */
export async function lockHolder (lockFile: string): Promise<LockHolder> {
  let ino: number
  let locks: string
  try {
    ino = (await stat(lockFile)).ino
    locks = await readFile('/proc/locks', 'utf8')
  } catch {
    return 'unknown'
  }
  // "1: POSIX  ADVISORY  WRITE 4242 08:01:1234567 0 EOF" (a blocked waiter's line has "->" first).
  for (const line of locks.split('\n')) {
    const m = /^\d+:\s+(?:->\s+)?\S+\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line)
    if (m !== null && Number(m[2]) === ino) return Number(m[1])
  }
  return 'free'
}
