/**
 * Bounded codecs of the av control messages (protocol/av.proto,
 * protocol/control.md "Media streams"): the open handshake of
 * /fabric/av/publish/1 and /fabric/av/subscribe/1, and the notices that flow
 * against the media. Each is one frame of at most MAX_AV_MESSAGE bytes.
 */
import { MalformedError } from '../errors.js'
import { MAX_AV_MESSAGE, X25519_PUBLIC_KEY_LENGTH } from './limits.js'
import {
  checkEncodedSize, checkOneBody, checkU32, checkVersion, checkWireError, decodeBounded, withVersion,
  type Loose, type Unversioned
} from './message-codec.js'
import { OpenResult, PublisherNotice, PublishOpen, SubscribeOpen, SubscriberNotice } from './pb/av.js'
import { checkGoingAway, MAX_GOING_AWAY_ADDRESSES } from './going-away.js'
import { validateIdentity } from './identity.js'
import { validateStreamName } from './stream-tag.js'

export { OpenResult, PublisherNotice, PublishOpen, SubscribeOpen, SubscriberNotice }

const NOTICE_BODIES = ['keyframeRequest'] as const
const PUBLISHER_NOTICE_BODIES = ['keyframeRequest', 'goingAway'] as const

/**
 * Encodes a PublishOpen (version 1 written for the caller).
 * @throws what decodePublishOpen would throw for the result; RangeError for a version other than 1
 */
export function encodePublishOpen (msg: Unversioned<PublishOpen>): Uint8Array {
  const full = withVersion<PublishOpen>('PublishOpen', msg)
  checkAddress(full)
  return checkEncodedSize('PublishOpen', PublishOpen.encode(full), MAX_AV_MESSAGE)
}

/**
 * Decodes the first frame of a publish stream: a valid owner identity and stream name.
 * @throws TooLargeError when over MAX_AV_MESSAGE (4 KiB) or the owner or stream name is too long
 * @throws MalformedError when it does not parse or the owner or stream name is invalid
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodePublishOpen (bytes: Uint8Array): PublishOpen {
  const msg = decodeBounded<PublishOpen>('PublishOpen', bytes, MAX_AV_MESSAGE, PublishOpen.codec())
  checkVersion('PublishOpen', msg.version)
  checkAddress(msg)
  return msg
}

/**
 * Encodes a SubscribeOpen (version 1 written for the caller).
 * @throws what decodeSubscribeOpen would throw for the result; RangeError for a version other than 1
 */
export function encodeSubscribeOpen (msg: Unversioned<SubscribeOpen>): Uint8Array {
  const full = withVersion<SubscribeOpen>('SubscribeOpen', msg)
  checkSubscribeOpen(full)
  return checkEncodedSize('SubscribeOpen', SubscribeOpen.encode(full), MAX_AV_MESSAGE)
}

/**
 * Decodes the first frame of a subscribe stream: a valid owner identity and
 * stream name and a 32-byte X25519 public key. The key is a view into `bytes`.
 * @throws TooLargeError when over MAX_AV_MESSAGE or the stream name is too long
 * @throws MalformedError when it does not parse, the name is invalid or the key is not 32 bytes
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeSubscribeOpen (bytes: Uint8Array): SubscribeOpen {
  const msg = decodeBounded<SubscribeOpen>('SubscribeOpen', bytes, MAX_AV_MESSAGE, SubscribeOpen.codec())
  checkVersion('SubscribeOpen', msg.version)
  checkSubscribeOpen(msg)
  return msg
}

/**
 * Encodes an OpenResult (version 1 written for the caller).
 * @throws what decodeOpenResult would throw for the result; RangeError for a version other than 1
 */
export function encodeOpenResult (msg: Unversioned<OpenResult>): Uint8Array {
  const full = withVersion<OpenResult>('OpenResult', msg)
  checkOpenResult(full)
  return checkEncodedSize('OpenResult', OpenResult.encode(full), MAX_AV_MESSAGE)
}

