/**
 * The media chunk (protocol/chunk.md): 28 bytes of clear metadata, big-endian,
 * followed by the SFrame bytes (RFC 9605 header || ciphertext || tag), which
 * stay opaque to relays. The SFrame AAD is the SFrame header followed by the
 * metadata, so what a relay reads here is authenticated end to end.
 *
 *   0 version | 1 flags | 2 layers | 3 reserved | 4..11 stream tag
 *   12..15 track | 16..19 sequence | 20..27 capture timestamp (us)
 *
 * The encoders serve publishers; `validateChunk` and the `chunk*` accessors
 * serve the relay's per-chunk path and allocate nothing on success.
 */
import { FabricError, MalformedError, TooLargeError } from '../errors.js'
import { checkU32, checkU64 } from './integers.js'
import { CHUNK_META_LENGTH, MAX_CHUNK_PAYLOAD, MAX_LEAF_INDEX } from './limits.js'
import { MAX_TRACK } from './track.js'

export { CHUNK_META_LENGTH }
export { TrackContext, MAX_TRACK, makeTrack, trackLeafIndex, trackContext } from './track.js'

/** The metadata version this code writes and accepts. */
export const CHUNK_VERSION = 1

/** Flag bit: the payload is a keyframe (a decoder can start here). */
export const FLAG_KEYFRAME = 0x01

/** Flag bit: no later frame references this one, so a relay may drop it. */
export const FLAG_DISCARDABLE = 0x02

/** Shortest valid chunk: metadata plus a 1-byte payload. */
export const MIN_CHUNK_LENGTH = CHUNK_META_LENGTH + 1

const KNOWN_FLAGS = FLAG_KEYFRAME | FLAG_DISCARDABLE
const OFF_FLAGS = 1
const OFF_LAYERS = 2
const OFF_RESERVED = 3
const OFF_TAG = 4
const OFF_TRACK = 12
const OFF_SEQUENCE = 16
const OFF_TIMESTAMP = 20
const U32 = 0xffffffffn

/** The clear metadata of one chunk, field by field (protocol/chunk.md). */
export interface ChunkMeta {
  /** A decoder can start at this frame. Never set together with `discardable`. */
  keyframe: boolean
  /** No other frame references this one; relays drop these first. */
  discardable: boolean
  /** Spatial (resolution) layer, 0..15; 0 is the base layer. */
  spatialLayer: number
  /** Temporal (frame-rate) layer, 0..15; 0 is the base layer. */
  temporalLayer: number
  /** streamTag(stream address), an unsigned 64-bit value (stream-tag.ts). */
  streamTag: bigint
  /** u32: (sender MLS leaf index << 8) | context (track.ts); the leaf at most MAX_LEAF_INDEX. */
  track: number
  /** u32 per-track chunk counter, +1 per chunk, wrapping at 2^32. */
  sequence: number
  /** Capture time, unsigned 64-bit microseconds since the Unix epoch, publisher's clock. */
  timestampUs: bigint
}

/** A chunk split into its parts; the arrays are views into the parsed bytes. */
export interface ParsedChunk {
  meta: ChunkMeta
  /** The 28 metadata bytes, as they go into the SFrame AAD. */
  metaBytes: Uint8Array
  /** The SFrame bytes, 1..MAX_CHUNK_PAYLOAD long. */
  payload: Uint8Array
}

/**
 * Writes the 28 metadata bytes of `meta` into `out` at `offset`.
 * @returns offset + 28
 * @throws RangeError when a field is out of range (layers 0..15, track at
 *   most MAX_TRACK, sequence u32, tag and timestamp u64, keyframe with
 *   discardable) or `out`
 *   lacks 28 bytes at `offset`
 */
