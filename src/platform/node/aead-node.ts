/**
 * node:crypto (OpenSSL) implementations of the `Aead` contract: AES-GCM and
 * the RFC 9605 section 4.5.1 AES-CTR + HMAC construction. This is the media
 * path: one OpenSSL context per call (node cannot rekey a context), one
 * output allocation for the sealed bytes, inputs passed as views, never copied.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import { AuthenticationError } from '../../errors.js'
import { GCM_TAG_LENGTH } from '../../crypto/backend.js'
import { checkKeyAndNonce, type Aead, type AeadAlgorithm, type AesCtrHmacAlgorithm, type AesGcmAlgorithm } from '../../crypto/aead.js'
import { plainView } from '../../crypto/bytes.js'
import { ctrHmacAuthHead, ctrInitialCounter, splitCtrHmacKey } from '../../crypto/ctr-hmac.js'

const EMPTY = new Uint8Array(0)

/**
 * The output buffer for prefix || body || tag, with the prefix written.
 * allocUnsafe is safe because every byte is written before it is returned.
 * Allocating it before the cipher runs measured about 2x faster at 64 KiB
 * than allocating after update() (the cipher's short-lived buffer is then
 * freed while hot).
 */
function outputFor (prefix: Uint8Array, plaintextLength: number, tagLength: number): Buffer {
  const out = Buffer.allocUnsafe(prefix.byteLength + plaintextLength + tagLength)
  out.set(prefix, 0)
  return out
}

class NodeAesGcm implements Aead {
  readonly algorithm: AesGcmAlgorithm
  readonly keyLength: number
  readonly nonceLength: number
  readonly tagLength: number
  private readonly cipherName: 'aes-128-gcm' | 'aes-256-gcm'

  constructor (algorithm: AesGcmAlgorithm) {
    this.algorithm = algorithm
    this.keyLength = algorithm.keyLength
    this.nonceLength = algorithm.nonceLength
    this.tagLength = algorithm.tagLength
    this.cipherName = algorithm.keyLength === 16 ? 'aes-128-gcm' : 'aes-256-gcm'
  }

  seal (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix: Uint8Array = EMPTY): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    const out = outputFor(prefix, plaintext.byteLength, 16)
    const cipher = createCipheriv(this.cipherName, key, nonce, { authTagLength: 16 })
    if (aad.byteLength > 0) cipher.setAAD(aad)
    out.set(cipher.update(plaintext), prefix.byteLength)
    // GCM is a stream mode: final() only computes the tag and yields no bytes.
    cipher.final()
    out.set(cipher.getAuthTag(), prefix.byteLength + plaintext.byteLength)
    return plainView(out)
  }

  open (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    return openGcm(this.cipherName, key, nonce, aad, sealed)
  }
}

/**
 * Opens `sealed` (ciphertext || 16-byte tag) with AES-GCM on node:crypto;
 * the nonce and key lengths are the caller's to check.
 * @throws AuthenticationError when the input is shorter than the tag or does not verify
 */
export function openGcm (cipherName: 'aes-128-gcm' | 'aes-256-gcm', key: Uint8Array | KeyObject, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.byteLength < GCM_TAG_LENGTH) throw new AuthenticationError('sealed input is shorter than the tag')
  const split = sealed.byteLength - GCM_TAG_LENGTH
  const decipher = createDecipheriv(cipherName, key, nonce, { authTagLength: GCM_TAG_LENGTH })
  if (aad.byteLength > 0) decipher.setAAD(aad)
  decipher.setAuthTag(sealed.subarray(split))
  const plaintext = decipher.update(sealed.subarray(0, split))
  try {
    decipher.final()
  } catch (cause) {
    throw new AuthenticationError(undefined, { cause })
  }
  return plainView(plaintext)
}

class NodeAesCtrHmac implements Aead {
  readonly algorithm: AesCtrHmacAlgorithm
  readonly keyLength: number
  readonly nonceLength: number
  readonly tagLength: number
  private readonly cipherName: 'aes-128-ctr' | 'aes-256-ctr'

  constructor (algorithm: AesCtrHmacAlgorithm) {
    this.algorithm = algorithm
    this.keyLength = algorithm.keyLength
    this.nonceLength = algorithm.nonceLength
    this.tagLength = algorithm.tagLength
    this.cipherName = algorithm.encKeyLength === 16 ? 'aes-128-ctr' : 'aes-256-ctr'
  }

  private tag (authKey: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const head = ctrHmacAuthHead(this.algorithm, nonce, aad.byteLength, ciphertext.byteLength)
    const mac = createHmac(this.algorithm.hash, authKey).update(head).update(aad).update(ciphertext).digest()
    return mac.subarray(0, this.tagLength)
  }

  seal (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix: Uint8Array = EMPTY): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    const { encKey, authKey } = splitCtrHmacKey(this.algorithm, key)
    const out = outputFor(prefix, plaintext.byteLength, this.tagLength)
    const body = out.subarray(prefix.byteLength, prefix.byteLength + plaintext.byteLength)
    const cipher = createCipheriv(this.cipherName, encKey, ctrInitialCounter(nonce))
    body.set(cipher.update(plaintext))
    // CTR is a stream mode: final() yields no bytes.
    cipher.final()
    out.set(this.tag(authKey, nonce, aad, body), prefix.byteLength + plaintext.byteLength)
    return plainView(out)
  }

  open (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    if (sealed.byteLength < this.tagLength) throw new AuthenticationError('sealed input is shorter than the tag')
    const split = sealed.byteLength - this.tagLength
    const { encKey, authKey } = splitCtrHmacKey(this.algorithm, key)
    const ciphertext = sealed.subarray(0, split)
    // Verify before decrypting so no unauthenticated plaintext ever exists.
    if (!timingSafeEqual(this.tag(authKey, nonce, aad, ciphertext), sealed.subarray(split))) throw new AuthenticationError()
    const decipher = createDecipheriv(this.cipherName, encKey, ctrInitialCounter(nonce))
    const plaintext = decipher.update(ciphertext)
    decipher.final()
    return plainView(plaintext)
  }
}

/**
 * A node:crypto `Aead` for `algorithm` (AES-128/256-GCM or an AES-CTR + HMAC
 * variant). Stateless; callers may share one instance.
 */
export function createNodeAead (algorithm: AeadAlgorithm): Aead {
  return algorithm.kind === 'aes-gcm' ? new NodeAesGcm(algorithm) : new NodeAesCtrHmac(algorithm)
}