/**
 * Decodes the node's answer to an open. The relay key is empty or 32 bytes,
 * and empty whenever `error` is present; whether a success must carry one
 * (subscribe) or not (publish) is the caller's check.
 * @throws TooLargeError when over MAX_AV_MESSAGE or an error field is too long
 * @throws MalformedError when it does not parse or breaks the rules above
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeOpenResult (bytes: Uint8Array): OpenResult {
  const msg = decodeBounded<OpenResult>('OpenResult', bytes, MAX_AV_MESSAGE, OpenResult.codec())
  checkVersion('OpenResult', msg.version)
  checkOpenResult(msg)
  return msg
}

/**
 * Encodes a PublisherNotice (node to publisher); it has no version field.
 * @throws MalformedError without a body; RangeError for a track outside u32
 */
export function encodePublisherNotice (msg: Loose<PublisherNotice>): Uint8Array {
  checkNotice('PublisherNotice', msg)
  return checkEncodedSize('PublisherNotice', PublisherNotice.encode(msg), MAX_AV_MESSAGE)
}

/**
 * Decodes a PublisherNotice; a body (keyframe_request or going_away, whose
 * rules are going-away.ts's) is required.
 * @throws TooLargeError over MAX_AV_MESSAGE; MalformedError when it does not parse or has no body
 */
export function decodePublisherNotice (bytes: Uint8Array): PublisherNotice {
  const msg = decodeBounded<PublisherNotice>('PublisherNotice', bytes, MAX_AV_MESSAGE, PublisherNotice.codec(), {
    goingAway: { addresses: MAX_GOING_AWAY_ADDRESSES }
  })
  checkNotice('PublisherNotice', msg)
  return msg
}

/**
 * Encodes a SubscriberNotice (subscriber to node); it has no version field.
 * @throws MalformedError without a body; RangeError for a track outside u32
 */
export function encodeSubscriberNotice (msg: Loose<SubscriberNotice>): Uint8Array {
  checkNotice('SubscriberNotice', msg)
  return checkEncodedSize('SubscriberNotice', SubscriberNotice.encode(msg), MAX_AV_MESSAGE)
}

/**
 * Decodes a SubscriberNotice; a body (keyframe_request) is required.
 * @throws TooLargeError over MAX_AV_MESSAGE; MalformedError when it does not parse or has no body
 */
export function decodeSubscriberNotice (bytes: Uint8Array): SubscriberNotice {
  const msg = decodeBounded<SubscriberNotice>('SubscriberNotice', bytes, MAX_AV_MESSAGE, SubscriberNotice.codec())
  checkNotice('SubscriberNotice', msg)
  return msg
}

function checkSubscribeOpen (msg: SubscribeOpen): void {
  checkAddress(msg)
  checkKey('SubscribeOpen.subscriber_public_key', msg.subscriberPublicKey, false)
}

function checkOpenResult (msg: OpenResult): void {
  checkKey('OpenResult.relay_public_key', msg.relayPublicKey, true)
  if (msg.error != null) {
    checkWireError('OpenResult.error', msg.error)
    if (msg.relayPublicKey.byteLength !== 0) throw new MalformedError('OpenResult carries both an error and a relay key')
  }
}

function checkNotice (what: string, msg: PublisherNotice | SubscriberNotice): void {
  checkOneBody(what, msg, 'goingAway' in msg ? PUBLISHER_NOTICE_BODIES : NOTICE_BODIES)
  if (msg.keyframeRequest != null) checkU32(`${what}.keyframe_request.track`, msg.keyframeRequest.track)
  if ('goingAway' in msg && msg.goingAway != null) checkGoingAway(`${what}.going_away`, msg.goingAway)
}

// A fixed-length key of the wrong length is malformed whichever way it is wrong.
function checkKey (what: string, key: Uint8Array, mayBeEmpty: boolean): void {
  if (!(key instanceof Uint8Array)) throw new MalformedError(`${what} is not bytes`)
  if (key.byteLength === X25519_PUBLIC_KEY_LENGTH || (mayBeEmpty && key.byteLength === 0)) return
  throw new MalformedError(`${what} is ${key.byteLength} bytes, must be ${mayBeEmpty ? '0 or ' : ''}${X25519_PUBLIC_KEY_LENGTH}`)
}

/** A stream address on the wire: the owner's identity and the stream name (protocol/admission.md "Stream address"). */
function checkAddress (msg: { owner: string, stream: string }): void {
  validateIdentity(msg.owner)
  validateStreamName(msg.stream)
}
