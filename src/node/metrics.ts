/**
 * Prometheus exposition of a node's counters (GET /metrics on the admin
 * endpoint), built with prom-client on a registry of the node's own. Values
 * are read from the services' counters at scrape time, so the media path
 * never touches the metrics library. Per-stream labels only: per-subscriber
 * series would grow without bound. The latency histograms are the relay's
 * own bucket counters (LatencyHistogram), exposed as they stand at the
 * scrape. Every family lints under `promtool check metrics`: those whose
 * names the node does not choose (process and libp2p metrics) are fixed in
 * the text (prometheus-lint.ts).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric, type MetricValueWithName } from 'prom-client'
import type { HistogramSnapshot } from '../relay/latency-histogram.js'
import type { NodeStats } from './node-stats.js'
import { applyLintFixes, lintFixes } from './prometheus-lint.js'

/**
 * Registers a histogram family whose buckets, sum and count are read from
 * a LatencyHistogram snapshot (ms) at each scrape, in seconds. prom-client's
 * Histogram only learns values through observe(); the registry itself needs
 * nothing but `get()`.
 */
function snapshotHistogram (registry: Registry, name: string, help: string, read: () => HistogramSnapshot): void {
  const get = async (): Promise<{ name: string, help: string, type: 'histogram', aggregator: 'sum', values: Array<MetricValueWithName<string>> }> => {
    const h = read()
    const values: Array<MetricValueWithName<string>> = h.boundsMs.map((b, i) => ({ metricName: `${name}_bucket`, labels: { le: b / 1000 }, value: h.cumulative[i] }))
    values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count })
    values.push({ metricName: `${name}_sum`, labels: {}, value: h.sumMs / 1000 })
    values.push({ metricName: `${name}_count`, labels: {}, value: h.count })
    return { name, help, type: 'histogram', aggregator: 'sum', values }
  }
  registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get, reset () {} } as unknown as Metric)
}

/**
 * Registers the node's metrics on `registry` (a fresh one by default) and
 * returns it; they reflect `stats()` at every scrape.
 */
