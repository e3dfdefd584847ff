/**
 * Shared machinery of the control-message wrappers (protocol/control.md):
 * bounded decoding around the protons codecs, and the field checks that
 * encoders and decoders share so that whatever an encoder emits, the
 * decoder accepts.
 */
import { reader as createReader } from 'protons-runtime'
import type { DecodeOptions, Reader } from 'protons-runtime'
import { utf8ByteLength } from './text.js'
import { FabricError, MalformedError, TooLargeError } from '../errors.js'
import { MAX_ERROR_CODE, MAX_ERROR_MESSAGE } from './limits.js'

/**
 * The `version` every versioned v1 control message carries: the one
 * definition, which the encoders here stamp, the decoders check, and the
 * group service core (node/group) stamps and checks too.
 */
export const PROTOCOL_VERSION = 1

/**
 * A protons message type with every bytes field widened from
 * Uint8Array<ArrayBuffer> to any Uint8Array, as encoders accept them.
 */
export type Loose<T> = T extends Uint8Array
  ? Uint8Array
  : T extends bigint | number | string | boolean
    ? T
    : T extends ReadonlyArray<infer E>
      ? Array<Loose<E>>
      : { [K in keyof T]: Loose<T[K]> }

/**
 * A message as callers hand it to an encoder: `version` may be left out (the
 * encoder writes PROTOCOL_VERSION); if given it must be 1. Bytes fields take
 * any Uint8Array.
 */
export type Unversioned<T extends { version: number }> = Omit<Loose<T>, 'version'> & { version?: number }

/** The decode half of a protons codec (protons-runtime Codec.decode). */
export interface MessageDecoder<T> {
  decode: (reader: Reader, length?: number, opts?: DecodeOptions<T>) => T
}

/** The error body shared by DirError, GroupError and AvError. */
export interface WireError {
  code: string
  message: string
}

const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/

/**
 * Runs a protons decoder over `bytes` within bounds: the byte length is
 * checked first, repeated fields are capped by `limits`, and any exception
 * from the decoder becomes a MalformedError (original as `cause`). Bytes
 * fields of the result are views into `bytes`.
 * @throws TooLargeError when bytes.byteLength > maxBytes
 * @throws MalformedError when protons fails, or the last field runs past the end
 */
