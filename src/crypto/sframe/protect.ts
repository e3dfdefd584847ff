/**
 * Stateless SFrame encryption and decryption (RFC 9605 section 4.4.3 and
 * 4.4.4):
 *
 *   nonce  = sframe_salt XOR CTR (CTR right-aligned, big-endian)
 *   aad    = header || metadata
 *   output = header || AEAD.Encrypt(sframe_key, nonce, aad, plaintext)
 *
 * The metadata is not sent inside the SFrame; the caller carries it in the
 * clear (fabric's chunk metadata) and hands the same bytes to both sides, so
 * what the relay reads is still authenticated end to end. Counter policy
 * (never reuse a CTR under one key) lives in sender.ts.
 */
import { MalformedError, UnknownKidError } from '../../errors.js'
import type { CryptoBackend } from '../backend.js'
import { xorCounterIntoSalt } from '../bytes.js'
import { decodeSFrameHeader, encodeSFrameHeaderInto, sframeHeaderLength, type SFrameHeader } from './header.js'
import type { SFrameKeyMaterial } from './keys.js'

/** What unprotect recovers from one SFrame. */
export interface SFrameUnprotected {
  /** KID from the header. */
  readonly kid: bigint
  /** CTR from the header. */
  readonly ctr: bigint
  /** Decrypted frame payload (SFrame length - headerLength - Nt bytes). */
  readonly plaintext: Uint8Array
  /** Header bytes at the start of the SFrame (1..17). */
  readonly headerLength: number
}

/**
 * nonce = salt XOR CTR (RFC 9605 section 4.4.3): 12 bytes.
 * @throws MalformedError when ctr is outside [0, 2^64 - 1].
 */
export function sframeNonce (salt: Uint8Array, ctr: bigint): Uint8Array {
  return xorCounterIntoSalt(salt, ctr)
}

/**
 * Encrypts one frame: returns header || ciphertext || tag, i.e. header
 * (1..17) + plaintext + Nt bytes. The caller guarantees that (keys, ctr) was
 * never used before; SFrameSender does that bookkeeping.
 * @throws MalformedError when ctr is outside [0, 2^64 - 1] or the key material has wrong lengths.
 */
export function sframeProtect (backend: CryptoBackend, keys: SFrameKeyMaterial, ctr: bigint, metadata: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const headerLength = sframeHeaderLength(keys.kid, ctr)
  // Build header || metadata once: it is the AAD, and its head is the output prefix.
  const aad = new Uint8Array(headerLength + metadata.byteLength)
  encodeSFrameHeaderInto(keys.kid, ctr, aad, 0)
  aad.set(metadata, headerLength)
  const nonce = sframeNonce(keys.salt, ctr)
  return backend.aead(keys.suite.aead).seal(keys.key, nonce, aad, plaintext, aad.subarray(0, headerLength))
}

/**
 * Decrypts an SFrame whose header was already parsed (and whose keys were
 * chosen by its KID). Returns the plaintext.
 * @throws MalformedError when the bytes after the header are shorter than the tag.
 * @throws AuthenticationError when the tag does not verify (wrong key, altered header, metadata or ciphertext).
 */
export function sframeOpen (backend: CryptoBackend, keys: SFrameKeyMaterial, header: SFrameHeader, metadata: Uint8Array, sframe: Uint8Array): Uint8Array {
  const nt = keys.suite.nt
  if (sframe.byteLength - header.length < nt) throw new MalformedError(`SFrame is ${sframe.byteLength} bytes: too short for a ${header.length}-byte header and a ${nt}-byte tag`)
  const aad = new Uint8Array(header.length + metadata.byteLength)
  aad.set(sframe.subarray(0, header.length), 0)
  aad.set(metadata, header.length)
  const nonce = sframeNonce(keys.salt, header.ctr)
  return backend.aead(keys.suite.aead).open(keys.key, nonce, aad, sframe.subarray(header.length))
}

/**
 * Decrypts one SFrame (header || ciphertext || tag) with `keys`.
 * @throws MalformedError when the header does not parse or the SFrame is shorter than header + tag.
 * @throws UnknownKidError when the header's KID is not `keys.kid`.
 * @throws AuthenticationError when the tag does not verify.
 */
export function sframeUnprotect (backend: CryptoBackend, keys: SFrameKeyMaterial, metadata: Uint8Array, sframe: Uint8Array): SFrameUnprotected {
  const header = decodeSFrameHeader(sframe)
  if (header.kid !== keys.kid) throw new UnknownKidError(header.kid)
  const plaintext = sframeOpen(backend, keys, header, metadata, sframe)
  return { kid: header.kid, ctr: header.ctr, plaintext, headerLength: header.length }
}
