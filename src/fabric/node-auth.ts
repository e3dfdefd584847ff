/**
 * The fabric node-auth proof (protocol/fabric.md section 2), sans-IO: the
 * MAC each side of a `/fabric/node-auth/1` handshake sends to show it holds
 * the fabric key without sending it, and the three handshake messages with
 * bounded decoders. No clock, no randomness, no I/O: the shell
 * (src/node/fabric/node-auth-service.ts) supplies nonces and carries frames.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { FabricError, MalformedError, TooLargeError } from '../errors.js'

/** Bytes of a fabric key (the `--fabric-key` file's content). */
export const FABRIC_KEY_BYTES = 32
/** Bytes of each side's fresh nonce. */
export const NODE_AUTH_NONCE_BYTES = 32
/** Bytes of an HMAC-SHA256 proof. */
export const NODE_AUTH_MAC_BYTES = 32
/** Longest peer id accepted in the MAC input, bytes (it is length-prefixed with one byte). */
export const MAX_PEER_ID_BYTES = 255
/** The domain label the MAC input starts with (ASCII, no terminator). */
export const NODE_AUTH_LABEL = 'fabric node auth v1'
/** Largest handshake message, bytes: a Response (type, nonce, MAC). */
export const MAX_NODE_AUTH_MESSAGE_BYTES = 1 + NODE_AUTH_NONCE_BYTES + NODE_AUTH_MAC_BYTES

/** Which side of the handshake a MAC speaks for; the byte ends the MAC input so one side's MAC is never valid as the other's. */
export type NodeAuthRole = 'initiator' | 'responder'

/** The role byte of each side (protocol/fabric.md section 2.2). */
export const ROLE_BYTE: Readonly<Record<NodeAuthRole, number>> = { initiator: 0x01, responder: 0x02 }

/** Type bytes of the three handshake messages. */
export const MESSAGE_TYPE = { hello: 0x01, response: 0x02, finish: 0x03 } as const

/** What one MAC covers. Peer ids are their binary multihash bytes (1..255 bytes each). */
export interface NodeAuthTranscript {
  /** The peer id of the side that opened the channel. */
  initiator: Uint8Array
  /** The peer id of the side that accepted it. */
  responder: Uint8Array
  /** The initiator's 32-byte nonce (from Hello). */
  initiatorNonce: Uint8Array
  /** The responder's 32-byte nonce (from Response). */
  responderNonce: Uint8Array
}

/** Hello: initiator to responder, its nonce. */
export interface HelloMessage { type: 'hello', nonce: Uint8Array }
/** Response: responder to initiator, its nonce and its MAC. */
export interface ResponseMessage { type: 'response', nonce: Uint8Array, mac: Uint8Array }
/** Finish: initiator to responder, its MAC. */
export interface FinishMessage { type: 'finish', mac: Uint8Array }
/** One decoded handshake message. */
export type NodeAuthMessage = HelloMessage | ResponseMessage | FinishMessage

function requireBytes (what: string, bytes: Uint8Array, length: number): void {
  if (bytes.byteLength !== length) throw new MalformedError(`${what} is ${bytes.byteLength} bytes, expected ${length}`)
}

function requirePeerId (what: string, id: Uint8Array): void {
  if (id.byteLength === 0) throw new MalformedError(`${what} is empty`)
  if (id.byteLength > MAX_PEER_ID_BYTES) throw new TooLargeError(what, id.byteLength, MAX_PEER_ID_BYTES)
}

/**
 * The MAC input: label || len(initiator) || initiator || len(responder) ||
 * responder || initiator nonce || responder nonce || role byte. The length
 * bytes keep two different id pairs from concatenating to the same input.
 * @throws MalformedError on a nonce that is not 32 bytes or an empty peer id; TooLargeError on a peer id over 255 bytes
 */
export function nodeAuthMacInput (t: NodeAuthTranscript, role: NodeAuthRole): Uint8Array {
  requirePeerId('initiator peer id', t.initiator)
  requirePeerId('responder peer id', t.responder)
  requireBytes('initiator nonce', t.initiatorNonce, NODE_AUTH_NONCE_BYTES)
  requireBytes('responder nonce', t.responderNonce, NODE_AUTH_NONCE_BYTES)
  const label = new TextEncoder().encode(NODE_AUTH_LABEL)
  const out = new Uint8Array(label.byteLength + 2 + t.initiator.byteLength + t.responder.byteLength + 2 * NODE_AUTH_NONCE_BYTES + 1)
  let at = 0
  const put = (b: Uint8Array): void => { out.set(b, at); at += b.byteLength }
  put(label)
  out[at++] = t.initiator.byteLength
  put(t.initiator)
  out[at++] = t.responder.byteLength
  put(t.responder)
  put(t.initiatorNonce)
  put(t.responderNonce)
  out[at++] = ROLE_BYTE[role]
  return out
}

