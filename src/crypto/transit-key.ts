/**
 * The per-subscription transit key of the link seal (protocol/link-seal.md
 * section 2): X25519 (RFC 7748) between the subscriber's and the relay's
 * ephemeral keys, then HKDF-SHA256 (RFC 5869) with
 *
 *   salt = "fabric link seal v1"
 *   info = "fabric/link/1" || subscriber public (32) || relay public (32) || stream address (UTF-8)
 *
 * giving 28 bytes: AES-128-GCM key (16) || nonce salt (12). Both public keys
 * and the stream are in the info, so a key is bound to one subscription.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { MalformedError } from '../errors.js'
import { requireLength } from './bytes.js'
import { hkdf } from './hkdf.js'

/** X25519 public and private key bytes. */
export const X25519_KEY_LENGTH = 32
/** Link-seal AES-128-GCM key bytes. */
export const TRANSIT_KEY_LENGTH = 16
/** Link-seal nonce salt bytes. */
export const TRANSIT_SALT_LENGTH = 12

const HKDF_SALT = new TextEncoder().encode('fabric link seal v1')
const INFO_PREFIX = new TextEncoder().encode('fabric/link/1')
// DER heads of X25519 SubjectPublicKeyInfo / PKCS#8 (RFC 8410); the raw 32 bytes follow.
const SPKI_HEAD = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])
const PKCS8_HEAD = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])

/** An ephemeral X25519 key pair for one subscription. */
export interface LinkKeyPair {
  /** Private key; stays in this process. */
  readonly privateKey: KeyObject
  /** Raw 32-byte public key (RFC 7748 u-coordinate), sent to the peer. */
  readonly publicKey: Uint8Array
}

/** Key and nonce salt for one subscription's link seal. */
export interface TransitKey {
  /** AES-128-GCM key, 16 bytes. */
  readonly key: Uint8Array
  /** Nonce salt, 12 bytes; nonce = salt XOR link sequence. */
  readonly salt: Uint8Array
}

/** What deriveTransitKey needs; each side passes its own private key and the other's public key. */
export interface TransitKeyInput {
  /** This side's X25519 private key: a KeyObject, or its raw 32 bytes. */
  readonly privateKey: KeyObject | Uint8Array
  /** The other side's raw 32-byte public key. */
  readonly peerPublicKey: Uint8Array
  /** Subscriber's raw 32-byte public key (one of the two sides). */
  readonly subscriberPublicKey: Uint8Array
  /** Relay's raw 32-byte public key (the other side). */
  readonly relayPublicKey: Uint8Array
  /** Address of the stream the subscription is for: owner "/" name (wire/stream-tag.ts streamKey). */
  readonly stream: string
}

function rawPublicKey (key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(der.byteLength - X25519_KEY_LENGTH))
}

function importPublicKey (raw: Uint8Array): KeyObject {
  const der = new Uint8Array(SPKI_HEAD.byteLength + X25519_KEY_LENGTH)
  der.set(SPKI_HEAD)
  der.set(raw, SPKI_HEAD.byteLength)
  return createPublicKey({ key: Buffer.from(der.buffer), format: 'der', type: 'spki' })
}

function importPrivateKey (raw: Uint8Array): KeyObject {
  const der = new Uint8Array(PKCS8_HEAD.byteLength + X25519_KEY_LENGTH)
  der.set(PKCS8_HEAD)
  der.set(raw, PKCS8_HEAD.byteLength)
  return createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' })
}

function requirePublicKey (what: string, raw: Uint8Array): void {
  requireLength(what, raw, X25519_KEY_LENGTH)
}

/** A fresh ephemeral X25519 key pair (RFC 7748); the public key as raw 32 bytes. */
export function generateLinkKeyPair (): LinkKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  return { privateKey, publicKey: rawPublicKey(publicKey) }
}

/**
 * Derives the transit key of one subscription. Subscriber and relay get the
 * same result: each passes its own private key and the other's public key.
 * @throws MalformedError when a public or private key is not 32 bytes (or the
 *   private KeyObject is not X25519), when
 *   peerPublicKey is neither the subscriber's nor the relay's key, or when the
 *   shared secret is all zero (the peer sent a small-order point, RFC 7748 section 6.1).
 */
export function deriveTransitKey (input: TransitKeyInput): TransitKey {
  requirePublicKey('peer public key', input.peerPublicKey)
  requirePublicKey('subscriber public key', input.subscriberPublicKey)
  requirePublicKey('relay public key', input.relayPublicKey)
  const peer = Buffer.from(input.peerPublicKey.buffer, input.peerPublicKey.byteOffset, input.peerPublicKey.byteLength)
  // A peer key that is in neither slot means the caller mixed up subscriptions;
  // refusing here beats a key that silently matches nobody.
  if (!peer.equals(input.subscriberPublicKey) && !peer.equals(input.relayPublicKey)) {
    throw new MalformedError('peer public key is neither the subscriber\'s nor the relay\'s')
  }
  let privateKey: KeyObject
  if (input.privateKey instanceof Uint8Array) {
    requireLength('private key', input.privateKey, X25519_KEY_LENGTH)
    privateKey = importPrivateKey(input.privateKey)
  } else {
    if (input.privateKey.asymmetricKeyType !== 'x25519') throw new MalformedError(`private key is ${String(input.privateKey.asymmetricKeyType)}, expected x25519`)
    privateKey = input.privateKey
  }
  let shared: Uint8Array
  try {
    shared = diffieHellman({ privateKey, publicKey: importPublicKey(input.peerPublicKey) })
  } catch (cause) {
    // OpenSSL refuses to derive the all-zero secret a small-order point yields.
    throw new MalformedError('X25519 failed: peer public key is a small-order point', { cause })
  }
  if (shared.every((b) => b === 0)) throw new MalformedError('X25519 shared secret is all zero: peer public key is a small-order point')
  const stream = new TextEncoder().encode(input.stream)
  const info = new Uint8Array(INFO_PREFIX.byteLength + 2 * X25519_KEY_LENGTH + stream.byteLength)
  info.set(INFO_PREFIX, 0)
  info.set(input.subscriberPublicKey, INFO_PREFIX.byteLength)
  info.set(input.relayPublicKey, INFO_PREFIX.byteLength + X25519_KEY_LENGTH)
  info.set(stream, INFO_PREFIX.byteLength + 2 * X25519_KEY_LENGTH)
  const okm = hkdf('sha256', shared, HKDF_SALT, info, TRANSIT_KEY_LENGTH + TRANSIT_SALT_LENGTH)
  return { key: okm.slice(0, TRANSIT_KEY_LENGTH), salt: okm.slice(TRANSIT_KEY_LENGTH) }
}
