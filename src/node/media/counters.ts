/**
 * What the media service's parts count and the clock they give the relay:
 * one counters object that ingress, egress and the upstream link each add
 * to (the admin API's `av` stats and /metrics read it whole).
 */

/** Counters of the media service beyond RelayNode's own. */
export interface AvCounters {
  /** Publish channels admitted. */
  publishStreams: number
  /** Subscribe channels admitted. */
  subscribeStreams: number
  /** Publish or subscribe opens answered with an error. */
  refusedOpens: number
  /** Chunks refused: by the relay checks, or sealed wrongly by the upstream node. */
  rejectedChunks: number
  /** `rejectedChunks` by FabricError code (the upstream's bad seals are not in it). */
  rejectedByCode: Record<string, number>
  /** Keyframe requests written to publishers and to the upstream node. */
  keyframeRequestsSent: number
}

/** A fresh, zeroed AvCounters. */
export function newAvCounters (): AvCounters {
  return { publishStreams: 0, subscribeStreams: 0, refusedOpens: 0, rejectedChunks: 0, rejectedByCode: {}, keyframeRequestsSent: 0 }
}

/**
 * The clock of every time the relay is given, ms: monotonic and
 * sub-millisecond, for the latency histograms (RelayNode.queueDelay,
 * forwardLatency) as much as for keyframe-request throttling.
 */
export const relayClock = (): number => performance.now()
