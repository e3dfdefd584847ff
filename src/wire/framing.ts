/**
 * Length-prefixed framing for every fabric libp2p stream (protocol/framing.md):
 * each frame is an unsigned LEB128 varint byte length (at most 4 bytes,
 * minimal encoding) followed by that many bytes. Sans-IO: the decoder takes
 * whatever chunks the transport hands over and returns whole frames.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { MalformedError, TooLargeError } from '../errors.js'

/** Largest length a 4-byte varint can carry; no fabric frame bound exceeds it. */
export const MAX_VARINT_LENGTH = 2 ** 28 - 1

/** Bytes needed to encode `n` (0 <= n <= MAX_VARINT_LENGTH) as a varint. */
export function varintLength (n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4
}

/**
 * Writes `n` as a varint into `out` at `offset`; returns the offset after it.
 * @throws RangeError when n is negative, not an integer or above MAX_VARINT_LENGTH.
 */
export function writeVarint (n: number, out: Uint8Array, offset: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_VARINT_LENGTH) throw new RangeError(`varint out of range: ${n}`)
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  out[offset++] = n
  return offset
}

/**
 * A frame ready for the wire in pieces written back to back: `head` starts
 * with the frame's varint length prefix, `body` and `tail` follow (either may
 * be empty). A gather write sends the pieces as they are, never joined.
 */
export interface WireFrame {
  readonly head: Uint8Array
  readonly body: Uint8Array
  readonly tail: Uint8Array
  /** head + body + tail: the bytes this frame puts on the stream. */
  readonly byteLength: number
}

/** The varint prefix for a frame of `length` bytes (a fresh 1-4 byte array). */
export function framePrefix (length: number): Uint8Array {
  const out = new Uint8Array(varintLength(length))
  writeVarint(length, out, 0)
  return out
}

/**
 * Encodes one frame as prefix || payload in a single new buffer. For large
 * payloads on the media path prefer `framePrefix` and a Uint8ArrayList, which
 * avoids copying the payload.
 */
export function encodeFrame (payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(payload.byteLength) + payload.byteLength)
  out.set(payload, writeVarint(payload.byteLength, out, 0))
  return out
}

/**
 * Incremental frame decoder. `push` accepts transport chunks of any size and
 * returns the frames they complete, in order. A declared length above
 * `maxFrameLength` throws TooLargeError before any of that frame is
 * buffered; a varint longer than 4 bytes or not minimally encoded throws
 * MalformedError. After a throw the decoder is poisoned (the stream has lost
 * sync) and every later push throws the same error.
 */
export class FrameDecoder {
  private maxLength: number
  private readonly buffer = new Uint8ArrayList()
  private pending = -1
  private failure: Error | undefined

  /** @param maxFrameLength largest accepted frame payload in bytes. */
  constructor (maxFrameLength: number) {
    this.maxLength = checkBound(maxFrameLength)
  }

  /** Largest accepted frame payload in bytes. */
  get maxFrameLength (): number { return this.maxLength }

  /**
   * Changes the bound for frames whose length prefix has not been read yet
   * (a service widens or narrows it as a peer's role changes). A frame
   * already announced keeps the bound it was checked against.
   * @throws RangeError above the varint range or below 0
   */
  set maxFrameLength (n: number) {
    this.maxLength = checkBound(n)
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes (): number { return this.buffer.byteLength }

  /** Declared length of the frame whose prefix has been read and whose payload has not all arrived; 0 otherwise. */
  get announcedBytes (): number { return this.pending >= 0 ? this.pending : 0 }

  /** True while part of a frame (its prefix or payload) has arrived but not all of it. */
  get midFrame (): boolean { return this.pending >= 0 || this.buffer.byteLength > 0 }

  /**
   * Adds transport bytes; returns the whole frames now available. Returned
   * frames are views into the pushed chunks when a frame lies inside one chunk
   * (no copy), otherwise fresh arrays.
   * @throws TooLargeError | MalformedError (see class docs)
   */
  push (chunk: Uint8Array | Uint8ArrayList): Uint8Array[] {
    if (this.failure !== undefined) throw this.failure
    this.buffer.append(chunk)
    const frames: Uint8Array[] = []
    try {
      for (;;) {
        if (this.pending < 0) {
          const header = this.readPrefix()
          if (header === undefined) break
          this.pending = header
        }
        if (this.buffer.byteLength < this.pending) break
        frames.push(this.buffer.subarray(0, this.pending))
        this.buffer.consume(this.pending)
        this.pending = -1
      }
    } catch (err) {
      this.failure = err as Error
      this.buffer.consume(this.buffer.byteLength)
      throw err
    }
    return frames
  }

  /** Reads and consumes a varint prefix, or returns undefined when incomplete. */
  private readPrefix (): number | undefined {
    let value = 0
    const available = Math.min(this.buffer.byteLength, 4)
    for (let i = 0; i < available; i++) {
      const byte = this.buffer.get(i)
      value += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        // A zero final byte after the first means a padded, non-minimal varint.
        if (i > 0 && byte === 0) throw new MalformedError('frame length varint is not minimally encoded')
        if (value > this.maxLength) throw new TooLargeError('frame', value, this.maxLength)
        this.buffer.consume(i + 1)
        return value
      }
    }
    if (this.buffer.byteLength >= 4) throw new MalformedError('frame length varint longer than 4 bytes')
    return undefined
  }
}

function checkBound (n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_VARINT_LENGTH) throw new RangeError(`frame bound ${n} outside 0..${MAX_VARINT_LENGTH}`)
  return n
}
