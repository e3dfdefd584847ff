/**
 * File-backed IVF reading and writing: the thin I/O shell around the
 * sans-IO codec in ivf.ts.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { isFabricError } from '../errors.js'
import { IvfWriter, type IvfFile, type IvfFrameInput, type IvfHeaderInit, parseIvf } from './ivf.js'

/**
 * Reads and parses a whole IVF file (fixtures are < 1 MB, so no streaming).
 * @throws MalformedError / TooLargeError as {@link parseIvf}; fs errors (ENOENT…) as-is.
 */
export async function readIvfFile (path: string): Promise<IvfFile> {
  return parseIvf(new Uint8Array(await readFile(path)))
}

/** Why a file cannot be used as a VP8 clip. */
export type ClipFileProblem = 'missing' | 'unreadable' | 'not-ivf' | 'not-vp8' | 'damaged'

/**
 * A file that cannot be used as a VP8 clip. `message` is one line for a
 * person: what is wrong with the file and, where a conversion helps, the
 * ffmpeg command that makes a clip of it ({@link vp8ConvertCommand}).
 */
export class ClipFileError extends Error {
  constructor (readonly path: string, readonly problem: ClipFileProblem, message: string) {
    super(message)
    this.name = 'ClipFileError'
  }
}

/** `s` as one shell word (single-quoted unless it is plain). */
function shellWord (s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`
}

/**
 * The ffmpeg command that converts the media file at `path` into a VP8 IVF
 * clip: `out`, by default beside it (`clip.mp4` -> `clip.ivf`; an `.ivf`
 * input -> `NAME-vp8.ivf`); video only, 1 Mbit/s.
 */
export function vp8ConvertCommand (path: string, out?: string): string {
  const ext = extname(path)
  const stem = basename(path, ext)
  const target = out ?? join(dirname(path), ext.toLowerCase() === '.ivf' ? `${stem}-vp8.ivf` : `${stem}.ivf`)
  return `ffmpeg -i ${shellWord(path)} -c:v libvpx -b:v 1M -an ${shellWord(target)}`
}

/** What a file that is not IVF looks like, from its first bytes ('' when unknown). */
function sniff (bytes: Uint8Array): string {
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to))
  if (bytes.byteLength >= 8 && ascii(4, 8) === 'ftyp') return 'an MP4/MOV file'
  if (bytes.byteLength >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'a WebM/Matroska file'
  if (bytes.byteLength >= 4 && ascii(0, 4) === 'RIFF') return 'a RIFF (AVI/WAV) file'
  if (bytes.byteLength >= 4 && ascii(0, 4) === 'OggS') return 'an Ogg file'
  if (bytes.byteLength >= 4 && (ascii(0, 4) === 'GIF8' || ascii(1, 4) === 'PNG' || (bytes[0] === 0xff && bytes[1] === 0xd8))) return 'an image'
  return ''
}

/**
 * Reads a VP8 clip in IVF, as `fabric join --publish` plays it, and says in
 * one line what is wrong with any other file.
 * @throws ClipFileError: `missing` (no such file), `unreadable` (a directory,
 *   no permission, ...), `not-ivf` (another container, with the ffmpeg command
 *   that converts it), `not-vp8` (IVF of another codec, likewise), `damaged`
 *   (IVF that does not parse).
 */
export async function readVp8Clip (path: string): Promise<IvfFile> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(path))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new ClipFileError(path, 'missing', `${path}: no such file`)
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new ClipFileError(path, 'unreadable', `${path} cannot be read: ${why}`)
  }
  const convert = vp8ConvertCommand(path)
  const isIvf = bytes.byteLength >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === 'DKIF'
  if (!isIvf) {
    const kind = bytes.byteLength === 0 ? 'an empty file' : sniff(bytes)
    throw new ClipFileError(path, 'not-ivf', `${path} is not an IVF (VP8) clip${kind === '' ? '' : ` but ${kind}`}; convert it with: ${convert}`)
  }
  let file: IvfFile
  try {
    file = parseIvf(bytes)
  } catch (err) {
    if (!isFabricError(err)) throw err
    throw new ClipFileError(path, 'damaged', `${path} is a damaged IVF file (${err.message}); make it again from its source with: ${vp8ConvertCommand('SOURCE', path)}`)
  }
  if (file.header.fourcc !== 'VP80') {
    throw new ClipFileError(path, 'not-vp8', `${path} is an IVF clip of ${JSON.stringify(file.header.fourcc)}, not VP8 ("VP80"); convert it with: ${convert}`)
  }
  return file
}

/**
 * Writes an IVF file frame by frame. The header is written first with a
 * provisional frame count and rewritten in place by `close()`, so a crash
 * mid-write leaves a file that is still parseable up to the last whole frame.
 */
export class IvfFileWriter {
  private position: number

  private constructor (private readonly fh: FileHandle, private readonly writer: IvfWriter) {
    this.position = 0
  }

  /**
   * Creates (or truncates) `path` and writes the 32-byte header.
   * @throws MalformedError for an out-of-range header field; fs errors as-is.
   */
  static async open (path: string, header: IvfHeaderInit): Promise<IvfFileWriter> {
    const writer = new IvfWriter(header)
    const fh = await open(path, 'w')
    const self = new IvfFileWriter(fh, writer)
    try {
      await self.append(writer.header())
    } catch (err) {
      await fh.close()
      throw err
    }
    return self
  }

  /** Frames written so far. */
  get framesWritten (): number { return this.writer.framesWritten }

  /**
   * Appends one frame (12 + `data.byteLength` bytes).
   * @throws TooLargeError above 4 MiB; MalformedError for a bad pts; fs errors as-is.
   */
  async write (frame: IvfFrameInput): Promise<void> {
    await this.append(this.writer.frame(frame))
  }

  /** Rewrites the header with the real frame count, then closes the file. */
  async close (): Promise<void> {
    try {
      await this.writeAt(this.writer.finalize(), 0)
    } finally {
      await this.fh.close()
    }
  }

  private async append (bytes: Uint8Array): Promise<void> {
    await this.writeAt(bytes, this.position)
    this.position += bytes.byteLength
  }

  private async writeAt (bytes: Uint8Array, position: number): Promise<void> {
    // fs may write fewer bytes than asked; naming the offset each time resumes
    // a short write at the right place without relying on a shared cursor.
    let done = 0
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.byteLength - done, position + done)
      done += bytesWritten
    }
  }
}
