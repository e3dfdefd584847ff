/**
 * The `fabric-node` options that set a node's quotas and bounds, as one
 * table: each names its flag, what it bounds, its default (the library's
 * constant, so the help text never drifts from the code) and where it goes
 * in NodeConfig. docs/operator.md lists the same table.
 */
import { DEFAULT_IN_FLIGHT_FRAME_BYTES } from '../transport/frame-budget.js'
import { MAX_CONNECTIONS_PER_IDENTITY } from '../node/connection-quota.js'
import {
  DEFAULT_MAX_BYTES_PER_IDENTITY, DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY, DEFAULT_MAX_TOTAL_BYTES,
} from '../node/directory-store.js'
import { DEFAULT_MAX_KEY_PACKAGE_EXTENSION_BYTES } from '../node/directory-service.js'
import {
  DEFAULT_COMMIT_LOG_BYTES, DEFAULT_COMMIT_LOG_ENTRIES, DEFAULT_MEMBER_GRACE_MS,
  DEFAULT_PENDING_JOIN_TIMEOUT_MS, MAX_GROUP_STREAMS_PER_IDENTITY, MAX_MEMBERS_PER_STREAM, MAX_PENDING_JOINERS_PER_STREAM,
  MAX_PENDING_JOINS_PER_IDENTITY, MAX_STREAMS_PER_IDENTITY, MAX_STREAMS_PER_NODE,
} from '../node/group-core.js'
import { NODE_LIVENESS_TIMEOUT_MS } from '../transport/libp2p/host.js'
import type { NodeConfig } from '../node/node.js'
import { DEFAULT_RELAY_CONFIG } from '../relay/relay-node.js'
import { MAX_ADDED_PER_COMMIT, MAX_ROSTER } from '../wire/limits.js'

/** One numeric node option. */
export interface QuotaOption {
  /** The flag without its leading dashes. */
  readonly flag: string
  /** What it bounds, for --help and the operator guide. */
  readonly help: string
  readonly defaultValue: number
  /** The largest value the node honours, when a protocol bound caps it (the core refuses more at start). */
  readonly max?: number
  /** Writes `value` into `config`. */
  readonly apply: (config: NodeConfig, value: number) => void
}

const group = (key: keyof NonNullable<NodeConfig['group']>) => (c: NodeConfig, v: number): void => { c.group = { ...c.group, [key]: v } }
const relay = (key: keyof NonNullable<NodeConfig['relay']>) => (c: NodeConfig, v: number): void => { c.relay = { ...c.relay, [key]: v } }
const directory = (key: keyof NonNullable<NodeConfig['directory']>) => (c: NodeConfig, v: number): void => { c.directory = { ...c.directory, [key]: v } }

