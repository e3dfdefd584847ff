/**
 * Test scaffolding for the relay: real per-subscriber link keys (X25519 +
 * HKDF transit key, AES-GCM link seal) and real wire chunks.
 */
import { randomBytes } from 'node:crypto'
import { LinkOpener, LinkSealer, sealedPacket, type SealedFrame } from '../../src/crypto/link-seal.js'
import { deriveTransitKey, generateLinkKeyPair } from '../../src/crypto/transit-key.js'
import type { ChunkSealer } from '../../src/relay/relay-node.js'
import { encodeChunk } from '../../src/wire/chunk.js'
import { FrameDecoder, varintLength } from '../../src/wire/framing.js'
import { LINK_SEAL_OVERHEAD, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { decodeLinkHeader } from '../../src/wire/link-header.js'
import { streamTag } from '../../src/wire/stream-tag.js'

/** Hex of a byte view (honours byteOffset: link-seal outputs may be slab views). */
export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** A LinkSealer that counts its seals. */
export class CountingSealer implements ChunkSealer {
  seals = 0
  readonly inner: LinkSealer
  constructor (inner: LinkSealer) { this.inner = inner }
  sealFrame (chunk: Uint8Array): SealedFrame {
    this.seals++
    return this.inner.sealFrame(chunk)
  }
}

/**
 * Bytes a sealed chunk of `chunkLength` bytes puts on the stream (what the
 * relay's forwardedBytes counts; its queue bounds count raw chunk bytes):
 * varint length prefix || header || ciphertext || tag.
 */
export function wireSize (chunkLength: number): number {
  const packet = chunkLength + LINK_SEAL_OVERHEAD
  return varintLength(packet) + packet
}

/**
 * The sealed packet (header || ciphertext || tag) a subscriber reads off its
 * stream for one queued frame: the frame's pieces go through a FrameDecoder
 * as the subscriber's end would get them, and must form exactly one frame
 * whose bytes match `sealedPacket` and whose size matches `byteLength`.
 */
export function unframe (frame: SealedFrame): Uint8Array {
  if (frame.byteLength !== frame.head.byteLength + frame.body.byteLength + frame.tail.byteLength) {
    throw new Error(`frame byteLength ${frame.byteLength} is not the sum of its pieces`)
  }
  const decoder = new FrameDecoder(MAX_MEDIA_FRAME)
  const frames = [...decoder.push(frame.head), ...decoder.push(frame.body), ...decoder.push(frame.tail)]
  if (frames.length !== 1 || decoder.bufferedBytes !== 0) {
    throw new Error(`frame pieces decode to ${frames.length} frames and ${decoder.bufferedBytes} stray bytes, expected exactly one frame`)
  }
  const packet = frames[0]
  if (hex(packet) !== hex(sealedPacket(frame))) throw new Error('decoded frame differs from sealedPacket(frame)')
  return packet
}

/** Both ends of one subscription's link: the relay's sealer and the subscriber's opener. */
export interface Link {
  sealer: CountingSealer
  opener: LinkOpener
}

/**
 * Runs the subscribe-time key agreement of one subscription: each side
 * derives the transit key from its own private key and the other's public key.
 */
export function makeLink (stream: string): Link {
  const sub = generateLinkKeyPair()
  const relay = generateLinkKeyPair()
  const common = { subscriberPublicKey: sub.publicKey, relayPublicKey: relay.publicKey, stream }
  const relaySide = deriveTransitKey({ ...common, privateKey: relay.privateKey, peerPublicKey: sub.publicKey })
  const subSide = deriveTransitKey({ ...common, privateKey: sub.privateKey, peerPublicKey: relay.publicKey })
  return { sealer: new CountingSealer(new LinkSealer(relaySide)), opener: new LinkOpener(subSide) }
}

/** The link sequence in a sealed frame's header. */
export function linkSequence (sealed: SealedFrame): bigint {
  return decodeLinkHeader(unframe(sealed)).sequence
}

export interface ChunkSpec {
  track: number
  sequence: number
  keyframe?: boolean
  discardable?: boolean
  /** Payload bytes (opaque to the relay); default 64 random bytes. */
  payload?: Uint8Array
  size?: number
}

const tags = new Map<string, bigint>()

/** A valid wire chunk of `stream` (payload random, as SFrame bytes look to a relay). */
export function makeChunk (stream: string, spec: ChunkSpec): Uint8Array {
  let tag = tags.get(stream)
  if (tag === undefined) {
    tag = streamTag(stream)
    tags.set(stream, tag)
  }
  const payload = spec.payload ?? new Uint8Array(randomBytes(spec.size ?? 64))
  return encodeChunk({
    keyframe: spec.keyframe ?? false,
    discardable: spec.discardable ?? false,
    spatialLayer: 0,
    temporalLayer: 0,
    streamTag: tag,
    track: spec.track,
    sequence: spec.sequence,
    timestampUs: BigInt(spec.sequence) * 33_333n,
  }, payload)
}
