/**
 * The node:crypto `CryptoBackend`: the one Node processes use (the relay's
 * and the Node client's media path; OpenSSL's AES is about 10x noble's).
 * Lives outside src/crypto so the browser core never imports node:crypto.
 */
import { createCipheriv, createHash, createHmac, createPrivateKey, createPublicKey, createSecretKey, diffieHellman, generateKeyPairSync, randomBytes, KeyObject } from 'node:crypto'
import { MalformedError } from '../../errors.js'
import { X25519_PUBLIC_KEY_LENGTH } from '../../wire/limits.js'
import { aeadCache, type AesGcmKey, type CryptoBackend, type GcmDetached, type X25519KeyPair, type X25519PrivateKey } from '../../crypto/backend.js'
import { plainView } from '../../crypto/bytes.js'
import type { HashName } from '../../crypto/hash.js'
import { createNodeAead, openGcm } from './aead-node.js'
import { ed25519PublicKey, ed25519Sign, ed25519Verify } from './ed25519.js'
import { hkdfExpand, hkdfExtract } from './hkdf.js'

const X25519_LENGTH = X25519_PUBLIC_KEY_LENGTH
// DER heads of X25519 SubjectPublicKeyInfo / PKCS#8 (RFC 8410); the raw 32 bytes follow.
const SPKI_HEAD = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])
const PKCS8_HEAD = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])

function checkNonce (nonce: Uint8Array): void {
  if (nonce.byteLength !== 12) throw new MalformedError(`AES-GCM nonce is ${nonce.byteLength} bytes, expected 12`)
}

/**
 * An AES-GCM key imported once as a KeyObject: one OpenSSL context per
 * packet (node cannot rekey one), inputs passed as views, never copied.
 */
class NodeGcmKey implements AesGcmKey {
  private readonly key: KeyObject
  private readonly cipherName: 'aes-128-gcm' | 'aes-256-gcm'

  constructor (key: Uint8Array) {
    if (key.byteLength !== 16 && key.byteLength !== 32) throw new MalformedError(`AES-GCM key is ${key.byteLength} bytes, expected 16 or 32`)
    this.key = createSecretKey(key)
    this.cipherName = key.byteLength === 16 ? 'aes-128-gcm' : 'aes-256-gcm'
  }

  sealDetached (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: GcmDetached): void {
    checkNonce(nonce)
    const cipher = createCipheriv(this.cipherName, this.key, nonce)
    cipher.setAAD(aad)
    out.ciphertext = cipher.update(plaintext)
    // GCM is a stream mode: final() only computes the tag and yields no bytes.
    cipher.final()
    out.tag = cipher.getAuthTag()
  }

  sealInto (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    checkNonce(nonce)
    const cipher = createCipheriv(this.cipherName, this.key, nonce)
    cipher.setAAD(aad)
    out.set(cipher.update(plaintext), offset)
    cipher.final()
    out.set(cipher.getAuthTag(), offset + plaintext.byteLength)
  }

  open (nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    checkNonce(nonce)
    return openGcm(this.cipherName, this.key, nonce, aad, sealed)
  }
}

function withHead (head: Uint8Array, raw: Uint8Array): Buffer {
  const der = Buffer.allocUnsafe(head.byteLength + X25519_LENGTH)
  der.set(head)
  der.set(raw, head.byteLength)
  return der
}

function rawX25519PublicKey (key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(der.byteLength - X25519_LENGTH))
}

function x25519PrivateKeyObject (key: X25519PrivateKey): KeyObject {
  if (key instanceof Uint8Array) {
    if (key.byteLength !== X25519_LENGTH) throw new MalformedError(`private key is ${key.byteLength} bytes, expected ${X25519_LENGTH}`)
    return createPrivateKey({ key: withHead(PKCS8_HEAD, key), format: 'der', type: 'pkcs8' })
  }
  if (key.asymmetricKeyType !== 'x25519') throw new MalformedError(`private key is ${String(key.asymmetricKeyType)}, expected x25519`)
  // A KeyObject is used as it is; another backend's handle is imported from its PKCS#8.
  return key instanceof KeyObject ? key : createPrivateKey({ key: Buffer.from(key.export({ format: 'der', type: 'pkcs8' })), format: 'der', type: 'pkcs8' })
}

function hashOf (hash: HashName, parts: Uint8Array[]): Uint8Array {
  const h = createHash(hash)
  for (const part of parts) h.update(part)
  return plainView(h.digest())
}

/** Every primitive on node:crypto (OpenSSL). */
export const nodeBackend: CryptoBackend = Object.freeze({
  name: 'node',
  aead: aeadCache(createNodeAead),
  hkdfExtract,
  hkdfExpand,
  hmac (hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    return plainView(createHmac(hash, key).update(data).digest())
  },
  digest (hash: HashName, ...parts: Uint8Array[]): Uint8Array {
    return hashOf(hash, parts)
  },
  randomBytes (length: number): Uint8Array {
    return plainView(randomBytes(length))
  },
  allocUnsafe (length: number): Uint8Array {
    // Pooled and not zeroed; plain Uint8Array semantics are the caller's (see plainView).
    return Buffer.allocUnsafe(length)
  },
  aesGcmKey (key: Uint8Array): AesGcmKey {
    return new NodeGcmKey(key)
  },
  x25519: Object.freeze({
    generateKeyPair (): X25519KeyPair {
      const { privateKey, publicKey } = generateKeyPairSync('x25519')
      return { privateKey, publicKey: rawX25519PublicKey(publicKey) }
    },
    sharedSecret (privateKey: X25519PrivateKey, publicKey: Uint8Array): Uint8Array {
      const own = x25519PrivateKeyObject(privateKey)
      try {
        return plainView(diffieHellman({ privateKey: own, publicKey: createPublicKey({ key: withHead(SPKI_HEAD, publicKey), format: 'der', type: 'spki' }) }))
      } catch (cause) {
        // OpenSSL refuses to derive the all-zero secret a small-order point yields.
        throw new MalformedError('X25519 failed: peer public key is a small-order point', { cause })
      }
    }
  }),
  ed25519: Object.freeze({ sign: ed25519Sign, verify: ed25519Verify, publicKey: ed25519PublicKey }),
  replacesMlsCrypto: true
})
