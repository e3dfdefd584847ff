/**
 * Two DataChannelPorts joined in memory, for the data-channel codec's tests:
 * what one sends the other receives, in order, on a later microtask; either
 * side's close closes both. `split` cuts each binary message into pieces on
 * the way, as a transport may.
 */
import type { DataChannelHandlers, DataChannelPort } from '../../src/transport/webrtc/data-channel.js'

/** One end of the pair. */
export class MemoryPort implements DataChannelPort {
  readonly label: string
  readonly bufferedAmount = 0
  /** Messages sent, for inspection. */
  readonly sent: Array<Uint8Array | string> = []
  closed = false
  peer: MemoryPort | undefined
  private handlers: DataChannelHandlers | undefined
  private readonly early: Array<Uint8Array | string> = []
  private readonly split: (n: number) => number[]

  constructor (label: string, split: (n: number) => number[]) {
    this.label = label
    this.split = split
  }

  send (data: Uint8Array | string): void {
    if (this.closed) throw new Error('closed')
    this.sent.push(data)
    const copy = typeof data === 'string' ? data : Uint8Array.from(data)
    const peer = this.peer!
    queueMicrotask(() => {
      if (typeof copy === 'string') { peer.deliver(copy); return }
      let at = 0
      for (const n of this.split(copy.length)) { peer.deliver(copy.subarray(at, at + n)); at += n }
      if (at < copy.length) peer.deliver(copy.subarray(at))
    })
  }

  close (): void {
    this.shut()
    queueMicrotask(() => { this.peer!.shut() })
  }

  setLowThreshold (): void {}

  listen (h: DataChannelHandlers): void {
    this.handlers = h
    for (const m of this.early.splice(0)) h.message(m)
  }

  private deliver (m: Uint8Array | string): void {
    if (this.closed) return
    if (this.handlers !== undefined) this.handlers.message(m)
    else this.early.push(m)
  }

  private shut (): void {
    if (this.closed) return
    this.closed = true
    this.handlers?.close()
  }
}

/** Two joined ports. */
export function memoryPortPair (label = '/test/1', split: (n: number) => number[] = (n) => [n]): [MemoryPort, MemoryPort] {
  const a = new MemoryPort(label, split)
  const b = new MemoryPort(label, split)
  a.peer = b
  b.peer = a
  return [a, b]
}
