/**
 * The few browser APIs the member page uses (DOM, IndexedDB, getUserMedia,
 * WebCodecs, Chromium's MediaStreamTrackProcessor), typed here as plain
 * interfaces instead of through TypeScript's "dom" lib: the repository
 * type-checks as one Node program (tsconfig.json: lib ES2023, types node),
 * and a `/// <reference lib="dom" />` in one file would change the globals
 * every other file sees. Types only, plus `browser()`, which reads them off
 * globalThis; nothing here runs in Node.
 */

/** An element, as far as the page touches one. */
export interface El {
  textContent: string | null
  className: string
  hidden: boolean
  title: string
  readonly dataset: Record<string, string | undefined>
  append: (...nodes: Array<El | string>) => void
  replaceChildren: (...nodes: Array<El | string>) => void
  remove: () => void
  setAttribute: (name: string, value: string) => void
  addEventListener: (type: string, listener: (event: { preventDefault: () => void, key?: string }) => void) => void
}

export interface InputEl extends El { value: string, disabled: boolean }
export interface ButtonEl extends El { disabled: boolean }
export interface VideoEl extends El { srcObject: MediaStreamLike | null, muted: boolean, playsInline: boolean, play: () => Promise<void> }

export interface CanvasEl extends El {
  width: number
  height: number
  getContext: (kind: '2d', options?: { willReadFrequently?: boolean }) => Canvas2D | null
}

export interface Canvas2D {
  drawImage: (image: VideoFrameLike, dx: number, dy: number, dw?: number, dh?: number) => void
  /** RGBA, 4 bytes a pixel, rows top to bottom. */
  getImageData: (sx: number, sy: number, sw: number, sh: number) => { data: Uint8ClampedArray, width: number, height: number }
}

export interface Doc {
  getElementById: (id: string) => El | null
  createElement: (tag: string) => El
}

export interface MediaStreamTrackLike {
  readonly kind: string
  getSettings: () => { width?: number, height?: number, frameRate?: number }
  stop: () => void
}

export interface MediaStreamLike {
  getVideoTracks: () => MediaStreamTrackLike[]
  getTracks: () => MediaStreamTrackLike[]
}

/** A decoded or captured picture; `timestamp` in µs. Must be closed. */
export interface VideoFrameLike {
  readonly timestamp: number
  readonly displayWidth: number
  readonly displayHeight: number
  close: () => void
}

/** WebCodecs EncodedVideoChunk: `timestamp` in µs. */
export interface EncodedVideoChunkLike {
  readonly type: 'key' | 'delta'
  readonly timestamp: number
  readonly byteLength: number
  copyTo: (destination: Uint8Array) => void
}

export interface VideoEncoderConfigLike {
  codec: string
  width: number
  height: number
  /** bits per second */
  bitrate: number
  framerate: number
  latencyMode: 'realtime' | 'quality'
}

export interface VideoEncoderLike {
  readonly state: 'unconfigured' | 'configured' | 'closed'
  readonly encodeQueueSize: number
  configure: (config: VideoEncoderConfigLike) => void
  encode: (frame: VideoFrameLike, options?: { keyFrame?: boolean }) => void
  close: () => void
}

export interface VideoDecoderLike {
  readonly state: 'unconfigured' | 'configured' | 'closed'
  readonly decodeQueueSize: number
  configure: (config: { codec: string, optimizeForLatency?: boolean }) => void
  decode: (chunk: EncodedVideoChunkLike) => void
  close: () => void
}

/** A ReadableStream reader, as far as the capture loop reads one. */
export interface ReaderLike<T> {
  read: () => Promise<{ done: true, value?: undefined } | { done: false, value: T }>
  cancel: () => Promise<void>
}

export interface IdbRequest<T> {
  result: T
  error: Error | null
  onsuccess: (() => void) | null
  onerror: (() => void) | null
}

export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null
}

export interface IdbDatabase {
  readonly objectStoreNames: { contains: (name: string) => boolean }
  createObjectStore: (name: string) => unknown
  transaction: (store: string, mode: 'readonly' | 'readwrite') => {
    objectStore: (name: string) => {
      get: (key: string) => IdbRequest<unknown>
      put: (value: unknown, key: string) => IdbRequest<unknown>
    }
  }
  close: () => void
}

/** The globals of a Chromium page the member page reads. */
export interface Browser {
  document: Doc
  addEventListener: (type: 'pagehide', listener: () => void) => void
  location: { href: string, search: string }
  navigator: { mediaDevices?: { getUserMedia: (constraints: unknown) => Promise<MediaStreamLike> } }
  indexedDB?: { open: (name: string, version: number) => IdbOpenRequest }
  crypto: { subtle: { digest: (algorithm: string, data: Uint8Array) => Promise<ArrayBuffer> }, getRandomValues: (array: Uint8Array) => Uint8Array }
  VideoEncoder?: new (init: { output: (chunk: EncodedVideoChunkLike) => void, error: (err: Error) => void }) => VideoEncoderLike
  VideoDecoder?: new (init: { output: (frame: VideoFrameLike) => void, error: (err: Error) => void }) => VideoDecoderLike
  EncodedVideoChunk: new (init: { type: 'key' | 'delta', timestamp: number, data: Uint8Array }) => EncodedVideoChunkLike
  /** Chromium only: a track's frames as a ReadableStream. */
  MediaStreamTrackProcessor?: new (init: { track: MediaStreamTrackLike, maxBufferSize?: number }) => { readable: { getReader: () => ReaderLike<VideoFrameLike> } }
}

/** The page's globals, typed as above. Read in the browser only. */
export function browser (): Browser {
  return globalThis as unknown as Browser
}
