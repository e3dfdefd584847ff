/**
 * The per-identity connection bound of a node: a peer may hold at most
 * `max` connections to it at once; a connection beyond that is closed as
 * soon as it opens. Every quota keyed by identity (streams, joins, group
 * streams) would otherwise multiply by the connections one peer opens.
 * Also counts the connections that ended in error, by the error's name:
 * libp2p's connection monitor cuts a peer that misses its liveness pings
 * with a TimeoutError (host.ts), so that count is the liveness cuts.
 */
import type { Libp2p, StreamCloseEvent } from '@libp2p/interface'

/** Default connections one identity may hold to a node. */
export const MAX_CONNECTIONS_PER_IDENTITY = 4

/** Counts of the connection bound, updated live. */
export interface ConnectionQuotaCounters {
  /** Connections closed at open because their peer already held the most allowed. */
  refused: number
  /** Connections that ended in error, by the error's name (TimeoutError: a missed liveness ping). */
  aborted: Record<string, number>
}

/**
 * Enforces the bound on `libp2p` from now on.
 *
 * @param exempt peer ids the bound does not apply to (operator-trusted relays and load generators)
 * @returns the live counters
 */
export function limitConnectionsPerIdentity (libp2p: Libp2p, max: number, exempt: ReadonlySet<string> = new Set()): ConnectionQuotaCounters {
  const counters: ConnectionQuotaCounters = { refused: 0, aborted: {} }
  libp2p.addEventListener('connection:open', (evt) => {
    const conn = evt.detail
    conn.addEventListener('close', (e) => {
      const error = (e as StreamCloseEvent).error
      if (error === undefined) return
      const name = error.name === '' ? 'Error' : error.name
      counters.aborted[name] = (counters.aborted[name] ?? 0) + 1
    }, { once: true })
    const peer = conn.remotePeer
    if (exempt.has(peer.toString())) return
    if (libp2p.getConnections(peer).length <= max) return
    counters.refused++
    conn.abort(new Error(`${peer.toString()} already holds ${max} connections to this node`))
  })
  return counters
}
