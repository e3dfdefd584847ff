/**
 * IVF container, sans-IO. IVF has no formal spec; the layout below is the one
 * libvpx (ivfdec.c / ivfenc.c) and ffmpeg (libavformat/ivf*.c) agree on. All
 * integers are little-endian.
 *
 * File header, 32 bytes:
 *   0  "DKIF"          4  version u16 (0)   6  header length u16 (32)
 *   8  FourCC ("VP80") 12 width u16         14 height u16
 *   16 timebase denominator u32 (rate)      20 timebase numerator u32 (scale)
 *   24 frame count u32                      28 unused u32
 * Then per frame a 12-byte header (size u32, pts u64) followed by `size` bytes.
 */
import { MalformedError, TooLargeError } from '../errors.js'

/** Size of the IVF file header, bytes. */
export const IVF_HEADER_BYTES = 32
/** Size of each IVF frame header, bytes. */
export const IVF_FRAME_HEADER_BYTES = 12
/**
 * Largest frame payload we accept or write, bytes (4 MiB). A 4K VP8 keyframe
 * is far below this; the bound exists so a forged size field cannot make a
 * reader buffer gigabytes.
 */
export const IVF_MAX_FRAME_BYTES = 4 * 1024 * 1024

const SIGNATURE = 'DKIF'
const U64_MAX = (1n << 64n) - 1n

/**
 * The IVF file header (see module comment for offsets).
 * - `fourcc`: 4 ASCII chars, e.g. "VP80".
 * - `width`/`height`: pixels, u16.
 * - `timebaseDen`/`timebaseNum`: one pts tick lasts `timebaseNum / timebaseDen`
 *   seconds (ffmpeg writes 30/1 for a 30 fps clip, i.e. 1 tick = 1 frame).
 * - `frameCount`: as recorded in the file, u32; may disagree with the frames
 *   actually present (writers patch it at the end, streams never do).
 * - `unused`: the trailing u32, kept only so files round-trip byte-exactly.
 */
export interface IvfHeader {
  fourcc: string
  width: number
  height: number
  timebaseDen: number
  timebaseNum: number
  frameCount: number
  unused: number
}

/** One parsed frame: `pts` in timebase ticks (u64), `data` a view into the input. */
export interface IvfFrame {
  pts: bigint
  data: Uint8Array
}

/** A frame to write: `pts` in timebase ticks, a non-negative integer below 2^64. */
export interface IvfFrameInput {
  pts: bigint | number
  data: Uint8Array
}

/** Result of {@link parseIvf}: the header and every frame in file order. */
export interface IvfFile {
  header: IvfHeader
  frames: IvfFrame[]
}

/** Header fields a writer needs; `frameCount` and `unused` default to 0. */
export type IvfHeaderInit = Omit<IvfHeader, 'frameCount' | 'unused'> & Partial<Pick<IvfHeader, 'frameCount' | 'unused'>>

