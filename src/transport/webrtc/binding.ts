/**
 * The binding handshake (protocol/webrtc.md section 3), sans-IO: over the
 * first data channel of a peer connection, the member and the node each
 * sign, with their identity keys (Ed25519, the peer ids fabric's services
 * see), both DTLS fingerprints of this connection and a fresh nonce from
 * each side. DTLS checks each certificate against the fingerprint in the
 * SDP, so a signature over both fingerprints ties the identity to this very
 * DTLS session: a party in the middle has to present its own certificate to
 * one side, and that side's fingerprints then differ from the ones the
 * other side signed. The nonces make every signature fresh. This gives what
 * libp2p's WebRTC transport gets from a Noise handshake whose prologue holds
 * the fingerprints: mutual authentication bound to the DTLS session, with
 * DTLS providing the confidentiality.
 *
 * Messages (binary, one data-channel message each, fixed layout):
 *   Hello       0x01 | member nonce (32)                              member -> node
 *   NodeProof   0x02 | node nonce (32) | node key (32) | sig (64)      node -> member
 *   MemberProof 0x03 | member key (32) | sig (64)                      member -> node
 *   Accept      0x04                                                    node -> member
 * then, for as long as the connection lives (section 5):
 *   Ping        0x05                                                    node -> member
 *   Pong        0x06                                                    member -> node
 * sig = Ed25519 over "fabric webrtc binding v1" 0x00 | type | offer fingerprint (32)
 *       | answer fingerprint (32) | member nonce | node nonce.
 */
import { FabricError, MalformedError } from '../../errors.js'
import { peerIdOfKey, signBinding, verifyBinding, type PeerKey } from './peer-key.js'
import { FINGERPRINT_BYTES } from './sdp.js'

const NONCE_BYTES = 32
const KEY_BYTES = 32
const SIG_BYTES = 64

/** Message types of the binding handshake. */
export const BindingType = { Hello: 1, NodeProof: 2, MemberProof: 3, Accept: 4, Ping: 5, Pong: 6 } as const

/** Byte length of each message, by type. */
const LENGTHS: Record<number, number> = {
  [BindingType.Hello]: 1 + NONCE_BYTES,
  [BindingType.NodeProof]: 1 + NONCE_BYTES + KEY_BYTES + SIG_BYTES,
  [BindingType.MemberProof]: 1 + KEY_BYTES + SIG_BYTES,
  [BindingType.Accept]: 1,
  [BindingType.Ping]: 1,
  [BindingType.Pong]: 1,
}

/** True when `msg` is exactly the one-byte message `type` (Ping or Pong). */
export function isLiveness (msg: Uint8Array | string, type: typeof BindingType.Ping | typeof BindingType.Pong): boolean {
  return typeof msg !== 'string' && msg.length === 1 && msg[0] === type
}

/** Largest binding message, bytes. */
export const MAX_BINDING_MESSAGE_BYTES = 1 + NONCE_BYTES + KEY_BYTES + SIG_BYTES

/** The two DTLS fingerprints of one peer connection, from its offer and its answer (sdp.ts). */
export interface ConnectionFingerprints {
  offer: Uint8Array
  answer: Uint8Array
}

function checkFingerprints (fp: ConnectionFingerprints): void {
  if (fp.offer.length !== FINGERPRINT_BYTES || fp.answer.length !== FINGERPRINT_BYTES) throw new RangeError(`fingerprints are ${FINGERPRINT_BYTES} bytes`)
}

/** The bytes a side signs (domain-separated by signWithDomain). */
function transcript (type: number, fp: ConnectionFingerprints, memberNonce: Uint8Array, nodeNonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + 2 * FINGERPRINT_BYTES + 2 * NONCE_BYTES)
  out[0] = type
  out.set(fp.offer, 1)
  out.set(fp.answer, 1 + FINGERPRINT_BYTES)
  out.set(memberNonce, 1 + 2 * FINGERPRINT_BYTES)
  out.set(nodeNonce, 1 + 2 * FINGERPRINT_BYTES + NONCE_BYTES)
  return out
}

/**
 * Checks a message's type and exact length.
 * @throws MalformedError when it is not a `type` message of the right length
 */
function expect (msg: Uint8Array | string, type: number): Uint8Array {
  if (typeof msg === 'string') throw new MalformedError('binding messages are binary')
  if (msg.length === 0 || msg[0] !== type) throw new MalformedError(`expected binding message ${type}, got ${msg.length === 0 ? 'an empty one' : `type ${msg[0]}`}`)
  if (msg.length !== LENGTHS[type]) throw new MalformedError(`binding message ${type} is ${LENGTHS[type]} bytes, got ${msg.length}`)
  return msg
}

/** Verifies a proof's signature; returns the signer's peer id. @throws FabricError IDENTITY_MISMATCH */
function verifyProof (type: number, key: Uint8Array, sig: Uint8Array, fp: ConnectionFingerprints, memberNonce: Uint8Array, nodeNonce: Uint8Array): string {
  const peer = peerIdOfKey(key)
  if (!verifyBinding(key, transcript(type, fp, memberNonce, nodeNonce), sig)) {
    throw new FabricError('IDENTITY_MISMATCH', `the ${type === BindingType.NodeProof ? 'node' : 'member'}'s binding signature does not cover this connection's fingerprints and nonces`)
  }
  return peer
}

