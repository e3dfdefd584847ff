/**
 * Text helpers for the wire layer that Node's Buffer would otherwise supply,
 * written out so the layer runs in browsers too.
 */

/**
 * Bytes of `text` in UTF-8, without encoding it: 1 to 4 per code point, 3 for
 * a lone surrogate (encoded as U+FFFD), as Node's Buffer.byteLength counts.
 */
export function utf8ByteLength (text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) {
      bytes += 1
    } else if (unit < 0x800) {
      bytes += 2
    } else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else {
      bytes += 3
    }
  }
  return bytes
}

/** Lower-case hex of `bytes`: two characters per byte. */
export function toHex (bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.byteLength; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16)
  return out
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const BASE64URL_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE64URL.length; i++) BASE64URL_VALUE[BASE64URL.charCodeAt(i)] = i

/** base64url (RFC 4648 section 5) of `bytes`, without padding. */
export function toBase64url (bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 3 <= bytes.byteLength; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2]
    out += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63] + BASE64URL[(n >>> 6) & 63] + BASE64URL[n & 63]
  }
  const rest = bytes.byteLength - i
  if (rest === 1) {
    const n = bytes[i] << 16
    out += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63]
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8)
    out += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63] + BASE64URL[(n >>> 6) & 63]
  }
  return out
}

/**
 * Bytes of unpadded base64url text, decoded as Node's Buffer does: 3 bytes
 * per 4 characters, 1 or 2 for a final 2 or 3, nothing for a lone final one.
 * @throws RangeError on a character outside the base64url alphabet (callers check the charset first).
 */
export function fromBase64url (text: string): Uint8Array {
  const out = new Uint8Array(Math.floor(text.length * 3 / 4))
  let bits = 0
  let count = 0
  let at = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? BASE64URL_VALUE[code] : -1
    if (value < 0) throw new RangeError(`'${text[i]}' is not a base64url character`)
    bits = (bits << 6) | value
    count += 6
    if (count >= 8) {
      count -= 8
      out[at++] = (bits >>> count) & 0xff
    }
  }
  return out.subarray(0, at)
}
