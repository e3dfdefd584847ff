/**
 * The DHT key under which the nodes serving a fabric stream announce it
 * (protocol/fabric.md section 3): a CIDv1, raw codec, whose multihash is
 * SHA-256("fabric stream provider v1" || 0x00 || UTF-8(stream key)). The
 * label keeps a fabric's records apart from any other use of the same
 * stream name as content.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { MalformedError } from '../errors.js'

/** Domain label hashed before the stream key. */
export const PROVIDER_KEY_LABEL = 'fabric stream provider v1'
/** Multicodec of raw bytes. */
const RAW_CODEC = 0x55
/** Multihash code of SHA2-256. */
const SHA2_256 = 0x12
/** Longest stream key accepted, UTF-8 bytes (owner/name; protocol/limits.md bounds both far lower). */
export const MAX_STREAM_KEY_BYTES = 1024

/**
 * The provider-record CID of `streamKey` (`owner/name`).
 * @throws MalformedError on an empty key or one over MAX_STREAM_KEY_BYTES
 */
export function streamProviderCid (streamKey: string): CID {
  const key = new TextEncoder().encode(streamKey)
  if (key.byteLength === 0 || key.byteLength > MAX_STREAM_KEY_BYTES) throw new MalformedError(`stream key of ${key.byteLength} bytes; expected 1..${MAX_STREAM_KEY_BYTES}`)
  const label = new TextEncoder().encode(PROVIDER_KEY_LABEL)
  const input = new Uint8Array(label.byteLength + 1 + key.byteLength)
  input.set(label, 0)
  input.set(key, label.byteLength + 1)
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, sha256(input)))
}