function view (bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Parses the 32-byte IVF file header at the start of `bytes` (extra bytes are
 * ignored, so a caller streaming a file can pass its first chunk).
 * @throws MalformedError when fewer than 32 bytes, the signature is not
 *   "DKIF", version is not 0, header length is not 32, or a timebase field is 0.
 */
export function parseIvfHeader (bytes: Uint8Array): IvfHeader {
  if (bytes.byteLength < IVF_HEADER_BYTES) {
    throw new MalformedError(`IVF header needs ${IVF_HEADER_BYTES} bytes, got ${bytes.byteLength}`)
  }
  const dv = view(bytes)
  const sig = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
  if (sig !== SIGNATURE) throw new MalformedError('IVF signature is not "DKIF"')
  const version = dv.getUint16(4, true)
  if (version !== 0) throw new MalformedError(`IVF version ${version}, only 0 is defined`)
  const headerLength = dv.getUint16(6, true)
  // Strict on purpose: files with a longer header are not produced by libvpx
  // or ffmpeg, and accepting them would break byte-exact round trips.
  if (headerLength !== IVF_HEADER_BYTES) throw new MalformedError(`IVF header length ${headerLength}, expected 32`)
  const header: IvfHeader = {
    fourcc: String.fromCharCode(bytes[8]!, bytes[9]!, bytes[10]!, bytes[11]!),
    width: dv.getUint16(12, true),
    height: dv.getUint16(14, true),
    timebaseDen: dv.getUint32(16, true),
    timebaseNum: dv.getUint32(20, true),
    frameCount: dv.getUint32(24, true),
    unused: dv.getUint32(28, true),
  }
  // A zero timebase field would make every frame-rate computation divide by 0.
  if (header.timebaseDen === 0 || header.timebaseNum === 0) throw new MalformedError('IVF timebase has a zero field')
  return header
}

/**
 * Parses one 12-byte frame header at `offset` of `bytes`.
 * @returns `size` (payload bytes, <= 4 MiB) and `pts` (ticks, u64).
 * @throws MalformedError when fewer than 12 bytes remain at `offset`.
 * @throws TooLargeError when the declared size exceeds {@link IVF_MAX_FRAME_BYTES};
 *   checked before anything else so a caller never waits for such a payload.
 */
export function parseIvfFrameHeader (bytes: Uint8Array, offset = 0): { size: number, pts: bigint } {
  if (offset < 0 || bytes.byteLength - offset < IVF_FRAME_HEADER_BYTES) {
    throw new MalformedError(`IVF frame header at byte ${offset} is truncated`)
  }
  const dv = view(bytes)
  const size = dv.getUint32(offset, true)
  if (size > IVF_MAX_FRAME_BYTES) throw new TooLargeError('IVF frame', size, IVF_MAX_FRAME_BYTES)
  return { size, pts: dv.getBigUint64(offset + 4, true) }
}

/**
 * Parses a whole IVF file held in memory. Frame `data` are subarray views of
 * `bytes` (no copies), so they stay valid only while `bytes` is unmodified.
 * The recorded `header.frameCount` is reported as-is, not checked against
 * `frames.length`: ffmpeg and libvpx disagree about what they store there.
 * @throws MalformedError on a bad header or a truncated frame header/payload.
 * @throws TooLargeError when a frame declares more than 4 MiB.
 */
export function parseIvf (bytes: Uint8Array): IvfFile {
  const header = parseIvfHeader(bytes)
  const frames: IvfFrame[] = []
  let offset = IVF_HEADER_BYTES
  while (offset < bytes.byteLength) {
    const { size, pts } = parseIvfFrameHeader(bytes, offset)
    const start = offset + IVF_FRAME_HEADER_BYTES
    if (bytes.byteLength - start < size) {
      throw new MalformedError(`IVF frame ${frames.length} declares ${size} bytes, ${bytes.byteLength - start} remain`)
    }
    frames.push({ pts, data: bytes.subarray(start, start + size) })
    offset = start + size
  }
  return { header, frames }
}

function checkUint (name: string, value: number, bits: 16 | 32): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new MalformedError(`IVF ${name} ${value} is not a u${bits}`)
  }
}

/**
 * Serialises an IVF file header to 32 bytes.
 * @throws MalformedError when `fourcc` is not 4 ASCII chars or a field does not
 *   fit its width (u16 for width/height, u32 otherwise).
 */
export function encodeIvfHeader (header: IvfHeader): Uint8Array {
  if (!/^[\x00-\x7f]{4}$/.test(header.fourcc)) throw new MalformedError(`IVF FourCC ${JSON.stringify(header.fourcc)} is not 4 ASCII chars`)
  checkUint('width', header.width, 16)
  checkUint('height', header.height, 16)
  checkUint('timebase denominator', header.timebaseDen, 32)
  checkUint('timebase numerator', header.timebaseNum, 32)
  checkUint('frame count', header.frameCount, 32)
  checkUint('unused field', header.unused, 32)
  const out = new Uint8Array(IVF_HEADER_BYTES)
  const dv = view(out)
  for (let i = 0; i < 4; i++) {
    out[i] = SIGNATURE.charCodeAt(i)
    out[8 + i] = header.fourcc.charCodeAt(i)
  }
  dv.setUint16(4, 0, true)
  dv.setUint16(6, IVF_HEADER_BYTES, true)
  dv.setUint16(12, header.width, true)
  dv.setUint16(14, header.height, true)
  dv.setUint32(16, header.timebaseDen, true)
  dv.setUint32(20, header.timebaseNum, true)
  dv.setUint32(24, header.frameCount, true)
  dv.setUint32(28, header.unused, true)
  return out
}