/** Every quota option of `fabric-node start`. */
export const QUOTA_OPTIONS: readonly QuotaOption[] = [
  { flag: 'max-connections-per-identity', help: 'connections one identity may hold to the node', defaultValue: MAX_CONNECTIONS_PER_IDENTITY, apply: (c, v) => { c.maxConnectionsPerIdentity = v } },
  { flag: 'liveness-timeout-ms', help: 'a peer that leaves a liveness ping unanswered this long is cut', defaultValue: NODE_LIVENESS_TIMEOUT_MS, apply: (c, v) => { c.livenessTimeoutMs = v } },
  { flag: 'max-streams', help: 'streams the node hosts at once', defaultValue: MAX_STREAMS_PER_NODE, apply: group('maxStreams') },
  { flag: 'max-streams-per-identity', help: 'streams one identity owns at once', defaultValue: MAX_STREAMS_PER_IDENTITY, apply: group('maxStreamsPerIdentity') },
  { flag: 'max-pending-joins', help: 'joins waiting for the committer, per stream', defaultValue: MAX_PENDING_JOINERS_PER_STREAM, max: MAX_ADDED_PER_COMMIT, apply: group('maxPendingJoiners') },
  { flag: 'max-pending-joins-per-identity', help: 'joins one identity has waiting, over all streams', defaultValue: MAX_PENDING_JOINS_PER_IDENTITY, apply: group('maxPendingJoinsPerIdentity') },
  { flag: 'pending-join-timeout-ms', help: 'a join the committer has not answered expires after this long', defaultValue: DEFAULT_PENDING_JOIN_TIMEOUT_MS, apply: group('pendingJoinTimeoutMs') },
  { flag: 'max-group-streams-per-identity', help: 'group streams one identity holds open', defaultValue: MAX_GROUP_STREAMS_PER_IDENTITY, apply: group('maxGroupStreamsPerIdentity') },
  { flag: 'max-members', help: 'members of one stream', defaultValue: MAX_MEMBERS_PER_STREAM, max: MAX_ROSTER, apply: group('maxMembers') },
  { flag: 'member-grace-ms', help: 'a member whose connection broke may resume this long before its removal is asked for', defaultValue: DEFAULT_MEMBER_GRACE_MS, apply: group('memberGraceMs') },
  { flag: 'commit-log-entries', help: 'recent Commits kept per stream for members that resume', defaultValue: DEFAULT_COMMIT_LOG_ENTRIES, apply: group('commitLogEntries') },
  { flag: 'commit-log-bytes', help: 'bytes of recent Commits kept per stream', defaultValue: DEFAULT_COMMIT_LOG_BYTES, apply: group('commitLogBytes') },
  { flag: 'group-frame-bytes-in-flight', help: 'bytes of group frames under way over all streams', defaultValue: DEFAULT_IN_FLIGHT_FRAME_BYTES, apply: group('inFlightFrameBytes') },
  { flag: 'directory-max-per-identity', help: 'one-use KeyPackages stored per identity', defaultValue: DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY, apply: directory('maxPerIdentity') },
  { flag: 'directory-bytes-per-identity', help: 'KeyPackage bytes stored per identity', defaultValue: DEFAULT_MAX_BYTES_PER_IDENTITY, apply: directory('maxBytesPerIdentity') },
  { flag: 'directory-bytes', help: 'KeyPackage bytes stored in all', defaultValue: DEFAULT_MAX_TOTAL_BYTES, apply: directory('maxTotalBytes') },
  { flag: 'directory-extension-bytes', help: 'extension bytes one KeyPackage may carry', defaultValue: DEFAULT_MAX_KEY_PACKAGE_EXTENSION_BYTES, apply: directory('maxExtensionBytes') },
  { flag: 'queue-bytes', help: 'bytes queued for one subscriber before its frames are dropped', defaultValue: DEFAULT_RELAY_CONFIG.subscriberQueueBytes, apply: relay('subscriberQueueBytes') },
  { flag: 'max-tracks-per-member', help: 'tracks one member publishes per stream', defaultValue: DEFAULT_RELAY_CONFIG.maxTracksPerPublisher, apply: relay('maxTracksPerPublisher') },
  { flag: 'max-tracks-per-stream', help: 'tracks of one stream', defaultValue: DEFAULT_RELAY_CONFIG.maxTracksPerStream, apply: relay('maxTracksPerStream') },
  { flag: 'max-subscriptions-per-member', help: 'subscriptions one member holds per stream', defaultValue: DEFAULT_RELAY_CONFIG.maxSubscriptionsPerIdentity, apply: relay('maxSubscriptionsPerIdentity') },
  { flag: 'gop-cache-bytes-per-member', help: 'GOP cache bytes of one member\'s tracks', defaultValue: DEFAULT_RELAY_CONFIG.gopCacheBytesPerPublisher, apply: relay('gopCacheBytesPerPublisher') },
  { flag: 'gop-cache-bytes-per-stream', help: 'GOP cache bytes of one stream', defaultValue: DEFAULT_RELAY_CONFIG.gopCacheBytesPerStream, apply: relay('gopCacheBytesPerStream') },
]

/** The usage lines of the quota options. */
export function quotaUsage (): string {
  return QUOTA_OPTIONS.map((o) => `  --${`${o.flag} N`.padEnd(36)} ${o.help} (default ${o.defaultValue})`).join('\n') + '\n'
}
