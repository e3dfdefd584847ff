/**
 * The deadlines the node holds every protocol's streams to
 * (protocol/limits.md "Deadlines"), one definition each: the group, directory
 * and media services all use these. A peer that opens a stream and sends
 * nothing, sends half a frame, or never closes its side of a stream the node
 * closed would otherwise hold the stream, and what the node buffered for it,
 * for as long as it liked. The media frame deadline (30 s, a 1 MiB keyframe
 * over a slow uplink) is the media ingress's own: media/ingress.ts.
 */

/**
 * Time a peer has to send the first frame of a stream it opened, ms: a media
 * stream's open, a directory request, a group stream's create or join (the
 * last two the defaults of their services' options).
 */
export const OPEN_DEADLINE_MS = 10_000

/**
 * Longest time one control frame (group, directory, av open and notices)
 * may take to arrive once its first byte has, ms; the stream is reset after.
 */
export const CONTROL_FRAME_DEADLINE_MS = 10_000

/**
 * How long a peer has to close its side of a stream the node closed (a
 * refusal, a denied or expired join, a bind timeout, the stream's end)
 * before the node resets it, ms. Closing is only a half-close: without the
 * reset, a peer that never closed its side kept the stream, and its slot,
 * for as long as its connection lived; and a refused non-member that kept
 * sending on its media stream made the node queue 150 MiB within a second
 * (the node reads no more of a refused stream: FrameChannel.stopReading).
 */
export const CLOSE_GRACE_MS = 2_000

/** Wait a going-away notice (group or publish stream) asks members to keep before reconnecting, ms: long enough for a restart to bind again. */
export const GOING_AWAY_RETRY_MS = 500