function toPts (pts: bigint | number): bigint {
  if (typeof pts === 'number' && !Number.isSafeInteger(pts)) throw new MalformedError(`IVF pts ${pts} is not a safe integer`)
  const big = BigInt(pts)
  if (big < 0n || big > U64_MAX) throw new MalformedError(`IVF pts ${big} is not a u64`)
  return big
}

/**
 * Serialises one frame: 12-byte frame header followed by a copy of `data`
 * (returns `12 + data.byteLength` bytes).
 * @throws TooLargeError when `data` exceeds 4 MiB.
 * @throws MalformedError when `pts` is negative, above 2^64-1, or a non-integer.
 */
export function encodeIvfFrame (frame: IvfFrameInput): Uint8Array {
  const size = frame.data.byteLength
  if (size > IVF_MAX_FRAME_BYTES) throw new TooLargeError('IVF frame', size, IVF_MAX_FRAME_BYTES)
  const pts = toPts(frame.pts)
  const out = new Uint8Array(IVF_FRAME_HEADER_BYTES + size)
  const dv = view(out)
  dv.setUint32(0, size, true)
  dv.setBigUint64(4, pts, true)
  out.set(frame.data, IVF_FRAME_HEADER_BYTES)
  return out
}

/**
 * Incremental IVF writer with no I/O: the caller stores the bytes it returns.
 * Usage: write `header()` first, then each `frame(f)` in order; when done,
 * overwrite the first 32 bytes with `finalize()`, whose frame count is the
 * number of frames actually written. A caller that cannot seek (a pipe) may
 * skip `finalize()`; readers here do not trust the count anyway.
 */
export class IvfWriter {
  private readonly init: IvfHeader
  private count = 0

  /**
   * @param header fields for the file header; `frameCount` (default 0) is what
   *   `header()` records before the real count is known.
   * @throws MalformedError when a header field is out of range (see {@link encodeIvfHeader}).
   */
  constructor (header: IvfHeaderInit) {
    this.init = { ...header, frameCount: header.frameCount ?? 0, unused: header.unused ?? 0 }
    encodeIvfHeader(this.init)
  }

  /** Frames written so far. */
  get framesWritten (): number { return this.count }

  /** The 32-byte file header as first written (provisional frame count). */
  header (): Uint8Array { return encodeIvfHeader(this.init) }

  /**
   * The bytes for one frame (12-byte header + payload copy).
   * @throws TooLargeError above 4 MiB; MalformedError for a bad pts;
   *   MalformedError once 2^32-1 frames were written (the count is a u32).
   */
  frame (frame: IvfFrameInput): Uint8Array {
    if (this.count >= 0xffffffff) throw new MalformedError('IVF frame count would overflow u32')
    const bytes = encodeIvfFrame(frame)
    this.count++
    return bytes
  }

  /** The 32-byte file header with `frameCount` = frames written; replaces bytes 0..31. */
  finalize (): Uint8Array { return encodeIvfHeader({ ...this.init, frameCount: this.count }) }
}

/**
 * Serialises a whole IVF file in memory; `frameCount` is set to `frames.length`.
 * @returns 32 + sum(12 + frame bytes) bytes.
 * @throws as {@link IvfWriter}.
 */
export function encodeIvf (header: IvfHeaderInit, frames: readonly IvfFrameInput[]): Uint8Array {
  const writer = new IvfWriter(header)
  const parts = frames.map(f => writer.frame(f))
  const total = parts.reduce((n, p) => n + p.byteLength, IVF_HEADER_BYTES)
  const out = new Uint8Array(total)
  out.set(writer.finalize(), 0)
  let offset = IVF_HEADER_BYTES
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}
