/**
 * SFrame key ids for MLS-keyed media (RFC 9605 section 5.2):
 *
 *   KID = (context << (S + E)) + (sender_leaf_index << E) + (epoch mod 2^E)
 *
 * with E = 8 epoch bits, S = 16 sender bits and 8 context bits, so every KID
 * fits in 32 bits. `context` separates one sender's tracks (camera, microphone,
 * screen) so that each track has its own SFrame key and counter space.
 */
import { MalformedError } from '../errors.js'
import { MAX_LEAF_INDEX } from '../wire/limits.js'

/** E: low bits of the MLS epoch carried in a KID. */
export const KID_EPOCH_BITS = 8
/**
 * S: bits for the sender's MLS leaf index. They make the fabric's bound on
 * leaf indices, MAX_LEAF_INDEX = 2^16 - 1 (wire/limits.ts), which the chunk's
 * track and the relay check as well.
 */
export const KID_SENDER_BITS = 16
/** Bits for the per-sender context (track kind). */
export const KID_CONTEXT_BITS = 8

/** Largest context value a KID can carry (2^8 - 1). */
export const KID_MAX_CONTEXT = (1 << KID_CONTEXT_BITS) - 1
const SENDER_MASK = (1n << BigInt(KID_SENDER_BITS)) - 1n
/** Number of distinct epoch values a KID tells apart (2^8). */
export const KID_EPOCH_MODULUS = 1n << BigInt(KID_EPOCH_BITS)
/** Largest KID this layout produces (2^32 - 1). */
export const KID_MAX = (1n << BigInt(KID_EPOCH_BITS + KID_SENDER_BITS + KID_CONTEXT_BITS)) - 1n

/** Track context values (camera, microphone, screen), shared with the chunk's track field. */
export { TrackContext } from '../wire/track.js'

/** The fields a KID packs. */
export interface KidFields {
  /** Track context, 0..255 (see TrackContext). */
  context: number
  /** MLS leaf index of the sender, 0..MAX_LEAF_INDEX (65535). */
  senderLeafIndex: number
  /** Full MLS epoch (>= 0); only its low E bits go into the KID. */
  epoch: bigint
}

/** The fields a KID carries: the epoch only as its low E bits. */
export interface DecodedKid {
  /** Track context, 0..255. */
  context: number
  /** MLS leaf index of the sender, 0..65535. */
  senderLeafIndex: number
  /** epoch mod 2^8; resolve to a full epoch with EpochKeyRing.baseKeyForEpochBits. */
  epochLowBits: number
}

/**
 * Packs a KID (RFC 9605 section 5.2).
 *
 * @returns the KID, 0 <= KID <= KID_MAX
 * @throws MalformedError when context, senderLeafIndex or epoch is out of range
 *         (non-integer, negative, or wider than its field)
 */
export function encodeKid (fields: KidFields): bigint {
  const { context, senderLeafIndex, epoch } = fields
  if (!Number.isInteger(context) || context < 0 || context > KID_MAX_CONTEXT) {
    throw new MalformedError(`KID context ${context} outside 0..${KID_MAX_CONTEXT}`)
  }
  if (!Number.isInteger(senderLeafIndex) || senderLeafIndex < 0 || senderLeafIndex > MAX_LEAF_INDEX) {
    throw new MalformedError(`KID sender leaf index ${senderLeafIndex} outside 0..${MAX_LEAF_INDEX}`)
  }
  if (typeof epoch !== 'bigint' || epoch < 0n) {
    throw new MalformedError(`KID epoch ${String(epoch)} is not a non-negative bigint`)
  }
  return (BigInt(context) << BigInt(KID_SENDER_BITS + KID_EPOCH_BITS)) +
    (BigInt(senderLeafIndex) << BigInt(KID_EPOCH_BITS)) +
    (epoch % KID_EPOCH_MODULUS)
}

/**
 * Unpacks a KID (RFC 9605 section 5.2).
 *
 * @param kid the KID read from an SFrame header
 * @throws MalformedError when kid is negative or above KID_MAX (the SFrame
 *         header allows 64-bit KIDs, but this layout never makes one that wide)
 */
export function decodeKid (kid: bigint): DecodedKid {
  if (typeof kid !== 'bigint' || kid < 0n || kid > KID_MAX) {
    throw new MalformedError(`KID ${String(kid)} outside 0..${KID_MAX}`)
  }
  return {
    context: Number(kid >> BigInt(KID_SENDER_BITS + KID_EPOCH_BITS)),
    senderLeafIndex: Number((kid >> BigInt(KID_EPOCH_BITS)) & SENDER_MASK),
    epochLowBits: Number(kid % KID_EPOCH_MODULUS),
  }
}