export function createMetrics (stats: () => NodeStats, registry: Registry = new Registry()): Registry {
  // CPU, resident memory, heap, event-loop lag, GC; the misnamed *_total gauges are left out at scrape (prometheus-lint.ts).
  collectDefaultMetrics({ register: registry, prefix: 'fabric_node_' })
  let snapshot: NodeStats | undefined
  // One stats() call per scrape, shared by every metric's collect().
  const current = (): NodeStats => (snapshot ??= stats())
  const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter, s: NodeStats) => void): void => {
    new Counter({ name, help, labelNames, registers: [registry], collect () { this.reset(); fill(this, current()) } }) // eslint-disable-line no-new
  }
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: NodeStats) => void): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect () { this.reset(); fill(this, current()) } }) // eslint-disable-line no-new
  }

  counter('fabric_relay_chunks_in_total', 'Media chunks received from publishers.', ['stream'], (c, s) => { for (const x of s.relay.streams) c.inc({ stream: x.stream }, x.chunksIn) })
  counter('fabric_relay_bytes_in_total', 'Media bytes received from publishers.', ['stream'], (c, s) => { for (const x of s.relay.streams) c.inc({ stream: x.stream }, x.bytesIn) })
  counter('fabric_relay_rejected_total', 'Chunks refused by the relay checks.', ['stream'], (c, s) => { for (const x of s.relay.streams) c.inc({ stream: x.stream }, x.rejected) })
  gauge('fabric_relay_subscribers', 'Admitted subscriptions.', ['stream'], (g, s) => { for (const x of s.relay.streams) g.set({ stream: x.stream }, x.subscribers) })
  const perStream = (key: 'forwarded' | 'forwardedBytes' | 'dropped' | 'skipped' | 'queuedBytes', s: NodeStats): Map<string, number> => {
    const m = new Map<string, number>()
    for (const x of s.relay.subscribers) m.set(x.stream, (m.get(x.stream) ?? 0) + x[key])
    return m
  }
  counter('fabric_relay_forwarded_total', 'Chunks sealed and sent to current subscribers.', ['stream'], (c, s) => { for (const [k, v] of perStream('forwarded', s)) c.inc({ stream: k }, v) })
  counter('fabric_relay_forwarded_bytes_total', 'Bytes sent to current subscribers.', ['stream'], (c, s) => { for (const [k, v] of perStream('forwardedBytes', s)) c.inc({ stream: k }, v) })
  counter('fabric_relay_dropped_total', 'Chunks dropped for current subscribers by the slow-subscriber policy.', ['stream'], (c, s) => { for (const [k, v] of perStream('dropped', s)) c.inc({ stream: k }, v) })
  counter('fabric_relay_skipped_total', 'Deltas skipped for subscribers that joined mid-GOP, until their first keyframe (not losses).', ['stream'], (c, s) => { for (const [k, v] of perStream('skipped', s)) c.inc({ stream: k }, v) })
  gauge('fabric_relay_queued_bytes', 'Bytes waiting in subscriber queues.', ['stream'], (g, s) => { for (const [k, v] of perStream('queuedBytes', s)) g.set({ stream: k }, v) })
  counter('fabric_media_rejected_chunks_total', 'Chunks refused, by error code.', ['code'], (c, s) => { for (const [k, v] of Object.entries(s.av.rejectedByCode)) c.inc({ code: k }, v) })
  counter('fabric_media_refused_opens_total', 'Publish or subscribe streams refused at open.', [], (c, s) => { c.inc(s.av.refusedOpens) })
  counter('fabric_keyframe_requests_total', 'Keyframe requests sent to publishers.', [], (c, s) => { c.inc(s.av.keyframeRequestsSent) })
  gauge('fabric_group_streams', 'Streams with a group on this node.', [], (g, s) => { g.set(s.group.streams.length) })
  gauge('fabric_group_members', 'Members per stream.', ['stream'], (g, s) => { for (const x of s.group.streams) g.set({ stream: x.stream }, x.members.length) })
  gauge('fabric_group_epoch', 'Current MLS epoch per stream.', ['stream'], (g, s) => { for (const x of s.group.streams) g.set({ stream: x.stream }, Number(x.epoch)) })
  counter('fabric_directory_published_total', 'KeyPackages stored.', [], (c, s) => { c.inc(s.directory.published) })
  counter('fabric_directory_fetched_total', 'KeyPackages handed out.', [], (c, s) => { c.inc(s.directory.fetched) })
  counter('fabric_directory_refused_total', 'Directory requests refused, by error code (quotas are QUOTA_EXCEEDED).', ['code'], (c, s) => { for (const [k, v] of Object.entries(s.directory.refused)) c.inc({ code: k }, v) })
  gauge('fabric_directory_stored_bytes', 'KeyPackage bytes the directory holds.', [], (g, s) => { g.set(s.directory.storedBytes) })
  gauge('fabric_directory_identities', 'Identities the directory holds KeyPackages for.', [], (g, s) => { g.set(s.directory.identities) })
  counter('fabric_directory_expired_total', 'Expired KeyPackages deleted.', [], (c, s) => { c.inc(s.directory.expiredPurged) })
  // Quotas and bounds (protocol/limits.md): refusals, and what peers hold now.
  counter('fabric_group_refused_total', 'Group requests refused, by error code (quotas are QUOTA_EXCEEDED).', ['code'], (c, s) => { for (const [k, v] of Object.entries(s.group.counters.refused)) c.inc({ code: k }, v) })
  counter('fabric_group_joins_denied_total', 'Joins the committer denied (NOT_ADMITTED).', [], (c, s) => { c.inc(s.group.counters.denied) })
  counter('fabric_group_joins_expired_total', 'Joins that waited past the pending-join timeout.', [], (c, s) => { c.inc(s.group.counters.expiredJoins) })
  counter('fabric_group_unbound_closed_total', 'Group streams closed for sending no create or join in time.', [], (c, s) => { c.inc(s.group.counters.unboundClosed) })
  counter('fabric_group_handovers_total', 'Times the committer role of a stream moved to another member.', [], (c, s) => { c.inc(s.group.counters.handovers) })
  counter('fabric_group_resumed_total', 'Members that resumed on a new group stream after theirs broke.', [], (c, s) => { c.inc(s.group.counters.resumed) })
  counter('fabric_group_rejoins_needed_total', 'Resumes answered REJOIN_NEEDED (the Commit log lacked what the member missed, or its departure was under way).', [], (c, s) => { c.inc(s.group.counters.rejoinsNeeded) })
  counter('fabric_group_grace_expired_total', 'Members asked removed after staying away past the grace period.', [], (c, s) => { c.inc(s.group.counters.graceExpired) })
  counter('fabric_group_streams_refused_total', 'Group streams refused at open for the per-identity bound.', [], (c, s) => { c.inc(s.group.counters.streamsRefused) })
  gauge('fabric_group_pending_joins', 'Joins waiting for a committer.', [], (g, s) => { g.set(s.group.load.pendingJoins) })
  gauge('fabric_group_open_streams', 'Group streams open.', [], (g, s) => { g.set(s.group.load.conns) })
  gauge('fabric_group_frame_bytes_in_flight', 'Bytes of group frames announced but not yet whole.', [], (g, s) => { g.set(s.group.framesInFlight.bytes) })
  counter('fabric_group_frames_over_budget_total', 'Group streams reset because a frame did not fit the budget of frames under way.', [], (c, s) => { c.inc(s.group.framesInFlight.refused) })
  counter('fabric_connections_refused_total', 'Connections closed at open for the per-identity bound.', [], (c, s) => { c.inc(s.connections.refused) })
  gauge('fabric_connections', 'Open libp2p connections.', [], (g, s) => { g.set(s.connections.open) })
  counter('fabric_connections_aborted_total', 'Connections that ended in error, by error name (TimeoutError: a missed liveness ping).', ['reason'], (c, s) => { for (const [k, v] of Object.entries(s.connections.aborted)) c.inc({ reason: k }, v) })
  counter('fabric_node_auth_total', 'Node-auth handshakes with other nodes, by result (accepted: proved the fabric key; refused).', ['result'], (c, s) => {
    if (s.fabric === undefined) return
    c.inc({ result: 'accepted' }, s.fabric.accepted)
    c.inc({ result: 'refused' }, s.fabric.refused)
  })
  gauge('fabric_tree_relays', 'Relays in the relay trees of streams at home here.', [], (g, s) => { g.set(s.fabric?.trees.relays ?? 0) })
  gauge('fabric_tree_unplaced', 'Relays with no place in a tree within its bounds (fed by the home).', [], (g, s) => { g.set(s.fabric?.trees.unplaced ?? 0) })
  gauge('fabric_tree_depth', 'Depth of the deepest relay tree rooted here.', [], (g, s) => { g.set(s.fabric?.trees.depth ?? 0) })
  gauge('fabric_tree_children', 'Children in the trees rooted here: intended (planned) and actual (reported fed).', ['kind'], (g, s) => {
    g.set({ kind: 'intended' }, s.fabric?.trees.intendedChildren ?? 0)
    g.set({ kind: 'actual' }, s.fabric?.trees.actualChildren ?? 0)
  })
  counter('fabric_tree_timeouts_total', 'Relays failed because their heartbeats stopped.', [], (c, s) => { c.inc(s.fabric?.trees.timeouts ?? 0) })
  counter('fabric_tree_moves_total', 'Times this node moved to another parent in a stream\'s tree.', [], (c, s) => { c.inc(s.fabric?.links.moves ?? 0) })
  gauge('fabric_tree_links', 'Streams this node relays from other homes (parent) and pulls back from nodes it feeds (child).', ['role'], (g, s) => {
    g.set({ role: 'parent' }, s.fabric?.links.parents ?? 0)
    g.set({ role: 'child' }, s.fabric?.links.children ?? 0)
  })
  gauge('fabric_relay_gop_cache_bytes', 'Chunk bytes held in GOP caches.', ['stream'], (g, s) => { for (const x of s.relay.streams) g.set({ stream: x.stream }, x.gopCacheBytes) })
  counter('fabric_relay_gop_evictions_total', 'GOP caches cleared to stay within a cache budget.', ['stream'], (c, s) => { for (const x of s.relay.streams) c.inc({ stream: x.stream }, x.gopEvictions) })
  counter('fabric_relay_quota_refusals_total', 'Tracks and subscriptions refused by a media cap (QUOTA_EXCEEDED).', ['stream', 'cap'], (c, s) => {
    for (const x of s.relay.streams) for (const [k, v] of Object.entries(x.quotaRefusals)) c.inc({ stream: x.stream, cap: k }, v)
  })
  counter('fabric_relay_ownership_refusals_total', 'Chunks refused for a track the publisher does not own.', ['stream', 'reason'], (c, s) => {
    for (const x of s.relay.streams) for (const [k, v] of Object.entries(x.ownershipRefusals)) c.inc({ stream: x.stream, reason: k }, v)
  })

  snapshotHistogram(registry, 'fabric_relay_queue_delay_seconds', 'Time chunks waited in subscriber queues, from arrival (or subscription, for a cached GOP) to the write to the subscriber\'s stream.', () => current().relay.latency.queueDelay)
  snapshotHistogram(registry, 'fabric_relay_forward_latency_seconds', 'Time live chunks took through the node, from the transport read that delivered them to the write to the subscriber\'s stream.', () => current().relay.latency.forwardLatency)

  // Drop the per-scrape snapshot once every collect() of this scrape ran.
  const metrics = registry.metrics.bind(registry)
  registry.metrics = async () => {
    try {
      return applyLintFixes(await metrics(), lintFixes(registry.getMetricsAsArray().map((m) => ({ name: m.name, type: String(m.type) }))))
    } finally {
      snapshot = undefined
    }
  }
  return registry
}
