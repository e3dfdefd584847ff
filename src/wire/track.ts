/**
 * The track field of chunk metadata (protocol/chunk.md "Track"): a u32 that
 * is (sender's MLS leaf index << 8) | context. `context` is the sender's
 * track kind, the same value the SFrame KID carries (RFC 9605 section 5.2),
 * so a receiver can refuse a chunk whose KID names another sender or track.
 * The field has 24 bits for the leaf index, but a leaf index is at most
 * MAX_LEAF_INDEX (65 535, what an SFrame KID carries): wider ones are refused.
 */
import { MAX_LEAF_INDEX } from './limits.js'

/** Track kinds (the SFrame KID `context`); values 3..255 are reserved. */
export const TrackContext = {
  /** Camera video. */
  video: 0,
  /** Microphone audio. */
  audio: 1,
  /** Screen share video. */
  screen: 2
} as const

/** Largest u32 track value a chunk may carry: leaf MAX_LEAF_INDEX, context 255. */
export const MAX_TRACK = MAX_LEAF_INDEX * 256 + 0xff

/**
 * Builds a track value.
 * @param leafIndex sender's MLS leaf index, 0..MAX_LEAF_INDEX (65 535)
 * @param context track kind, 0..255 (TrackContext)
 * @returns u32 track
 * @throws RangeError when either argument is out of range or not an integer
 */
export function makeTrack (leafIndex: number, context: number): number {
  if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex > MAX_LEAF_INDEX) throw new RangeError(`leaf index out of range 0..${MAX_LEAF_INDEX}: ${leafIndex}`)
  if (!Number.isInteger(context) || context < 0 || context > 0xff) throw new RangeError(`track context out of range: ${context}`)
  return (leafIndex * 256) + context
}

/** The sender's MLS leaf index of a u32 track (its top 24 bits; at most MAX_LEAF_INDEX in a valid chunk). */
export function trackLeafIndex (track: number): number {
  return track >>> 8
}

/** The context (track kind) of a u32 track (its low 8 bits). */
export function trackContext (track: number): number {
  return track & 0xff
}
