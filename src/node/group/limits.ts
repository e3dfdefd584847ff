/**
 * Bounds and defaults of the group service core (the MLS delivery service of
 * protocol/control.md section 3). Each bound caps what one peer, or one stream, can make a node
 * hold; a request that would cross one is refused with code QUOTA_EXCEEDED
 * and changes nothing. Byte bounds on names, identities and MLS messages are
 * the wire layer's (src/wire/limits.ts).
 */
import { MAX_ADDED_PER_COMMIT } from '../../wire/limits.js'
import { OPEN_DEADLINE_MS } from '../stream-deadlines.js'

/** Default wait, in ms, from the start of an epoch until EpochReady is sent without every ack. */
export const DEFAULT_EPOCH_READY_TIMEOUT_MS = 2000

/** Default bound on the streams one node hosts at once. */
export const MAX_STREAMS_PER_NODE = 1024

/**
 * Default bound on the streams one identity owns at once: one identity
 * created 1023 streams in 3.5 s and locked every other user out of the
 * node's stream slots.
 */
export const MAX_STREAMS_PER_IDENTITY = 8

/**
 * Default bound on the pending joiners of one stream: the wire's
 * MAX_ADDED_PER_COMMIT (256), so the committer can always admit every
 * waiting joiner in one Commit. A committer denies a join it does not admit
 * at once, which frees the slot.
 */
export const MAX_PENDING_JOINERS_PER_STREAM = MAX_ADDED_PER_COMMIT

/** Default bound on the joins one identity has pending across all streams. */
export const MAX_PENDING_JOINS_PER_IDENTITY = 16

/**
 * Default time a join may wait for the committer's Add or denial, ms. Long
 * enough for a person to answer a knock; after it the joiner gets TIMEOUT
 * and its slot is free again.
 */
export const DEFAULT_PENDING_JOIN_TIMEOUT_MS = 120_000

/** Default time a new group stream has to send its create or join, ms: the node's OPEN_DEADLINE_MS. */
export const DEFAULT_BIND_TIMEOUT_MS = OPEN_DEADLINE_MS

/**
 * Default bound on the group streams one identity holds open on one node
 * (members, joiners and unbound streams together).
 */
export const MAX_GROUP_STREAMS_PER_IDENTITY = 64

/**
 * Default bound on the members of one stream; a commit that would exceed it
 * is refused. Every epoch change sends the full roster to every member, so
 * the cost of an epoch grows with the square of this number; it stays well
 * under the wire's Roster bound (MAX_ROSTER).
 */
export const MAX_MEMBERS_PER_STREAM = 1024

/**
 * KeyPackage fetches the committer may make for one pending joiner: the
 * first for its Commit, the rest for retries after losing an epoch.
 */
export const FETCHES_PER_PENDING_JOIN = 3

/**
 * Largest frame a group stream may send while it is not a committer's:
 * create, join (with a 2 KiB redemption), ack and leave are all far
 * smaller. Only a committer sends Commits and Welcomes (up to the wire's
 * MAX_CONTROL_FRAME), so a peer that is nothing yet cannot park megabytes.
 */
export const MAX_GROUP_REQUEST_FRAME = 8 * 1024

/**
 * Default grace period of a member whose group stream broke, ms: it stays in
 * the roster this long, so it can reconnect and resume without rejoining;
 * after it, the designated committer is asked to remove it. Ten seconds
 * covers a node restart and a network blip, and is short enough that a
 * member who is gone does not hold up the others' Commits for long.
 */
export const DEFAULT_MEMBER_GRACE_MS = 10_000

/**
 * Default number of recent Commits the service keeps per stream, so a
 * member that missed some while away can catch up on resume. 64 epochs is
 * longer than a call sees in the grace period.
 */
export const DEFAULT_COMMIT_LOG_ENTRIES = 64

/**
 * Default bound on the bytes of the Commit log of one stream. The oldest
 * Commits go first; a member behind the log rejoins with a fresh KeyPackage
 * (REJOIN_NEEDED). 256 KiB holds 64 Commits of a 100-member group (about
 * 2.5 KiB each), and at the node's 1024 streams bounds the logs to 256 MiB.
 */
export const DEFAULT_COMMIT_LOG_BYTES = 256 * 1024