export function encodeChunkMetaInto (meta: ChunkMeta, out: Uint8Array, offset = 0): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + CHUNK_META_LENGTH > out.length) {
    throw new RangeError(`no room for ${CHUNK_META_LENGTH} metadata bytes at offset ${offset} of ${out.length}`)
  }
  checkMeta(meta)
  out[offset] = CHUNK_VERSION
  out[offset + OFF_FLAGS] = (meta.keyframe ? FLAG_KEYFRAME : 0) | (meta.discardable ? FLAG_DISCARDABLE : 0)
  out[offset + OFF_LAYERS] = (meta.spatialLayer << 4) | meta.temporalLayer
  out[offset + OFF_RESERVED] = 0
  writeU64(out, offset + OFF_TAG, meta.streamTag)
  writeU32(out, offset + OFF_TRACK, meta.track)
  writeU32(out, offset + OFF_SEQUENCE, meta.sequence)
  writeU64(out, offset + OFF_TIMESTAMP, meta.timestampUs)
  return offset + CHUNK_META_LENGTH
}

/**
 * The 28 metadata bytes of `meta`, in a new array.
 * @throws RangeError as encodeChunkMetaInto
 */
export function encodeChunkMeta (meta: ChunkMeta): Uint8Array {
  const out = new Uint8Array(CHUNK_META_LENGTH)
  encodeChunkMetaInto(meta, out, 0)
  return out
}

/**
 * A whole chunk, metadata || payload, in one new array (one allocation).
 * @param payload the SFrame bytes, 1..MAX_CHUNK_PAYLOAD (1 MiB)
 * @throws TooLargeError when the payload exceeds MAX_CHUNK_PAYLOAD
 * @throws RangeError when the payload is empty or a field is out of range
 */
export function encodeChunk (meta: ChunkMeta, payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_CHUNK_PAYLOAD) throw new TooLargeError('chunk payload', payload.byteLength, MAX_CHUNK_PAYLOAD)
  if (payload.byteLength === 0) throw new RangeError('chunk payload is empty')
  const out = new Uint8Array(CHUNK_META_LENGTH + payload.byteLength)
  encodeChunkMetaInto(meta, out, 0)
  out.set(payload, CHUNK_META_LENGTH)
  return out
}

/**
 * Decodes the metadata in the first 28 bytes of `bytes`; later bytes (the
 * payload) are ignored.
 * @throws MalformedError when shorter than 28 bytes, flags or reserved
 *   byte are invalid, or the track names a leaf above MAX_LEAF_INDEX
 * @throws FabricError('UNSUPPORTED_VERSION') when byte 0 is not 1
 */
export function decodeChunkMeta (bytes: Uint8Array): ChunkMeta {
  if (bytes.length === 0 || bytes[0] !== CHUNK_VERSION) checkVersion(bytes)
  if (bytes.length < CHUNK_META_LENGTH) throw new MalformedError(`chunk metadata is ${bytes.length} bytes, needs ${CHUNK_META_LENGTH}`)
  checkHeaderBytes(bytes)
  return readChunkMeta(bytes)
}

/** The metadata fields of a chunk whose 28 header bytes were already checked. */
function readChunkMeta (bytes: Uint8Array): ChunkMeta {
  const flags = bytes[OFF_FLAGS]
  const layers = bytes[OFF_LAYERS]
  return {
    keyframe: (flags & FLAG_KEYFRAME) !== 0,
    discardable: (flags & FLAG_DISCARDABLE) !== 0,
    spatialLayer: layers >>> 4,
    temporalLayer: layers & 0x0f,
    streamTag: readU64(bytes, OFF_TAG),
    track: readU32(bytes, OFF_TRACK),
    sequence: readU32(bytes, OFF_SEQUENCE),
    timestampUs: readU64(bytes, OFF_TIMESTAMP)
  }
}

/**
 * Validates a whole chunk and splits it into metadata and payload views.
 * @param expectedStreamTag when given, the chunk must carry this tag
 * @throws as validateChunk
 */
export function parseChunk (bytes: Uint8Array, expectedStreamTag?: bigint | StreamTagHalves): ParsedChunk {
  validateChunk(bytes, expectedStreamTag)
  return {
    meta: readChunkMeta(bytes),
    metaBytes: bytes.subarray(0, CHUNK_META_LENGTH),
    payload: bytes.subarray(CHUNK_META_LENGTH)
  }
}

