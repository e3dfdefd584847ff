/**
 * Optional capture of every media frame a node receives and sends, for audits
 * that prove the node only ever handles ciphertext (the end-to-end tests
 * search these bytes for plaintext video frames and key material). Off by
 * default; appends records to one file: direction byte ('i' or 'o'), u32 BE
 * length, frame bytes.
 */
import { closeSync, openSync, writeSync } from 'node:fs'

export class TrafficTap {
  private fd: number | undefined
  /** Bytes written so far. */
  bytes = 0

  /** @param path file to create (truncated) */
  constructor (path: string) {
    this.fd = openSync(path, 'w')
  }

  /** Appends one frame; synchronous so records never interleave. */
  record (direction: 'in' | 'out', frame: Uint8Array): void {
    if (this.fd === undefined) return
    const head = Buffer.alloc(5)
    head[0] = direction === 'in' ? 0x69 : 0x6f
    head.writeUInt32BE(frame.byteLength, 1)
    writeSync(this.fd, head)
    writeSync(this.fd, frame)
    this.bytes += 5 + frame.byteLength
  }

  /** Closes the file; later records are ignored. */
  close (): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}
