/**
 * A member's identity: one Ed25519 key pair, named by its libp2p peer id.
 *
 * The same key is the member's libp2p identity (noise authenticates it on
 * every connection) and its MLS signature key (the signature_key of its leaf,
 * RFC 9420 section 7.2), and an Ed25519 peer id carries its public key inside
 * it. So anyone holding only a peer id can check that a leaf, a KeyPackage or
 * a fabric statement (admission policy, invitation) was signed by that
 * member, without trusting the node that carried it: a node cannot mint a
 * KeyPackage that passes for another member. Every signature scheme involved
 * prefixes its own label (MLS's "MLS 1.0 ...", noise-libp2p's
 * "noise-libp2p-static-key:", fabric's domains below), so no signature made
 * for one protocol verifies as another's.
 */
import { generateKeyPair, privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ED25519_KEY_LENGTH, ed25519PublicKey, ed25519Sign, ed25519Verify } from '../crypto/ed25519.js'
import { FabricError, MalformedError } from '../errors.js'
import { equalBytes } from './bytes.js'

/** A member's key pair and the peer id that names it. */
export interface MemberIdentity {
  /** The canonical libp2p peer id string (base58btc, "12D3KooW..."): the MLS credential identity. */
  readonly peerId: string
  /** The 32-byte Ed25519 public key (the MLS leaf signature_key). */
  readonly publicKey: Uint8Array
  /** The 32-byte Ed25519 seed: the MLS signature private key. Secret. */
  readonly seed: Uint8Array
}

/**
 * The identity of a libp2p Ed25519 private key (what a member's host runs with).
 *
 * @throws FabricError UNSUPPORTED_SUITE when the key is not Ed25519: fabric
 *         identities must be Ed25519, the MLS suites' signature scheme
 */
export function identityFromPrivateKey (key: PrivateKey): MemberIdentity {
  if (key.type !== 'Ed25519') throw new FabricError('UNSUPPORTED_SUITE', `member identities are Ed25519 keys, got ${key.type}`)
  // libp2p's raw Ed25519 private key is seed || public key.
  const seed = Uint8Array.from(key.raw.subarray(0, ED25519_KEY_LENGTH))
  return { peerId: peerIdFromPrivateKey(key).toString(), publicKey: Uint8Array.from(key.publicKey.raw), seed }
}

/**
 * The identity whose seed is `seed` (synchronous: one point multiplication).
 *
 * @throws MalformedError when the seed is not 32 bytes
 */
export function identityFromSeed (seed: Uint8Array): MemberIdentity {
  if (seed.length !== ED25519_KEY_LENGTH) throw new MalformedError(`an identity seed is ${ED25519_KEY_LENGTH} bytes, got ${seed.length}`)
  const raw = new Uint8Array(2 * ED25519_KEY_LENGTH)
  raw.set(seed)
  raw.set(ed25519PublicKey(seed), ED25519_KEY_LENGTH)
  return identityFromPrivateKey(privateKeyFromRaw(raw))
}

/** A fresh random identity. */
export async function generateIdentity (): Promise<MemberIdentity> {
  return identityFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** The libp2p PrivateKey of an identity (to run a host as that member). */
export function privateKeyOfIdentity (identity: MemberIdentity): PrivateKey {
  const raw = new Uint8Array(2 * ED25519_KEY_LENGTH)
  raw.set(identity.seed)
  raw.set(identity.publicKey, ED25519_KEY_LENGTH)
  return privateKeyFromRaw(raw)
}

/**
 * The Ed25519 public key a peer id names.
 *
 * @param peerId canonical peer id string
 * @returns 32 bytes (a fresh copy)
 * @throws MalformedError when the string is not a peer id, or names a key that
 *         is not Ed25519 (RSA peer ids hash their key, so it cannot be read back)
 */
export function publicKeyOfPeerId (peerId: string): Uint8Array {
  return Uint8Array.from(keyOfPeerId(peerId))
}

/** The key `peerId` names, shared with the cache (callers must not change it). */
function keyOfPeerId (peerId: string): Uint8Array {
  const known = knownKeys.get(peerId)
  if (known !== undefined) return known
  const key = decodePeerIdKey(peerId)
  if (knownKeys.size >= KNOWN_KEYS) knownKeys.delete(knownKeys.keys().next().value!)
  knownKeys.set(peerId, key)
  return key
}

/**
 * Keys of peer ids decoded lately. A Welcome checks every leaf's key against
 * its peer id and every Commit its sender's, the same few hundred peer ids
 * over and over; decoding one (base58, multihash, protobuf) costs ~11 µs.
 * Public values only, bounded, oldest dropped first.
 */
const knownKeys = new Map<string, Uint8Array>()
const KNOWN_KEYS = 4096

function decodePeerIdKey (peerId: string): Uint8Array {
  let parsed
  try {
    parsed = peerIdFromString(peerId)
  } catch (err) {
    throw new MalformedError(`${clip(peerId)} is not a peer id`, { cause: err })
  }
  if (parsed.type !== 'Ed25519') throw new MalformedError(`peer id ${clip(peerId)} is not an Ed25519 identity`)
  // Only the canonical spelling names the member: the wire compares ids as strings.
  if (parsed.toString() !== peerId) throw new MalformedError(`peer id ${clip(peerId)} is not in canonical form`)
  return Uint8Array.from(parsed.publicKey.raw)
}

/** True when `publicKey` is the key `peerId` names; false for anything malformed. */
export function peerIdHasKey (peerId: string, publicKey: Uint8Array): boolean {
  let key: Uint8Array
  try {
    key = keyOfPeerId(peerId)
  } catch {
    return false
  }
  return equalBytes(key, publicKey)
}

/**
 * Domains of the statements fabric signs with identity keys. The signed
 * bytes are UTF-8(domain) || 0x00 || content, so a signature over one kind of
 * statement never verifies as another (and never as an MLS or libp2p one,
 * whose labels differ).
 */
export type SignatureDomain =
  | 'fabric admission policy v1'
  | 'fabric invitation v1'
  | 'fabric invitation redemption v1'

/** UTF-8(domain) || 0x00 || content. */
function signedBytes (domain: SignatureDomain, content: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode(domain)
  const out = new Uint8Array(label.length + 1 + content.length)
  out.set(label)
  out.set(content, label.length + 1)
  return out
}

/**
 * Signs `content` under `domain` with a 32-byte Ed25519 seed.
 *
 * @returns a 64-byte signature
 * @throws RangeError when the seed is not 32 bytes
 */
export function signWithDomain (seed: Uint8Array, domain: SignatureDomain, content: Uint8Array): Uint8Array {
  return ed25519Sign(seed, signedBytes(domain, content))
}

/** Verifies a signWithDomain signature against a raw public key; never throws. */
export function verifyWithDomain (publicKey: Uint8Array, domain: SignatureDomain, content: Uint8Array, signature: Uint8Array): boolean {
  return ed25519Verify(publicKey, signedBytes(domain, content), signature)
}

/** Verifies a signWithDomain signature by the member `peerId` names; false for a malformed peer id. */
export function verifyByPeer (peerId: string, domain: SignatureDomain, content: Uint8Array, signature: Uint8Array): boolean {
  let key: Uint8Array
  try {
    key = keyOfPeerId(peerId)
  } catch {
    return false
  }
  return verifyWithDomain(key, domain, content, signature)
}

/** The public key of an identity seed (for checks and tests). */
export function publicKeyOfSeed (seed: Uint8Array): Uint8Array {
  return ed25519PublicKey(seed)
}

function clip (s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}...` : s
}