/**
 * Checks what a relay must check before forwarding a chunk: version, total
 * length 29..28+MAX_CHUNK_PAYLOAD, flags, reserved byte, the track's leaf
 * index (at most MAX_LEAF_INDEX), and the stream tag.
 * Reads the bytes in place and allocates nothing unless it throws.
 * @param expectedStreamTag when given, the u64 tag the chunk must carry; pass
 *   it split (splitStreamTag, once per stream) to compare without allocating
 * @throws FabricError('UNSUPPORTED_VERSION') when byte 0 is not 1
 * @throws MalformedError when too short, flags or reserved invalid, the
 *   track names a leaf above MAX_LEAF_INDEX, or the stream tag differs from
 *   `expectedStreamTag`
 * @throws TooLargeError when the payload exceeds MAX_CHUNK_PAYLOAD (1 MiB)
 */
export function validateChunk (bytes: Uint8Array, expectedStreamTag?: bigint | StreamTagHalves): void {
  if (bytes.length === 0 || bytes[0] !== CHUNK_VERSION) checkVersion(bytes)
  if (bytes.length < MIN_CHUNK_LENGTH) throw new MalformedError(`chunk is ${bytes.length} bytes, shorter than ${MIN_CHUNK_LENGTH}`)
  if (bytes.length - CHUNK_META_LENGTH > MAX_CHUNK_PAYLOAD) {
    throw new TooLargeError('chunk payload', bytes.length - CHUNK_META_LENGTH, MAX_CHUNK_PAYLOAD)
  }
  checkHeaderBytes(bytes)
  if (expectedStreamTag !== undefined && !tagMatches(bytes, expectedStreamTag)) {
    const expected = typeof expectedStreamTag === 'bigint' ? expectedStreamTag : (BigInt(expectedStreamTag.high) << 32n) | BigInt(expectedStreamTag.low)
    throw new MalformedError(`chunk stream tag 0x${readU64(bytes, OFF_TAG).toString(16).padStart(16, '0')} is not this stream's 0x${expected.toString(16).padStart(16, '0')}`)
  }
}

/**
 * Keyframe flag of a chunk, read in place. Precondition: validateChunk passed.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkIsKeyframe (bytes: Uint8Array): boolean {
  requireMeta(bytes)
  return (bytes[OFF_FLAGS] & FLAG_KEYFRAME) !== 0
}

/**
 * Discardable flag of a chunk, read in place. Precondition: validateChunk passed.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkIsDiscardable (bytes: Uint8Array): boolean {
  requireMeta(bytes)
  return (bytes[OFF_FLAGS] & FLAG_DISCARDABLE) !== 0
}

/**
 * Spatial layer (0..15) of a chunk, read in place.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkSpatialLayer (bytes: Uint8Array): number {
  requireMeta(bytes)
  return bytes[OFF_LAYERS] >>> 4
}

/**
 * Temporal layer (0..15) of a chunk, read in place.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkTemporalLayer (bytes: Uint8Array): number {
  requireMeta(bytes)
  return bytes[OFF_LAYERS] & 0x0f
}

/**
 * Track (u32, track.ts) of a chunk, read in place.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkTrack (bytes: Uint8Array): number {
  requireMeta(bytes)
  return readU32(bytes, OFF_TRACK)
}

/**
 * Per-track sequence number (u32) of a chunk, read in place.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkSequence (bytes: Uint8Array): number {
  requireMeta(bytes)
  return readU32(bytes, OFF_SEQUENCE)
}

/**
 * Capture timestamp (u64 microseconds since the Unix epoch) of a chunk. The
 * returned bigint is the one allocation a u64 cannot avoid.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkTimestampUs (bytes: Uint8Array): bigint {
  requireMeta(bytes)
  return readU64(bytes, OFF_TIMESTAMP)
}

/**
 * Stream tag (u64) of a chunk, as a new bigint. To compare against a known
 * tag without allocating, use validateChunk's `expectedStreamTag`.
 * @throws MalformedError when shorter than 28 bytes
 */
