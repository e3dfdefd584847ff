/**
 * The per-identity connection bound of a node: a peer may hold at most
 * `max` connections to it at once; a connection beyond that is closed as
 * soon as it opens. Every quota keyed by identity (streams, joins, group
 * streams) would otherwise multiply by the connections one peer opens.
 */
import type { Libp2p } from '@libp2p/interface'

/** Default connections one identity may hold to a node. */
export const MAX_CONNECTIONS_PER_IDENTITY = 4

/** Counts of the connection bound, updated live. */
export interface ConnectionQuotaCounters {
  /** Connections closed at open because their peer already held the most allowed. */
  refused: number
}

/**
 * Enforces the bound on `libp2p` from now on.
 *
 * @param exempt peer ids the bound does not apply to (operator-trusted relays and load generators)
 * @returns the live counters
 */
export function limitConnectionsPerIdentity (libp2p: Libp2p, max: number, exempt: ReadonlySet<string> = new Set()): ConnectionQuotaCounters {
  const counters: ConnectionQuotaCounters = { refused: 0 }
  libp2p.addEventListener('connection:open', (evt) => {
    const conn = evt.detail
    const peer = conn.remotePeer
    if (exempt.has(peer.toString())) return
    if (libp2p.getConnections(peer).length <= max) return
    counters.refused++
    conn.abort(new Error(`${peer.toString()} already holds ${max} connections to this node`))
  })
  return counters
}
