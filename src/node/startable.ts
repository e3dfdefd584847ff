/**
 * The one shape of the node's services: started in dependency order by the
 * composition root (node.ts) and stopped in reverse, so a service never runs
 * without what it depends on.
 */

/** A service the node starts and stops. */
export interface Startable {
  /** Binds what the service serves; resolves once it serves. */
  start: () => Promise<void>
  /** Stops serving and ends what the service holds; safe after a failed start. */
  stop: () => Promise<void>
}

/**
 * Starts `services` one after another, in order. When one fails, those
 * already started are stopped, in reverse, and the failure is rethrown.
 */
export async function startInOrder (services: readonly Startable[]): Promise<void> {
  for (let i = 0; i < services.length; i++) {
    try {
      await services[i].start()
    } catch (err) {
      await stopInReverse(services.slice(0, i)).catch(() => {})
      throw err
    }
  }
}

/**
 * Stops `services` one after another, last first. Every one is stopped even
 * when an earlier stop throws.
 * @throws the first stop's error, once all have run
 */
export async function stopInReverse (services: readonly Startable[]): Promise<void> {
  let failure: { err: unknown } | undefined
  for (let i = services.length - 1; i >= 0; i--) {
    try {
      await services[i].stop()
    } catch (err) {
      failure ??= { err }
    }
  }
  if (failure !== undefined) throw failure.err
}