export function chunkStreamTag (bytes: Uint8Array): bigint {
  requireMeta(bytes)
  return readU64(bytes, OFF_TAG)
}

/** Throws the error a wrong or missing version byte deserves. */
function checkVersion (bytes: Uint8Array): never {
  if (bytes.length === 0) throw new MalformedError('chunk is empty')
  throw new FabricError('UNSUPPORTED_VERSION', `chunk metadata version ${bytes[0]}, expected ${CHUNK_VERSION}`)
}

/** Flags, reserved byte and the track's leaf index; the caller has checked the length. */
function checkHeaderBytes (bytes: Uint8Array): void {
  const flags = bytes[OFF_FLAGS]
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new MalformedError(`chunk flags 0x${flags.toString(16)} set unknown bits`)
  // A keyframe is always referenced, so dropping it as discardable would break the track.
  if (flags === KNOWN_FLAGS) throw new MalformedError('chunk is both keyframe and discardable')
  if (bytes[OFF_RESERVED] !== 0) throw new MalformedError('chunk reserved byte is not 0')
  // No SFrame KID names a leaf above MAX_LEAF_INDEX, so no member sends from one.
  const track = readU32(bytes, OFF_TRACK)
  if (track > MAX_TRACK) throw new MalformedError(`chunk track ${track} names leaf ${track >>> 8}, above ${MAX_LEAF_INDEX}`)
}

function requireMeta (bytes: Uint8Array): void {
  if (bytes.length < CHUNK_META_LENGTH) throw new MalformedError(`chunk is ${bytes.length} bytes, shorter than its ${CHUNK_META_LENGTH}-byte metadata`)
}

/** A stream tag as its two big-endian u32 halves, compared in place without allocating. */
export interface StreamTagHalves {
  readonly high: number
  readonly low: number
}

/**
 * Splits a u64 stream tag once, for a holder that checks many chunks against
 * it (a relay per stream, a member per stream): splitting a bigint allocates.
 * @throws RangeError when tag is not a u64
 */
export function splitStreamTag (tag: bigint): StreamTagHalves {
  checkU64('stream tag', tag)
  return { high: Number(tag >> 32n), low: Number(tag & U32) }
}

function tagMatches (bytes: Uint8Array, tag: bigint | StreamTagHalves): boolean {
  const t = typeof tag === 'bigint' ? splitStreamTag(tag) : tag
  return readU32(bytes, OFF_TAG) === t.high && readU32(bytes, OFF_TAG + 4) === t.low
}

function checkMeta (meta: ChunkMeta): void {
  checkNibble('spatialLayer', meta.spatialLayer)
  checkNibble('temporalLayer', meta.temporalLayer)
  checkU32('track', meta.track)
  if (meta.track > MAX_TRACK) throw new RangeError(`track ${meta.track} names leaf ${meta.track >>> 8}, above ${MAX_LEAF_INDEX}`)
  checkU32('sequence', meta.sequence)
  checkU64('streamTag', meta.streamTag)
  checkU64('timestampUs', meta.timestampUs)
  if (meta.keyframe && meta.discardable) throw new RangeError('a chunk cannot be both keyframe and discardable')
}

function checkNibble (name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 15) throw new RangeError(`${name} out of range 0..15: ${v}`)
}

function readU32 (b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0
}

function readU64 (b: Uint8Array, o: number): bigint {
  return (BigInt(readU32(b, o)) << 32n) | BigInt(readU32(b, o + 4))
}

function writeU32 (b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24
  b[o + 1] = (v >>> 16) & 0xff
  b[o + 2] = (v >>> 8) & 0xff
  b[o + 3] = v & 0xff
}

function writeU64 (b: Uint8Array, o: number, v: bigint): void {
  writeU32(b, o, Number(v >> 32n))
  writeU32(b, o + 4, Number(v & U32))
}
