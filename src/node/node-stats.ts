import type { TreeTotals } from './fabric/stream-plans.js'

/**
 * The shape of a node's counters snapshot (the admin API's /api/v1/stats and
 * the source of /metrics), in a module of its own so that the node and its
 * metrics both import it without importing each other.
 */
import type { RelayNode } from '../relay/relay-node.js'
import type { WebRtcListenerStats } from '../transport/webrtc/listener.js'
import type { DirectoryCounters } from './directory-service.js'
import type { GroupServiceCore } from './group-core.js'
import type { MediaService } from './media/media-service.js'

/** Snapshot of a node's counters. */
export interface NodeStats {
  peerId: string
  uptimeMs: number
  memory: NodeJS.MemoryUsage
  /** Process CPU time, µs (user and system). */
  cpu: NodeJS.CpuUsage
  relay: ReturnType<RelayNode['stats']>
  /** The media service's counters, and its live channels. */
  av: MediaService['counters'] & { live: ReturnType<MediaService['streamCounts']> }
  directory: DirectoryCounters
  group: {
    streams: Array<{ stream: string, epoch: string, committer: string, members: string[], pendingJoins: number }>
    malformed: number
    /** Group streams open and joins pending now, over every stream. */
    load: { conns: number, pendingJoins: number }
    /** Refusals by code, denied and expired joins, unbound and refused group streams. */
    counters: GroupServiceCore['counters']
    /** Frame bytes announced but not yet whole on group streams, the budget, and streams reset for it. */
    framesInFlight: { bytes: number, capacity: number, refused: number }
  }
  /** Connections closed at open for the per-identity bound, open now, and ended in error by error name (TimeoutError: liveness). */
  connections: { refused: number, open: number, aborted: Record<string, number> }
  /** The WebRTC listener's counters, when the web endpoint is on. */
  webrtc?: WebRtcListenerStats
  /**
   * Absent without a fabric. `accepted`/`refused`: nodes that proved the
   * fabric key to this one and were refused it (node-auth handshakes);
   * `links`: streams relayed here from their homes (`parents`) and pulled
   * back from nodes this one feeds (`children`), rosters applied, streams
   * let go when idle, moves to another parent; `rosters`: tree links this
   * node serves as a home (rosters and assignments sent, heartbeats
   * received); `trees`: the relay trees rooted here, summed over streams
   * (GET /api/v1/mesh has them per stream and relay).
   */
  fabric?: {
    accepted: number
    refused: number
    links: { parents: number, children: number, rosters: number, idleClosed: number, moves: number, unusedClosed: number }
    rosters: { open: number, refused: number, sent: number, assignments: number, heartbeats: number }
    trees: TreeTotals
  }
}
