/**
 * Stream names, stream addresses and what derives from them
 * (protocol/chunk.md "Stream tag", protocol/admission.md "Stream address").
 *
 * A stream is addressed by its owner's identity and its name together, so
 * no other identity can take a name over: the same name under two owners is
 * two streams. A chunk names its stream by a 64-bit tag of that address, so
 * the relay's per-chunk check is one 8-byte compare and the metadata stays
 * fixed-size; the MLS group id is a hash of the same address, so a joiner
 * can check it landed in the group it asked for.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { MalformedError, TooLargeError } from '../errors.js'
import { validateIdentity } from './identity.js'
import { MAX_STREAM_NAME } from './limits.js'
import { utf8ByteLength } from './text.js'

// A leading letter or digit keeps names from reading as CLI options ("-x")
// or path segments ("." and ".."), since names appear in both.
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** "fabric stream v2" || 0x00: domain separation, so no other hash of an address collides with a tag. */
const TAG_DOMAIN = new TextEncoder().encode('fabric stream v2\x00')

/** "fabric group v1" || 0x00: the group id's domain. */
const GROUP_DOMAIN = new TextEncoder().encode('fabric group v1\x00')

const UTF8 = new TextEncoder()

/**
 * SHA-256(domain || UTF-8(key)): 32 bytes. @noble/hashes directly rather
 * than the injected crypto backend, so `wire` depends on no other layer;
 * it runs once per stream address (callers keep the result), so the
 * backend's speed does not matter here.
 */
function streamDigest (domain: Uint8Array, key: StreamKey): Uint8Array {
  const address = UTF8.encode(key)
  const input = new Uint8Array(domain.byteLength + address.byteLength)
  input.set(domain)
  input.set(address, domain.byteLength)
  return sha256(input)
}

/**
 * Checks a stream name: 1..128 characters of [A-Za-z0-9._-], the first a
 * letter or digit; case-sensitive, never normalised (protocol/limits.md).
 * @throws TooLargeError when longer than MAX_STREAM_NAME (128) characters
 * @throws MalformedError when empty, not a string, or outside the charset
 */
export function validateStreamName (name: string): void {
  if (typeof name !== 'string') throw new MalformedError('stream name is not a string')
  if (name.length > MAX_STREAM_NAME) throw new TooLargeError('stream name', utf8ByteLength(name), MAX_STREAM_NAME)
  if (!STREAM_NAME.test(name)) {
    throw new MalformedError(name.length === 0 ? 'stream name is empty' : 'stream name must be [A-Za-z0-9][A-Za-z0-9._-]*')
  }
}

/**
 * A stream's address: its owner's identity (a peer id) and its name, joined
 * by "/" (neither may contain one). Services key streams by it.
 */
export type StreamKey = string

/**
 * The address of stream `name` owned by `owner`.
 * @throws TooLargeError | MalformedError for an invalid identity or name
 */
export function streamKey (owner: string, name: string): StreamKey {
  validateIdentity(owner)
  validateStreamName(name)
  return `${owner}/${name}`
}

/**
 * The owner and name of a stream address.
 * @throws MalformedError when `key` is not owner "/" name with both valid
 */
export function parseStreamKey (key: StreamKey): { owner: string, name: string } {
  const slash = typeof key === 'string' ? key.indexOf('/') : -1
  if (slash < 0) throw new MalformedError('a stream address is owner/name')
  const owner = key.slice(0, slash)
  const name = key.slice(slash + 1)
  validateIdentity(owner)
  validateStreamName(name)
  return { owner, name }
}

/**
 * The 64-bit tag of a stream: the first 8 bytes, read big-endian, of
 * SHA-256("fabric stream v2" || 0x00 || UTF-8(owner "/" name)). Costs one
 * hash; callers that tag every chunk keep the result.
 * @param key a valid stream address (streamKey)
 * @returns an unsigned 64-bit bigint
 * @throws TooLargeError | MalformedError for an invalid address
 */
export function streamTag (key: StreamKey): bigint {
  parseStreamKey(key)
  const digest = streamDigest(TAG_DOMAIN, key)
  return new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0, false)
}

/**
 * The MLS group id of a stream: SHA-256("fabric group v1" || 0x00 ||
 * UTF-8(owner "/" name)), 32 bytes. The same address always gives the same
 * group, so an invitation made offline can name it, and a joiner can check it.
 * @throws TooLargeError | MalformedError for an invalid address
 */
export function streamGroupId (key: StreamKey): Uint8Array {
  parseStreamKey(key)
  return Uint8Array.from(streamDigest(GROUP_DOMAIN, key))
}
