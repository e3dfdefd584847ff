/**
 * Stops a command whose parent went away. `npx fabric-node start` runs the
 * node as a grandchild (npm exec, then `sh -c`); a SIGTERM to npm ends npm
 * and the shell but is not passed on, so the node was left running with
 * init as its parent. The process's parent id is read afresh on every call
 * (libuv's getppid), so a change of it means the parent exited: the command
 * then stops as if it had been sent SIGTERM.
 */

/** How often the parent id is checked, ms. */
export const PARENT_CHECK_INTERVAL_MS = 500

/**
 * Calls `onOrphaned` once when this process's parent exits. A process
 * started with init (pid 1) as its parent, as under a service manager or
 * in a container, has no parent to lose and is not watched.
 * @returns a function that stops watching
 */
export function watchParent (onOrphaned: () => void, intervalMs = PARENT_CHECK_INTERVAL_MS): () => void {
  const parent = process.ppid
  if (parent <= 1) return () => {}
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onOrphaned()
  }, intervalMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
