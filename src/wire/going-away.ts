/**
 * The rules of a going-away notice, which a stopping node sends on group
 * streams (GoingAway, protocol/group.proto) and on publish streams
 * (NodeGoingAway, protocol/av.proto): protocol/survival.md section 5.
 */
import { MalformedError } from '../errors.js'
import { checkU32 } from './integers.js'
import { checkCount, checkWireError } from './message-codec.js'
import { utf8ByteLength } from './text.js'

/** Most addresses a going-away notice names (other nodes of the fabric to go to). */
export const MAX_GOING_AWAY_ADDRESSES = 16

/** Longest multiaddr text a going-away notice carries, bytes. */
export const MAX_ADDRESS_TEXT = 512

/** Longest wait a going-away notice may ask for, ms (one minute). */
export const MAX_RETRY_AFTER_MS = 60_000

/**
 * Checks a going-away notice: a reason of at most 1 KiB, at most 16
 * addresses of at most 512 bytes each, a wait of at most 60 000 ms.
 * @throws MalformedError / TooLargeError naming `what`; RangeError for a wait that is not a u32 (only an encoder can hold one)
 */
export function checkGoingAway (what: string, g: { reason: string, addresses: string[], retryAfterMs: number }): void {
  checkWireError(what, { code: 'UNREACHABLE', message: g.reason })
  checkCount(`${what}.addresses`, g.addresses, MAX_GOING_AWAY_ADDRESSES)
  for (const a of g.addresses) {
    if (utf8ByteLength(a) > MAX_ADDRESS_TEXT) throw new MalformedError(`${what} address is longer than ${MAX_ADDRESS_TEXT} bytes`)
  }
  checkU32(`${what}.retry_after_ms`, g.retryAfterMs)
  if (g.retryAfterMs > MAX_RETRY_AFTER_MS) throw new MalformedError(`${what}.retry_after_ms ${g.retryAfterMs} exceeds ${MAX_RETRY_AFTER_MS}`)
}