function randomNonce (): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
}

/** The member's side: Hello, then MemberProof once the node's proof checks, then done on Accept. */
export class BindingInitiator {
  private readonly identity: PeerKey
  private readonly fp: ConnectionFingerprints
  private readonly expectedNode: string | undefined
  private readonly nonce: Uint8Array
  private step: 'start' | 'proof' | 'accept' | 'done' = 'start'
  /** The node's peer id once its proof checked. */
  nodePeer: string | undefined

  /**
   * @param identity the member's identity (its seed signs)
   * @param fp this connection's fingerprints
   * @param expectedNode the node's peer id when the member knows it
   * @param nonce 32 random bytes; fresh by default
   */
  constructor (identity: PeerKey, fp: ConnectionFingerprints, expectedNode?: string, nonce: Uint8Array = randomNonce()) {
    checkFingerprints(fp)
    this.identity = identity
    this.fp = fp
    this.expectedNode = expectedNode
    this.nonce = nonce
  }

  /** The Hello message. @throws FabricError INVALID_STATE when called twice */
  hello (): Uint8Array {
    if (this.step !== 'start') throw new FabricError('INVALID_STATE', 'hello was sent already')
    this.step = 'proof'
    const out = new Uint8Array(LENGTHS[BindingType.Hello])
    out[0] = BindingType.Hello
    out.set(this.nonce, 1)
    return out
  }

  /**
   * Takes the node's next message.
   * @returns the MemberProof to send after the NodeProof; 'done' after Accept
   * @throws MalformedError on a malformed or unexpected message; FabricError
   *         IDENTITY_MISMATCH on a bad signature or a node other than the expected one
   */
  receive (msg: Uint8Array | string): Uint8Array | 'done' {
    if (this.step === 'proof') {
      const m = expect(msg, BindingType.NodeProof)
      const nodeNonce = m.subarray(1, 1 + NONCE_BYTES)
      const key = m.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + KEY_BYTES)
      const sig = m.subarray(1 + NONCE_BYTES + KEY_BYTES)
      const peer = verifyProof(BindingType.NodeProof, key, sig, this.fp, this.nonce, nodeNonce)
      if (this.expectedNode !== undefined && peer !== this.expectedNode) throw new FabricError('IDENTITY_MISMATCH', `the node proved to be ${peer}, not ${this.expectedNode}`)
      this.nodePeer = peer
      this.step = 'accept'
      const out = new Uint8Array(LENGTHS[BindingType.MemberProof])
      out[0] = BindingType.MemberProof
      out.set(this.identity.publicKey, 1)
      out.set(signBinding(this.identity.seed, transcript(BindingType.MemberProof, this.fp, this.nonce, nodeNonce)), 1 + KEY_BYTES)
      return out
    }
    if (this.step === 'accept') {
      expect(msg, BindingType.Accept)
      this.step = 'done'
      return 'done'
    }
    throw new MalformedError(`no binding message is expected ${this.step === 'done' ? 'after Accept' : 'before Hello'}`)
  }
}

/** The node's side: NodeProof on Hello, then Accept and the member's peer id on a MemberProof that checks. */
export class BindingResponder {
  private readonly identity: Pick<PeerKey, 'publicKey' | 'seed'>
  private readonly fp: ConnectionFingerprints
  private readonly nonce: Uint8Array
  private memberNonce: Uint8Array | undefined
  /** The member's peer id once its proof checked. */
  memberPeer: string | undefined

  /**
   * @param identity the node's key (its peer id's Ed25519 key)
   * @param fp this connection's fingerprints
   * @param nonce 32 random bytes; fresh by default
   */
  constructor (identity: Pick<PeerKey, 'publicKey' | 'seed'>, fp: ConnectionFingerprints, nonce: Uint8Array = randomNonce()) {
    checkFingerprints(fp)
    this.identity = identity
    this.fp = fp
    this.nonce = nonce
  }

  /**
   * Takes the member's next message and returns the answer to send: the
   * NodeProof after Hello, Accept after a MemberProof that checks (then
   * `memberPeer` is set).
   * @throws MalformedError on a malformed or unexpected message; FabricError
   *         IDENTITY_MISMATCH on a bad signature
   */
  receive (msg: Uint8Array | string): Uint8Array {
    if (this.memberPeer !== undefined) throw new MalformedError('no binding message is expected after Accept')
    if (this.memberNonce === undefined) {
      const m = expect(msg, BindingType.Hello)
      this.memberNonce = m.slice(1)
      const out = new Uint8Array(LENGTHS[BindingType.NodeProof])
      out[0] = BindingType.NodeProof
      out.set(this.nonce, 1)
      out.set(this.identity.publicKey, 1 + NONCE_BYTES)
      out.set(signBinding(this.identity.seed, transcript(BindingType.NodeProof, this.fp, this.memberNonce, this.nonce)), 1 + NONCE_BYTES + KEY_BYTES)
      return out
    }
    const m = expect(msg, BindingType.MemberProof)
    this.memberPeer = verifyProof(BindingType.MemberProof, m.subarray(1, 1 + KEY_BYTES), m.subarray(1 + KEY_BYTES), this.fp, this.memberNonce, this.nonce)
    return Uint8Array.of(BindingType.Accept)
  }
}
