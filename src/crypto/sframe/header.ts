/**
 * The SFrame header codec (RFC 9605 section 4.3). Layout:
 *
 *   config byte: X(1) K(3) Y(1) C(3), then the KID bytes, then the CTR bytes.
 *
 * A KID or CTR below 8 sits in K or C with its flag clear and takes no extra
 * bytes; otherwise the flag is set, the 3-bit field holds (length - 1), and
 * the value follows in the minimum number of big-endian bytes (1..8). So a
 * header is 1 to 17 bytes and both values are unsigned 64-bit integers,
 * carried here as bigint.
 */
import { MalformedError } from '../../errors.js'
import { MAX_UINT64 } from '../bytes.js'

/** Longest possible header: config byte + 8 KID bytes + 8 CTR bytes. */
export const SFRAME_HEADER_MAX_LENGTH = 17

/** A decoded SFrame header. */
export interface SFrameHeader {
  /** Key ID, 0 .. 2^64 - 1. */
  readonly kid: bigint
  /** Counter, 0 .. 2^64 - 1. */
  readonly ctr: bigint
  /** Encoded header bytes (1..17); the ciphertext starts here. */
  readonly length: number
}

// BYTE_LIMITS[n] = 2^(8n): the smallest value that needs more than n bytes.
const BYTE_LIMITS: readonly bigint[] = Array.from({ length: 9 }, (_, n) => 1n << BigInt(8 * n))

/** Extra bytes `value` takes after the config byte: 0 when it fits in 3 bits, else its minimal big-endian length. */
function extraBytes (what: string, value: bigint): number {
  if (value < 0n || value > MAX_UINT64) throw new MalformedError(`SFrame ${what} ${value} is outside [0, 2^64 - 1]`)
  if (value < 8n) return 0
  let length = 1
  while (length < 8 && value >= BYTE_LIMITS[length]) length++
  return length
}

/**
 * Encoded length in bytes (1..17) of the header for `kid` and `ctr`.
 * @throws MalformedError when kid or ctr is outside [0, 2^64 - 1].
 */
export function sframeHeaderLength (kid: bigint, ctr: bigint): number {
  return 1 + extraBytes('KID', kid) + extraBytes('CTR', ctr)
}

function writeValue (out: Uint8Array, offset: number, value: bigint, length: number): void {
  // Split once into 32-bit halves and shift numbers: bigint shifts allocate per step.
  let lo = Number(value & 0xffff_ffffn)
  let hi = Number(value >> 32n)
  for (let i = length - 1, n = 0; i >= 0; i--, n++) {
    if (n < 4) {
      out[offset + i] = lo & 0xff
      lo >>>= 8
    } else {
      out[offset + i] = hi & 0xff
      hi >>>= 8
    }
  }
}

/**
 * Writes the minimal header for `kid` and `ctr` into `out` at `offset`;
 * returns the number of bytes written (1..17).
 * @throws MalformedError when kid or ctr is outside [0, 2^64 - 1].
 * @throws RangeError when `out` has no room (a caller bug, not bad input).
 */
export function encodeSFrameHeaderInto (kid: bigint, ctr: bigint, out: Uint8Array, offset = 0): number {
  const kidBytes = extraBytes('KID', kid)
  const ctrBytes = extraBytes('CTR', ctr)
  const length = 1 + kidBytes + ctrBytes
  if (offset < 0 || offset + length > out.byteLength) throw new RangeError(`no room for a ${length}-byte SFrame header at offset ${offset}`)
  const k = kidBytes === 0 ? Number(kid) : 0x80 | ((kidBytes - 1) << 4)
  const c = ctrBytes === 0 ? Number(ctr) : 0x08 | (ctrBytes - 1)
  out[offset] = (kidBytes === 0 ? k << 4 : k) | c
  writeValue(out, offset + 1, kid, kidBytes)
  writeValue(out, offset + 1 + kidBytes, ctr, ctrBytes)
  return length
}

/**
 * The minimal header for `kid` and `ctr` as a new 1..17-byte array.
 * @throws MalformedError when kid or ctr is outside [0, 2^64 - 1].
 */
export function encodeSFrameHeader (kid: bigint, ctr: bigint): Uint8Array {
  const out = new Uint8Array(sframeHeaderLength(kid, ctr))
  encodeSFrameHeaderInto(kid, ctr, out, 0)
  return out
}

/** Reads a 1..8 byte extended value, refusing encodings longer than needed. */
function readValue (what: string, bytes: Uint8Array, offset: number, length: number): bigint {
  if (offset + length > bytes.byteLength) throw new MalformedError(`SFrame header truncated: ${what} needs ${length} bytes, ${bytes.byteLength - offset} left`)
  // The RFC requires the minimum length; refusing other spellings keeps one
  // header per (KID, CTR), so the authenticated header bytes are canonical.
  if (length > 1 && bytes[offset] === 0) throw new MalformedError(`SFrame ${what} has a leading zero byte (not minimal)`)
  // Accumulate in two number halves (each < 2^32) and build one bigint at the end.
  let hi = 0
  let lo = 0
  for (let i = 0; i < length; i++) {
    hi = ((hi << 8) | (lo >>> 24)) >>> 0
    lo = ((lo << 8) | bytes[offset + i]) >>> 0
  }
  const value = hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo)
  if (value < 8n) throw new MalformedError(`SFrame ${what} ${value} is extended but fits in the config byte (not minimal)`)
  return value
}

/**
 * Parses the SFrame header at `offset` of `bytes`. Never reads past the end.
 * @throws MalformedError when the bytes are truncated or not minimally encoded.
 */
export function decodeSFrameHeader (bytes: Uint8Array, offset = 0): SFrameHeader {
  if (offset >= bytes.byteLength) throw new MalformedError('SFrame header truncated: no config byte')
  const config = bytes[offset]
  let at = offset + 1
  let kid: bigint
  if ((config & 0x80) === 0) {
    kid = BigInt((config >> 4) & 0x07)
  } else {
    const length = ((config >> 4) & 0x07) + 1
    kid = readValue('KID', bytes, at, length)
    at += length
  }
  let ctr: bigint
  if ((config & 0x08) === 0) {
    ctr = BigInt(config & 0x07)
  } else {
    const length = (config & 0x07) + 1
    ctr = readValue('CTR', bytes, at, length)
    at += length
  }
  return { kid, ctr, length: at - offset }
}
