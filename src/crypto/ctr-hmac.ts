/**
 * The backend-independent pieces of the SFrame AES-CTR + HMAC AEAD
 * (RFC 9605 section 4.5.1): key split, initial counter block, and the fixed
 * head of the HMAC input. Each backend supplies only AES-CTR and HMAC.
 */
import type { AesCtrHmacAlgorithm } from './aead.js'

/** Bytes of the fixed HMAC input head: aad_len(8) || ct_len(8) || tag_len(8) || nonce(12). */
export const CTR_HMAC_AUTH_HEAD_LENGTH = 36

/**
 * Splits an Nk-byte key into enc_key (first Nka bytes) and auth_key (the
 * rest), as views into `key` (no copy). Lengths are the caller's to check.
 */
export function splitCtrHmacKey (algorithm: AesCtrHmacAlgorithm, key: Uint8Array): { encKey: Uint8Array, authKey: Uint8Array } {
  return { encKey: key.subarray(0, algorithm.encKeyLength), authKey: key.subarray(algorithm.encKeyLength) }
}

/** The 16-byte AES-CTR initial counter block: the 12-byte nonce followed by four zero bytes. */
export function ctrInitialCounter (nonce: Uint8Array): Uint8Array {
  const block = new Uint8Array(16)
  block.set(nonce)
  return block
}

/**
 * The 36-byte head of the HMAC input, to be followed by aad then ciphertext:
 * aad length, ciphertext length and tag length, each 8 bytes big-endian,
 * then the 12-byte nonce. Putting the lengths first makes the aad/ciphertext
 * boundary unambiguous.
 */
export function ctrHmacAuthHead (algorithm: AesCtrHmacAlgorithm, nonce: Uint8Array, aadLength: number, ciphertextLength: number): Uint8Array {
  const head = new Uint8Array(CTR_HMAC_AUTH_HEAD_LENGTH)
  const view = new DataView(head.buffer)
  view.setBigUint64(0, BigInt(aadLength), false)
  view.setBigUint64(8, BigInt(ciphertextLength), false)
  view.setBigUint64(16, BigInt(algorithm.tagLength), false)
  head.set(nonce, 24)
  return head
}
