/**
 * Bounds and defaults of the group service core (the MLS delivery service of
 * design.md). Each bound caps memory one set of peers can make a node hold;
 * a request that would cross one is refused with code TOO_LARGE and changes
 * nothing. Byte bounds on names, identities and MLS messages are the wire
 * layer's (src/wire/limits.ts).
 */

/** Protocol version carried by every GroupServerMessage and required of every GroupClientMessage. */
export const GROUP_PROTOCOL_VERSION = 1

/** Default wait, in ms, from the start of an epoch until EpochReady is sent without every ack. */
export const DEFAULT_EPOCH_READY_TIMEOUT_MS = 2000

/** Default bound on the streams one node hosts at once; `create` beyond it is refused (TOO_LARGE). */
export const MAX_STREAMS_PER_NODE = 1024

/**
 * Default bound on the pending joiners of one stream; `join` beyond it is
 * refused (TOO_LARGE). Equal to the session layer's MAX_ADDS_PER_COMMIT, so
 * the committer can always admit every waiting joiner in one Commit.
 */
export const MAX_PENDING_JOINERS_PER_STREAM = 256

/**
 * Default bound on the members of one stream; a commit that would exceed it
 * is refused (TOO_LARGE). Every epoch change sends the full roster to every
 * member, so the cost of an epoch grows with the square of this number; it
 * stays well under the wire's Roster bound (MAX_ROSTER).
 */
export const MAX_MEMBERS_PER_STREAM = 1024