export function decodeBounded<T> (what: string, bytes: Uint8Array, maxBytes: number, codec: MessageDecoder<T>, limits?: DecodeOptions<T>['limits']): T {
  if (bytes.byteLength > maxBytes) throw new TooLargeError(what, bytes.byteLength, maxBytes)
  const reader = createReader(bytes)
  let msg: T
  try {
    msg = codec.decode(reader, undefined, { limits })
  } catch (err) {
    throw new MalformedError(`${what} does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  // protons reads a varint cut short by the end of input as if zero-padded,
  // leaving the position past the end instead of throwing.
  if (reader.pos !== reader.len) throw new MalformedError(`${what} ends inside a field`)
  checkFieldFraming(what, bytes)
  checkText(what, msg)
  return msg
}

/**
 * Refuses a decoded message holding text that was not valid UTF-8: protons
 * reads such bytes into lone surrogates, which the encoder would write back
 * as U+FFFD, so the message would not survive re-encoding (and two peers
 * could read one name differently). Walks every string of the message.
 * @throws MalformedError
 */
function checkText (what: string, value: unknown): void {
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw new MalformedError(`${what} holds text that is not valid UTF-8`)
  } else if (Array.isArray(value)) {
    for (const v of value) checkText(what, v)
  } else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    for (const v of Object.values(value)) checkText(what, v)
  }
}

/** True when `s` has no lone surrogate (String.prototype.isWellFormed, Node 20+). */
function isWellFormed (s: string): boolean {
  return (s as string & { isWellFormed: () => boolean }).isWellFormed()
}

/**
 * Walks the top-level fields of a protobuf encoding (key, then a varint,
 * 8 bytes, a length and that many bytes, or 4 bytes) and refuses one that
 * ends inside a field. protons-runtime 7.1.2 reads a 64-bit varint with at
 * most four bytes left as if its fourth byte were the last whatever its
 * continuation bit, so a message cut inside a final u64 field otherwise
 * decodes as a smaller number (RosterUpdate.epoch, for one). Run after the
 * codec accepted the bytes, so its own errors keep their shape. Fields
 * inside a nested message are the codec's to read.
 * @throws MalformedError naming the offset of the cut field, or a group (wire types 3, 4) or unknown wire type
 */
function checkFieldFraming (what: string, bytes: Uint8Array): void {
  const end = bytes.byteLength
  let pos = 0
  /** The varint at `pos`, moving `pos` past it; at most 10 bytes, all before `end`. */
  const varint = (): number => {
    let value = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new MalformedError(`${what} ends inside a field (a varint at byte ${pos})`)
      const b = bytes[pos++]!
      value += (b & 0x7f) * scale
      if ((b & 0x80) === 0) return value
      scale *= 128
    }
    throw new MalformedError(`${what} has a varint longer than 10 bytes`)
  }
  while (pos < end) {
    const at = pos
    const key = varint()
    switch (key % 8) {
      case 0: varint(); break
      case 1: pos += 8; break
      case 2: { const length = varint(); pos += length; break }
      case 5: pos += 4; break
      default: throw new MalformedError(`${what} has a field of wire type ${key % 8} at byte ${at}`)
    }
    if (pos > end) throw new MalformedError(`${what} ends inside a field (the one at byte ${at})`)
  }
}

/**
 * Checks the encoded size of an outgoing message against its bound, so a
 * sender learns of an oversize message before the peer refuses it.
 * @throws TooLargeError when bytes.byteLength > maxBytes
 */
export function checkEncodedSize (what: string, bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes.byteLength > maxBytes) throw new TooLargeError(what, bytes.byteLength, maxBytes)
  return bytes
}

/**
 * The message to encode with `version` set to PROTOCOL_VERSION.
 * @throws RangeError when the caller set another version
 */
export function withVersion<T extends { version: number }> (what: string, msg: Unversioned<T>): T {
  if (msg.version !== undefined && msg.version !== PROTOCOL_VERSION) throw new RangeError(`${what}: this implementation only encodes version ${PROTOCOL_VERSION}, not ${msg.version}`)
  // Loose only widens bytes fields, which protons' writer copies whatever their buffer.
  return { ...msg, version: PROTOCOL_VERSION } as unknown as T
}

/** @throws FabricError('UNSUPPORTED_VERSION') unless version is PROTOCOL_VERSION */
export function checkVersion (what: string, version: number): void {
  if (version !== PROTOCOL_VERSION) throw new FabricError('UNSUPPORTED_VERSION', `${what} version ${version}, expected ${PROTOCOL_VERSION}`)
}

/**
 * Checks which members of a oneof are set: exactly one is required. A decoded
 * message never holds two (protons keeps one), so more than one is a caller bug.
 * @throws MalformedError when none is set
 * @throws RangeError when more than one is set
 */
export function checkOneBody (what: string, msg: object, bodies: readonly string[]): void {
  let n = 0
  for (const key of bodies) if ((msg as Record<string, unknown>)[key] != null) n++
  if (n === 0) throw new MalformedError(`${what} has no body (one of ${bodies.join(', ')})`)
  if (n > 1) throw new RangeError(`${what} has ${n} bodies; a oneof holds one`)
}

/**
 * Checks a bytes field's length.
 * @throws TooLargeError when longer than max
 * @throws MalformedError when shorter than min
 */
export function checkBytes (what: string, value: Uint8Array, min: number, max: number): void {
  if (!(value instanceof Uint8Array)) throw new MalformedError(`${what} is not bytes`)
  if (value.byteLength > max) throw new TooLargeError(what, value.byteLength, max)
  if (value.byteLength < min) throw new MalformedError(`${what} is ${value.byteLength} bytes, needs at least ${min}`)
}

/**
 * Checks a repeated field's element count.
 * @throws MalformedError when it has more than max elements (as protons' limit does on decode)
 */
export function checkCount (what: string, values: readonly unknown[], max: number): void {
  if (values.length > max) throw new MalformedError(`${what} has ${values.length} elements, limit ${max}`)
}

/**
 * Checks an error body: code of 1..32 chars [A-Z][A-Z0-9_]*, message at most
 * MAX_ERROR_MESSAGE bytes of UTF-8. Unknown but well-formed codes pass.
 * @throws TooLargeError | MalformedError
 */
export function checkWireError (what: string, err: WireError): void {
  if (err.code.length > MAX_ERROR_CODE) throw new TooLargeError(`${what}.code`, utf8ByteLength(err.code), MAX_ERROR_CODE)
  if (!ERROR_CODE.test(err.code)) throw new MalformedError(`${what}.code must be [A-Z][A-Z0-9_]*`)
  const messageBytes = utf8ByteLength(err.message)
  if (messageBytes > MAX_ERROR_MESSAGE) throw new TooLargeError(`${what}.message`, messageBytes, MAX_ERROR_MESSAGE)
}

/**
 * Most UTF-16 units of an error text a sender should put in an error
 * message. A UTF-16 unit is at most 3 bytes of UTF-8, so 300 units stay under
 * the wire's 1 KiB MAX_ERROR_MESSAGE, which the encoder enforces: an over-long
 * text (say, from a library's exception) would otherwise make the reply
 * itself unsendable.
 */
export const MAX_ERROR_TEXT_UNITS = 300

/** `text` clipped to `maxUnits` UTF-16 units, the last one an ellipsis when clipped. */
export function clipErrorText (text: string, maxUnits = MAX_ERROR_TEXT_UNITS): string {
  return text.length <= maxUnits ? text : `${text.slice(0, maxUnits - 1)}\u2026`
}

export { checkU32, checkU64 } from './integers.js'
