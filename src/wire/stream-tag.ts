/**
 * Stream names and their 64-bit tags (protocol/chunk.md "Stream tag"). A
 * chunk names its stream by tag, not by string, so the relay's per-chunk
 * check is one 8-byte compare and the metadata stays fixed-size.
 */
import { createHash } from 'node:crypto'
import { MalformedError, TooLargeError } from '../errors.js'
import { MAX_STREAM_NAME } from './limits.js'

// A leading letter or digit keeps names from reading as CLI options ("-x")
// or path segments ("." and ".."), since names appear in both.
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** "fabric stream v1" || 0x00: domain separation, so no other hash of a name collides with a tag. */
const TAG_DOMAIN = Buffer.from('fabric stream v1\x00', 'latin1')

/**
 * Checks a stream name: 1..128 characters of [A-Za-z0-9._-], the first a
 * letter or digit; case-sensitive, never normalised (protocol/limits.md).
 * @throws TooLargeError when longer than MAX_STREAM_NAME (128) characters
 * @throws MalformedError when empty, not a string, or outside the charset
 */
export function validateStreamName (name: string): void {
  if (typeof name !== 'string') throw new MalformedError('stream name is not a string')
  if (name.length > MAX_STREAM_NAME) throw new TooLargeError('stream name', Buffer.byteLength(name, 'utf8'), MAX_STREAM_NAME)
  if (!STREAM_NAME.test(name)) {
    throw new MalformedError(name.length === 0 ? 'stream name is empty' : 'stream name must be [A-Za-z0-9][A-Za-z0-9._-]*')
  }
}

/**
 * The 64-bit tag of a stream: the first 8 bytes, read big-endian, of
 * SHA-256("fabric stream v1" || 0x00 || UTF-8(name)). Costs one hash;
 * callers that tag every chunk keep the result.
 * @param name a valid stream name (validateStreamName)
 * @returns an unsigned 64-bit bigint
 * @throws TooLargeError | MalformedError for an invalid name (validateStreamName)
 */
export function streamTag (name: string): bigint {
  validateStreamName(name)
  return createHash('sha256').update(TAG_DOMAIN).update(name, 'utf8').digest().readBigUInt64BE(0)
}
