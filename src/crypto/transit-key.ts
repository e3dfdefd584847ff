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
import { MalformedError } from '../errors.js'
import type { CryptoBackend, X25519PrivateKey, X25519PrivateKeyHandle } from './backend.js'
import { constantTimeEqual, requireLength } from './bytes.js'
import { defaultCryptoBackend } from './default-backend.js'
import { X25519_PUBLIC_KEY_LENGTH } from '../wire/limits.js'

/** X25519 public and private key bytes (RFC 7748): the wire's X25519_PUBLIC_KEY_LENGTH, 32. */
export const X25519_KEY_LENGTH = X25519_PUBLIC_KEY_LENGTH
/** Link-seal AES-128-GCM key bytes. */
export const TRANSIT_KEY_LENGTH = 16
/** Link-seal nonce salt bytes. */
export const TRANSIT_SALT_LENGTH = 12

const HKDF_SALT = new TextEncoder().encode('fabric link seal v1')
const INFO_PREFIX = new TextEncoder().encode('fabric/link/1')

/** An ephemeral X25519 key pair for one subscription. */
export interface LinkKeyPair {
  /** Private key; stays in this process. The backend's handle (node: a KeyObject). */
  readonly privateKey: X25519PrivateKeyHandle
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
  /** This side's X25519 private key: a backend's handle (node: a KeyObject), or its raw 32 bytes. */
  readonly privateKey: X25519PrivateKey
  /** The other side's raw 32-byte public key. */
  readonly peerPublicKey: Uint8Array
  /** Subscriber's raw 32-byte public key (one of the two sides). */
  readonly subscriberPublicKey: Uint8Array
  /** Relay's raw 32-byte public key (the other side). */
  readonly relayPublicKey: Uint8Array
  /** Address of the stream the subscription is for: owner "/" name (wire/stream-tag.ts streamKey). */
  readonly stream: string
}

function requirePublicKey (what: string, raw: Uint8Array): void {
  requireLength(what, raw, X25519_KEY_LENGTH)
}

/**
 * A fresh ephemeral X25519 key pair (RFC 7748); the public key as raw 32 bytes.
 * @param backend where the key is made and kept; default: the process default (crypto/default-backend.ts)
 */
export function generateLinkKeyPair (backend: CryptoBackend = defaultCryptoBackend()): LinkKeyPair {
  return backend.x25519.generateKeyPair()
}

/**
 * Derives the transit key of one subscription. Subscriber and relay get the
 * same result: each passes its own private key and the other's public key.
 * @throws MalformedError when a public or private key is not 32 bytes (or the
 *   private key handle is not X25519), when
 *   peerPublicKey is neither the subscriber's nor the relay's key, or when the
 *   shared secret is all zero (the peer sent a small-order point, RFC 7748 section 6.1).
 * @param backend does the X25519 and HKDF; default: the process default (crypto/default-backend.ts).
 *   Every backend gives the same bytes.
 */
export function deriveTransitKey (input: TransitKeyInput, backend: CryptoBackend = defaultCryptoBackend()): TransitKey {
  requirePublicKey('peer public key', input.peerPublicKey)
  requirePublicKey('subscriber public key', input.subscriberPublicKey)
  requirePublicKey('relay public key', input.relayPublicKey)
  const peer = input.peerPublicKey
  // A peer key that is in neither slot means the caller mixed up subscriptions;
  // refusing here beats a key that silently matches nobody.
  if (!constantTimeEqual(peer, input.subscriberPublicKey) && !constantTimeEqual(peer, input.relayPublicKey)) {
    throw new MalformedError('peer public key is neither the subscriber\'s nor the relay\'s')
  }
  const shared = backend.x25519.sharedSecret(input.privateKey, peer)
  if (shared.every((b) => b === 0)) throw new MalformedError('X25519 shared secret is all zero: peer public key is a small-order point')
  const stream = new TextEncoder().encode(input.stream)
  const info = new Uint8Array(INFO_PREFIX.byteLength + 2 * X25519_KEY_LENGTH + stream.byteLength)
  info.set(INFO_PREFIX, 0)
  info.set(input.subscriberPublicKey, INFO_PREFIX.byteLength)
  info.set(input.relayPublicKey, INFO_PREFIX.byteLength + X25519_KEY_LENGTH)
  info.set(stream, INFO_PREFIX.byteLength + 2 * X25519_KEY_LENGTH)
  const okm = backend.hkdfExpand('sha256', backend.hkdfExtract('sha256', HKDF_SALT, shared), info, TRANSIT_KEY_LENGTH + TRANSIT_SALT_LENGTH)
  return { key: okm.slice(0, TRANSIT_KEY_LENGTH), salt: okm.slice(TRANSIT_KEY_LENGTH) }
}

/** Which end of a subscription derives: the subscriber (a member, or a node pulling from upstream) or the relay serving it. */
export type LinkSide = 'subscriber' | 'relay'

/**
 * The handshake's key step for either end of a subscription (protocol/link-seal.md
 * section 2), sans-IO: this end's ephemeral key pair and the raw public key
 * the other end sent (a subscriber reads it from OpenResult.relay_public_key,
 * a relay from SubscribeOpen.subscriber_public_key). `side` puts the two
 * public keys in their slots of the info; deriveTransitKey checks the peer's
 * key, builds the info and derives. Both ends of one subscription get the same key.
 * @param stream the stream address, owner "/" name (wire/stream-tag.ts streamKey)
 * @param backend as deriveTransitKey; default: the process default
 * @throws MalformedError as deriveTransitKey: the peer's key is not 32 bytes
 *   (an OpenResult without one, say) or is a small-order point
 */
export function linkTransitKey (side: LinkSide, own: LinkKeyPair, peerPublicKey: Uint8Array, stream: string, backend?: CryptoBackend): TransitKey {
  const subscriber = side === 'subscriber'
  return deriveTransitKey({
    privateKey: own.privateKey,
    peerPublicKey,
    subscriberPublicKey: subscriber ? own.publicKey : peerPublicKey,
    relayPublicKey: subscriber ? peerPublicKey : own.publicKey,
    stream,
  }, backend)
}
