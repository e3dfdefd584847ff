/**
 * File-backed IVF reading and writing: the thin I/O shell around the
 * sans-IO codec in ivf.ts.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { IvfWriter, type IvfFile, type IvfFrameInput, type IvfHeaderInit, parseIvf } from './ivf.js'

/**
 * Reads and parses a whole IVF file (fixtures are < 1 MB, so no streaming).
 * @throws MalformedError / TooLargeError as {@link parseIvf}; fs errors (ENOENT…) as-is.
 */
export async function readIvfFile (path: string): Promise<IvfFile> {
  return parseIvf(new Uint8Array(await readFile(path)))
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