/**
 * The proof `role` sends: HMAC-SHA256(key, nodeAuthMacInput(t, role)), 32 bytes.
 * @throws MalformedError when `key` is not 32 bytes, or as nodeAuthMacInput
 */
export function buildNodeAuthMac (key: Uint8Array, t: NodeAuthTranscript, role: NodeAuthRole): Uint8Array {
  requireBytes('fabric key', key, FABRIC_KEY_BYTES)
  return hmac(sha256, key, nodeAuthMacInput(t, role))
}

/**
 * Whether `mac` is the proof `role` must send for `t` under `key`, compared
 * in constant time. A MAC of the wrong length is false, not an error.
 * @throws as buildNodeAuthMac (bad key, nonces or peer ids are the caller's bug, not the peer's)
 */
export function verifyNodeAuthMac (key: Uint8Array, t: NodeAuthTranscript, role: NodeAuthRole, mac: Uint8Array): boolean {
  const expected = buildNodeAuthMac(key, t, role)
  if (mac.byteLength !== expected.byteLength) return false
  let diff = 0
  for (let i = 0; i < expected.byteLength; i++) diff |= expected[i] ^ mac[i]
  return diff === 0
}

/** Hello: 0x01 || nonce (33 bytes). @throws MalformedError unless the nonce is 32 bytes */
export function encodeHello (nonce: Uint8Array): Uint8Array {
  requireBytes('nonce', nonce, NODE_AUTH_NONCE_BYTES)
  return Uint8Array.of(MESSAGE_TYPE.hello, ...nonce)
}

/** Response: 0x02 || nonce || MAC (65 bytes). @throws MalformedError unless both are 32 bytes */
export function encodeResponse (nonce: Uint8Array, mac: Uint8Array): Uint8Array {
  requireBytes('nonce', nonce, NODE_AUTH_NONCE_BYTES)
  requireBytes('MAC', mac, NODE_AUTH_MAC_BYTES)
  const out = new Uint8Array(1 + NODE_AUTH_NONCE_BYTES + NODE_AUTH_MAC_BYTES)
  out[0] = MESSAGE_TYPE.response
  out.set(nonce, 1)
  out.set(mac, 1 + NODE_AUTH_NONCE_BYTES)
  return out
}

/** Finish: 0x03 || MAC (33 bytes). @throws MalformedError unless the MAC is 32 bytes */
export function encodeFinish (mac: Uint8Array): Uint8Array {
  requireBytes('MAC', mac, NODE_AUTH_MAC_BYTES)
  return Uint8Array.of(MESSAGE_TYPE.finish, ...mac)
}

/**
 * Decodes one handshake message. Fields are copies, not views of `bytes`.
 * @throws TooLargeError over MAX_NODE_AUTH_MESSAGE_BYTES (checked first);
 *   MalformedError on an empty message, an unknown type byte, or a length
 *   other than its type's
 */
export function decodeNodeAuthMessage (bytes: Uint8Array): NodeAuthMessage {
  if (bytes.byteLength > MAX_NODE_AUTH_MESSAGE_BYTES) throw new TooLargeError('node-auth message', bytes.byteLength, MAX_NODE_AUTH_MESSAGE_BYTES)
  if (bytes.byteLength === 0) throw new MalformedError('empty node-auth message')
  const body = bytes.slice(1)
  switch (bytes[0]) {
    case MESSAGE_TYPE.hello:
      requireBytes('Hello body', body, NODE_AUTH_NONCE_BYTES)
      return { type: 'hello', nonce: body }
    case MESSAGE_TYPE.response:
      requireBytes('Response body', body, NODE_AUTH_NONCE_BYTES + NODE_AUTH_MAC_BYTES)
      return { type: 'response', nonce: body.slice(0, NODE_AUTH_NONCE_BYTES), mac: body.slice(NODE_AUTH_NONCE_BYTES) }
    case MESSAGE_TYPE.finish:
      requireBytes('Finish body', body, NODE_AUTH_MAC_BYTES)
      return { type: 'finish', mac: body }
    default:
      throw new MalformedError(`unknown node-auth message type 0x${bytes[0].toString(16).padStart(2, '0')}`)
  }
}

/**
 * Decodes a message that must be of `type` at this point of the handshake.
 * @throws as decodeNodeAuthMessage; FabricError INVALID_STATE for a well-formed message of another type
 */
export function expectNodeAuthMessage<T extends NodeAuthMessage['type']> (bytes: Uint8Array, type: T): Extract<NodeAuthMessage, { type: T }> {
  const m = decodeNodeAuthMessage(bytes)
  if (m.type !== type) throw new FabricError('INVALID_STATE', `expected a node-auth ${type}, got a ${m.type}`)
  return m as Extract<NodeAuthMessage, { type: T }>
}
