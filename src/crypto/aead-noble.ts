/**
 * @noble/ciphers implementations of the `Aead` contract: AES-GCM and the
 * RFC 9605 section 4.5.1 AES-CTR + HMAC construction. Pure JavaScript, so
 * code shared with browsers can use it; about 10x slower than node:crypto, so
 * the node media path does not. Tests run it against aead-node.ts.
 */
import { ctr, gcm } from '@noble/ciphers/aes.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { AuthenticationError } from '../errors.js'
import { checkKeyAndNonce, type Aead, type AeadAlgorithm, type AesCtrHmacAlgorithm, type AesGcmAlgorithm } from './aead.js'
import { constantTimeEqual } from './bytes.js'
import { ctrHmacAuthHead, ctrInitialCounter, splitCtrHmacKey } from './ctr-hmac.js'

const EMPTY = new Uint8Array(0)

function withPrefix (prefix: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (prefix.byteLength === 0) return sealed
  const out = new Uint8Array(prefix.byteLength + sealed.byteLength)
  out.set(prefix, 0)
  out.set(sealed, prefix.byteLength)
  return out
}

class NobleAesGcm implements Aead {
  readonly algorithm: AesGcmAlgorithm
  readonly keyLength: number
  readonly nonceLength: number
  readonly tagLength: number

  constructor (algorithm: AesGcmAlgorithm) {
    this.algorithm = algorithm
    this.keyLength = algorithm.keyLength
    this.nonceLength = algorithm.nonceLength
    this.tagLength = algorithm.tagLength
  }

  seal (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix: Uint8Array = EMPTY): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    return withPrefix(prefix, gcm(key, nonce, aad).encrypt(plaintext))
  }

  open (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    if (sealed.byteLength < this.tagLength) throw new AuthenticationError('sealed input is shorter than the tag')
    try {
      return gcm(key, nonce, aad).decrypt(sealed)
    } catch (cause) {
      throw new AuthenticationError(undefined, { cause })
    }
  }
}

class NobleAesCtrHmac implements Aead {
  readonly algorithm: AesCtrHmacAlgorithm
  readonly keyLength: number
  readonly nonceLength: number
  readonly tagLength: number

  constructor (algorithm: AesCtrHmacAlgorithm) {
    this.algorithm = algorithm
    this.keyLength = algorithm.keyLength
    this.nonceLength = algorithm.nonceLength
    this.tagLength = algorithm.tagLength
  }

  private tag (authKey: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const head = ctrHmacAuthHead(this.algorithm, nonce, aad.byteLength, ciphertext.byteLength)
    const mac = hmac.create(this.algorithm.hash === 'sha256' ? sha256 : sha512, authKey)
    mac.update(head).update(aad).update(ciphertext)
    return mac.digest().subarray(0, this.tagLength)
  }

  seal (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix: Uint8Array = EMPTY): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    const { encKey, authKey } = splitCtrHmacKey(this.algorithm, key)
    // noble can encrypt into a caller's buffer only at 4-byte alignment, which
    // a 1..17-byte prefix breaks, so the ciphertext is copied once.
    const body = ctr(encKey, ctrInitialCounter(nonce)).encrypt(plaintext)
    const out = new Uint8Array(prefix.byteLength + body.byteLength + this.tagLength)
    out.set(prefix, 0)
    out.set(body, prefix.byteLength)
    out.set(this.tag(authKey, nonce, aad, body), prefix.byteLength + body.byteLength)
    return out
  }

  open (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    checkKeyAndNonce(this.algorithm, key, nonce)
    if (sealed.byteLength < this.tagLength) throw new AuthenticationError('sealed input is shorter than the tag')
    const split = sealed.byteLength - this.tagLength
    const { encKey, authKey } = splitCtrHmacKey(this.algorithm, key)
    const ciphertext = sealed.subarray(0, split)
    // Verify before decrypting so no unauthenticated plaintext ever exists.
    if (!constantTimeEqual(this.tag(authKey, nonce, aad, ciphertext), sealed.subarray(split))) throw new AuthenticationError()
    return ctr(encKey, ctrInitialCounter(nonce)).decrypt(ciphertext)
  }
}

/**
 * A @noble/ciphers `Aead` for `algorithm` (AES-128/256-GCM or an AES-CTR +
 * HMAC variant). Stateless; callers may share one instance.
 */
export function createNobleAead (algorithm: AeadAlgorithm): Aead {
  return algorithm.kind === 'aes-gcm' ? new NobleAesGcm(algorithm) : new NobleAesCtrHmac(algorithm)
}
