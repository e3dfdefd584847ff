/**
 * The portable `CryptoBackend`: AEAD and AES-GCM on @noble/ciphers, hashes,
 * HMAC and HKDF on @noble/hashes, X25519 and Ed25519 on @noble/curves,
 * randomness from WebCrypto's `crypto.getRandomValues` (browsers and Node 20
 * both have it). Pure JavaScript and synchronous, so browsers run the media
 * path on it; about 10x slower than node:crypto for bulk AEAD, so the Node
 * media path does not (src/platform/node/backend-node.ts).
 */
import { gcm } from '@noble/ciphers/aes.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { AuthenticationError, MalformedError, TooLargeError } from '../errors.js'
import { createNobleAead } from './aead-noble.js'
import { ED25519_KEY_BYTES, ED25519_SIGNATURE_BYTES, X25519_PUBLIC_KEY_LENGTH } from '../wire/limits.js'
import { aeadCache, GCM_TAG_LENGTH, type AesGcmKey, type CryptoBackend, type GcmDetached, type X25519KeyPair, type X25519PrivateKey, type X25519PrivateKeyHandle } from './backend.js'
import { HASH_LENGTH, type HashName } from './hash.js'

const HASHES = { sha256, sha512 } as const
const X25519_LENGTH = X25519_PUBLIC_KEY_LENGTH
const ED25519_LENGTH = ED25519_KEY_BYTES
// DER head of an X25519 PKCS#8 private key (RFC 8410); the raw 32 bytes follow.
const X25519_PKCS8_HEAD = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])

function randomBytes (length: number): Uint8Array {
  const out = new Uint8Array(length)
  // getRandomValues fills at most 65536 bytes per call.
  for (let at = 0; at < length; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)))
  return out
}

function checkNonce (nonce: Uint8Array): void {
  if (nonce.byteLength !== 12) throw new MalformedError(`AES-GCM nonce is ${nonce.byteLength} bytes, expected 12`)
}

class NobleGcmKey implements AesGcmKey {
  private readonly key: Uint8Array

  constructor (key: Uint8Array) {
    if (key.byteLength !== 16 && key.byteLength !== 32) throw new MalformedError(`AES-GCM key is ${key.byteLength} bytes, expected 16 or 32`)
    this.key = Uint8Array.from(key)
  }

  sealDetached (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: GcmDetached): void {
    checkNonce(nonce)
    const sealed = gcm(this.key, nonce, aad).encrypt(plaintext)
    out.ciphertext = sealed.subarray(0, plaintext.byteLength)
    out.tag = sealed.subarray(plaintext.byteLength)
  }

  sealInto (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    checkNonce(nonce)
    out.set(gcm(this.key, nonce, aad).encrypt(plaintext), offset)
  }

  open (nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    checkNonce(nonce)
    if (sealed.byteLength < GCM_TAG_LENGTH) throw new AuthenticationError('sealed input is shorter than the tag')
    try {
      return gcm(this.key, nonce, aad).decrypt(sealed)
    } catch (cause) {
      throw new AuthenticationError(undefined, { cause })
    }
  }
}

/** The portable X25519 private key: the raw scalar, exported as PKCS#8 on request. */
class NobleX25519PrivateKey implements X25519PrivateKeyHandle {
  readonly asymmetricKeyType = 'x25519'
  readonly raw: Uint8Array

  constructor (raw: Uint8Array) {
    this.raw = raw
  }

  export (_options: { format: 'der', type: 'pkcs8' }): Uint8Array {
    const der = new Uint8Array(X25519_PKCS8_HEAD.byteLength + X25519_LENGTH)
    der.set(X25519_PKCS8_HEAD)
    der.set(this.raw, X25519_PKCS8_HEAD.byteLength)
    return der
  }
}

function rawX25519PrivateKey (key: X25519PrivateKey): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.byteLength !== X25519_LENGTH) throw new MalformedError(`private key is ${key.byteLength} bytes, expected ${X25519_LENGTH}`)
    return key
  }
  if (key instanceof NobleX25519PrivateKey) return key.raw
  if (key.asymmetricKeyType !== 'x25519') throw new MalformedError(`private key is ${String(key.asymmetricKeyType)}, expected x25519`)
  // Another backend's handle (e.g. a node KeyObject): take the scalar from its PKCS#8.
  const der = key.export({ format: 'der', type: 'pkcs8' })
  return new Uint8Array(der.subarray(der.byteLength - X25519_LENGTH))
}

function checkSeed (seed: Uint8Array): void {
  if (seed.length !== ED25519_LENGTH) throw new RangeError(`Ed25519 seed must be ${ED25519_LENGTH} bytes, got ${seed.length}`)
}

/** Every primitive on @noble/* (and getRandomValues): the backend browsers use. */
export const nobleBackend: CryptoBackend = Object.freeze({
  name: 'noble',
  aead: aeadCache(createNobleAead),
  hkdfExtract (hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
    return extract(HASHES[hash], ikm, salt)
  },
  hkdfExpand (hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    // Check here so both backends throw the same typed error.
    const limit = 255 * HASH_LENGTH[hash]
    if (!Number.isInteger(length) || length < 0 || length > limit) throw new TooLargeError('HKDF-Expand output', length, limit)
    return expand(HASHES[hash], prk, info, length)
  },
  hmac (hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    return hmac(HASHES[hash], key, data)
  },
  digest (hash: HashName, ...parts: Uint8Array[]): Uint8Array {
    const h = HASHES[hash].create()
    for (const part of parts) h.update(part)
    return h.digest()
  },
  randomBytes,
  allocUnsafe (length: number): Uint8Array {
    return new Uint8Array(length)
  },
  aesGcmKey (key: Uint8Array): AesGcmKey {
    return new NobleGcmKey(key)
  },
  x25519: Object.freeze({
    generateKeyPair (): X25519KeyPair {
      const raw = x25519.utils.randomSecretKey()
      return { privateKey: new NobleX25519PrivateKey(raw), publicKey: x25519.getPublicKey(raw) }
    },
    sharedSecret (privateKey: X25519PrivateKey, publicKey: Uint8Array): Uint8Array {
      const raw = rawX25519PrivateKey(privateKey)
      try {
        return x25519.getSharedSecret(raw, publicKey)
      } catch (cause) {
        // noble refuses the all-zero secret a small-order point yields.
        throw new MalformedError('X25519 failed: peer public key is a small-order point', { cause })
      }
    }
  }),
  ed25519: Object.freeze({
    sign (seed: Uint8Array, message: Uint8Array): Uint8Array {
      checkSeed(seed)
      return ed25519.sign(message, seed)
    },
    verify (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      if (publicKey.length !== ED25519_LENGTH || signature.length !== ED25519_SIGNATURE_BYTES) return false
      try {
        // RFC 8032 rules (not ZIP 215), as OpenSSL checks them on the node backend.
        return ed25519.verify(signature, message, publicKey, { zip215: false })
      } catch {
        return false
      }
    },
    publicKey (seed: Uint8Array): Uint8Array {
      checkSeed(seed)
      return ed25519.getPublicKey(seed)
    }
  }),
  replacesMlsCrypto: false
})

/** The backend a browser entry point installs: `nobleBackend` under the name the node one is contrasted with. */
export const portableBackend: CryptoBackend = nobleBackend
