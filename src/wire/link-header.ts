/**
 * The link-seal header, version 1 (protocol/link-seal.md section 3): 12 bytes in front
 * of every relay-to-subscriber packet, sent in the clear and authenticated as
 * the AEAD's AAD.
 *
 *   offset 0  version   u8      = 1
 *   offset 1  kind      u8      1 = media chunk; 0 and 2..255 reserved
 *   offset 2  reserved  u16     = 0
 *   offset 4  sequence  u64 BE  link sequence, also the nonce counter
 */
import { FabricError, MalformedError } from '../errors.js'

/** Header bytes. */
export const LINK_HEADER_LENGTH = 12

/** The only version this code speaks. */
export const LINK_HEADER_VERSION = 1

/** Bytes of the AES-128-GCM tag that ends every sealed link packet. */
export const LINK_TAG_LENGTH = 16

/** Packet kinds. Only MediaChunk exists in version 1; other values are reserved. */
export const LinkKind = Object.freeze({
  /** A fabric media chunk (metadata + SFrame), as built by the wire chunk codec. */
  MediaChunk: 1
} as const)

/** A kind value defined in this version. */
export type LinkKind = typeof LinkKind[keyof typeof LinkKind]

const MAX_SEQUENCE = 0xffff_ffff_ffff_ffffn

/** A decoded link header. */
export interface LinkHeader {
  readonly version: typeof LINK_HEADER_VERSION
  readonly kind: LinkKind
  /** Link sequence, 0 .. 2^64 - 1. */
  readonly sequence: bigint
}

/**
 * Writes a version-1 header for (`kind`, `sequence`) into `out` at `offset`
 * (12 bytes); returns `out`. Allocates a fresh 12-byte array when `out` is omitted.
 * @throws MalformedError when sequence is outside [0, 2^64 - 1] or kind is not defined.
 * @throws RangeError when `out` has no room for 12 bytes at `offset` (a caller bug).
 */
export function encodeLinkHeader (kind: LinkKind, sequence: bigint, out: Uint8Array = new Uint8Array(LINK_HEADER_LENGTH), offset = 0): Uint8Array {
  if (kind !== LinkKind.MediaChunk) throw new MalformedError(`link kind ${String(kind)} is reserved`)
  if (sequence < 0n || sequence > MAX_SEQUENCE) throw new MalformedError(`link sequence ${sequence} is outside [0, 2^64 - 1]`)
  if (offset < 0 || offset + LINK_HEADER_LENGTH > out.byteLength) throw new RangeError(`no room for a link header at offset ${offset}`)
  const view = new DataView(out.buffer, out.byteOffset + offset, LINK_HEADER_LENGTH)
  view.setUint8(0, LINK_HEADER_VERSION)
  view.setUint8(1, kind)
  view.setUint16(2, 0)
  view.setBigUint64(4, sequence, false)
  return out
}

/**
 * Parses the header at the start of `bytes` (which may continue with the
 * sealed body). Checks the version first, so a future version is reported as
 * such rather than as garbage.
 * @throws MalformedError when fewer than 12 bytes are given, the kind is reserved or the reserved field is not 0.
 * @throws FabricError('UNSUPPORTED_VERSION') when the version is not 1.
 */
export function decodeLinkHeader (bytes: Uint8Array): LinkHeader {
  if (bytes.byteLength < LINK_HEADER_LENGTH) throw new MalformedError(`link packet is ${bytes.byteLength} bytes, shorter than the ${LINK_HEADER_LENGTH}-byte header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, LINK_HEADER_LENGTH)
  const version = view.getUint8(0)
  if (version !== LINK_HEADER_VERSION) throw new FabricError('UNSUPPORTED_VERSION', `link header version ${version} (speak ${LINK_HEADER_VERSION})`)
  const kind = view.getUint8(1)
  if (kind !== LinkKind.MediaChunk) throw new MalformedError(`link kind ${kind} is reserved`)
  const reserved = view.getUint16(2)
  if (reserved !== 0) throw new MalformedError(`link header reserved field is ${reserved}, must be 0`)
  return { version: LINK_HEADER_VERSION, kind, sequence: view.getBigUint64(4, false) }
}
