/**
 * Byte helpers shared by the crypto layer. Pure and free of node:crypto so the
 * browser-shared code (noble backend, SFrame) can use them too.
 */
import { MalformedError } from '../errors.js'

/** Largest value an unsigned 64-bit field (SFrame KID/CTR, link sequence) holds: 2^64 - 1. */
export const MAX_UINT64 = 0xffff_ffff_ffff_ffffn

/**
 * Concatenates byte arrays into one new Uint8Array of their summed length.
 * One allocation, one copy per part.
 */
export function concatBytes (...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/**
 * Compares two byte arrays in time that depends only on their lengths, so a
 * tag comparison does not tell an attacker how many leading bytes matched.
 * Returns false when the lengths differ.
 */
export function constantTimeEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let diff = 0
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i]
  return diff === 0
}

/**
 * Builds an AEAD nonce as `salt XOR counter`, the counter right-aligned as a
 * big-endian integer (RFC 9605 section 4.4.3; the link seal reuses the rule).
 * `salt` is at least 8 bytes (12 in practice); the result has its length.
 * Writes into `out` when given (same length as salt), else allocates.
 * @throws MalformedError when counter is outside [0, 2^64 - 1] or salt is shorter than 8 bytes.
 */
export function xorCounterIntoSalt (salt: Uint8Array, counter: bigint, out: Uint8Array = new Uint8Array(salt.byteLength)): Uint8Array {
  if (salt.byteLength < 8) throw new MalformedError(`salt is ${salt.byteLength} bytes, need at least 8`)
  if (counter < 0n || counter > MAX_UINT64) throw new MalformedError(`counter ${counter} does not fit in 64 unsigned bits`)
  out.set(salt)
  // Two 32-bit halves as numbers: cheaper per frame than bigint byte arithmetic.
  xorUint32BE(out, salt.byteLength - 8, Number(counter >> 32n))
  xorUint32BE(out, salt.byteLength - 4, Number(counter & 0xffff_ffffn))
  return out
}

function xorUint32BE (out: Uint8Array, offset: number, value: number): void {
  out[offset] ^= value >>> 24
  out[offset + 1] ^= value >>> 16
  out[offset + 2] ^= value >>> 8
  out[offset + 3] ^= value
}

/**
 * Throws MalformedError unless `bytes` is exactly `expected` bytes long;
 * `what` names the field in the message.
 */
export function requireLength (what: string, bytes: Uint8Array, expected: number): void {
  if (bytes.byteLength !== expected) throw new MalformedError(`${what} is ${bytes.byteLength} bytes, expected ${expected}`)
}

/**
 * A plain Uint8Array view of the same memory as `bytes` (no copy). Node
 * returns Buffers, whose `slice()` shares memory instead of copying; handing
 * out plain views keeps `slice()` meaning what callers of a Uint8Array API expect.
 */
export function plainView (bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
