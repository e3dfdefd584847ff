/**
 * The identity a WebRTC connection proves (protocol/webrtc.md section 3):
 * an Ed25519 key and the libp2p peer id that names it, as a member's or a
 * node's identity is everywhere in fabric. Here, in the transport, so that
 * the binding handshake needs only the crypto layer and libp2p's peer-id
 * codec, as the libp2p adapter does.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { ed25519Sign, ed25519Verify } from '../../crypto/ed25519.js'
import { MalformedError } from '../../errors.js'

/** A key pair and its peer id: structurally a member's identity (session/identity.ts `MemberIdentity`). */
export interface PeerKey {
  /** The canonical libp2p peer id string ("12D3KooW..."). */
  readonly peerId: string
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  /** The 32-byte Ed25519 seed. Secret. */
  readonly seed: Uint8Array
}

/** The domain of binding signatures: no other fabric, MLS or libp2p signature verifies as one. */
const BINDING_DOMAIN = new TextEncoder().encode('fabric webrtc binding v1')

/** UTF-8(domain) || 0x00 || content. */
function domainBytes (content: Uint8Array): Uint8Array {
  const out = new Uint8Array(BINDING_DOMAIN.length + 1 + content.length)
  out.set(BINDING_DOMAIN)
  out.set(content, BINDING_DOMAIN.length + 1)
  return out
}

/** Signs binding `content` with a 32-byte seed; a 64-byte signature. */
export function signBinding (seed: Uint8Array, content: Uint8Array): Uint8Array {
  return ed25519Sign(seed, domainBytes(content))
}

/** Verifies a signBinding signature; never throws. */
export function verifyBinding (publicKey: Uint8Array, content: Uint8Array, signature: Uint8Array): boolean {
  return ed25519Verify(publicKey, domainBytes(content), signature)
}

/**
 * The peer id string of a 32-byte Ed25519 public key.
 * @throws MalformedError when the key is not 32 bytes or not a valid key
 */
export function peerIdOfKey (publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new MalformedError(`an Ed25519 public key is 32 bytes, got ${publicKey.length}`)
  try {
    return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString()
  } catch (err) {
    throw new MalformedError('not an Ed25519 public key', { cause: err })
  }
}
