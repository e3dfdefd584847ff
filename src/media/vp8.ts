/**
 * VP8 frame inspection from the uncompressed data chunk, RFC 6386 §9.1.
 * Only the first 3 (interframe) or 10 (keyframe) bytes are read; nothing
 * here decodes pictures.
 */
import { MalformedError } from '../errors.js'

/** Bytes of the frame tag every VP8 frame starts with (RFC 6386 §9.1). */
export const VP8_FRAME_TAG_BYTES = 3
/** Bytes of frame tag + start code + dimensions on a keyframe (RFC 6386 §9.1). */
export const VP8_KEYFRAME_HEADER_BYTES = 10

/**
 * What the uncompressed data chunk of one VP8 frame says (RFC 6386 §9.1).
 * - `keyframe`: frame type bit is 0; the decoder can start here.
 * - `version`: 3-bit reconstruction/loop-filter profile, 0..7 (0..3 defined).
 * - `showFrame`: false for frames decoded but not displayed (alt-ref).
 * - `firstPartitionBytes`: size of the first partition, bytes.
 * - `width`/`height`: pixels (14 bits each), keyframes only.
 * - `horizontalScale`/`verticalScale`: 2-bit upscaling codes, keyframes only.
 */
export interface Vp8FrameInfo {
  keyframe: boolean
  version: number
  showFrame: boolean
  firstPartitionBytes: number
  width?: number
  height?: number
  horizontalScale?: number
  verticalScale?: number
}

/**
 * Parses the uncompressed data chunk of a VP8 frame (RFC 6386 §9.1).
 * @param frame one whole VP8 frame, as carried in one IVF frame.
 * @throws MalformedError when shorter than 3 bytes (10 for a keyframe), when a
 *   keyframe lacks the start code 9d 01 2a or declares a zero dimension, or
 *   when the first partition size runs past the end of `frame`.
 */
export function vp8FrameInfo (frame: Uint8Array): Vp8FrameInfo {
  if (frame.byteLength < VP8_FRAME_TAG_BYTES) {
    throw new MalformedError(`VP8 frame needs ${VP8_FRAME_TAG_BYTES} bytes, got ${frame.byteLength}`)
  }
  const tag = frame[0]! | (frame[1]! << 8) | (frame[2]! << 16)
  const keyframe = (tag & 1) === 0
  const info: Vp8FrameInfo = {
    keyframe,
    version: (tag >> 1) & 7,
    showFrame: ((tag >> 4) & 1) === 1,
    firstPartitionBytes: (tag >> 5) & 0x7ffff,
  }
  let headerBytes = VP8_FRAME_TAG_BYTES
  if (keyframe) {
    if (frame.byteLength < VP8_KEYFRAME_HEADER_BYTES) {
      throw new MalformedError(`VP8 keyframe needs ${VP8_KEYFRAME_HEADER_BYTES} bytes, got ${frame.byteLength}`)
    }
    if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) {
      throw new MalformedError('VP8 keyframe start code is not 9d 01 2a')
    }
    const h = frame[6]! | (frame[7]! << 8)
    const v = frame[8]! | (frame[9]! << 8)
    info.width = h & 0x3fff
    info.horizontalScale = h >> 14
    info.height = v & 0x3fff
    info.verticalScale = v >> 14
    if (info.width === 0 || info.height === 0) throw new MalformedError('VP8 keyframe declares a zero dimension')
    headerBytes = VP8_KEYFRAME_HEADER_BYTES
  }
  // Same check libvpx makes before decoding: the partition must be present.
  if (info.firstPartitionBytes > frame.byteLength - headerBytes) {
    throw new MalformedError(`VP8 first partition declares ${info.firstPartitionBytes} bytes, ${frame.byteLength - headerBytes} present`)
  }
  return info
}

/**
 * True when `frame` is a VP8 keyframe (RFC 6386 §9.1: frame type bit 0 of the
 * first byte is 0), after validating the keyframe header as {@link vp8FrameInfo}.
 * @throws MalformedError as {@link vp8FrameInfo}.
 */
export function isVp8Keyframe (frame: Uint8Array): boolean {
  return vp8FrameInfo(frame).keyframe
}
