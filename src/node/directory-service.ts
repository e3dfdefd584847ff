/**
 * The directory service of a node (protocol id /fabric/directory/1): the I/O
 * shell around a KeyPackageStore. Each stream carries one DirectoryRequest
 * frame in and one DirectoryResponse frame out, then closes. A publish is
 * accepted only when every KeyPackage in it names, as its credential
 * identity, the peer that noise authenticated on the connection (design.md
 * "MLS"), so no peer can plant KeyPackages for another.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { FabricError, isFabricError } from '../errors.js'
import { FramedStream } from '../dispatch/framed-stream.js'
import { inspectKeyPackage } from '../session/inspect.js'
import { MAX_CONTROL_FRAME } from '../wire/limits.js'
import { clipErrorText } from '../wire/message-codec.js'
import { DIRECTORY_PROTOCOL, decodeDirectoryRequest, encodeDirectoryResponse, type Unversioned } from '../wire/messages.js'
import type { DirectoryRequest, DirectoryResponse, PublishKeyPackages } from '../wire/pb/directory.js'
import type { KeyPackageStore } from './directory-store.js'

export { DIRECTORY_PROTOCOL }

/** Default time a peer has to send its request after opening a stream, ms. */
export const DIRECTORY_READ_TIMEOUT_MS = 10_000

/** Counters of the directory service, updated live (read them for metrics). */
export interface DirectoryCounters {
  /** Responses sent or attempted: served requests and refusals alike. */
  requests: number
  /** Queued (one-use) KeyPackages stored. */
  published: number
  /** Last-resort KeyPackages stored (each replacing an older one). */
  publishedLastResort: number
  /** Queued KeyPackages handed out (and so consumed). */
  fetched: number
  /** Times a last-resort KeyPackage was handed out. */
  fetchedLastResort: number
  /** Error responses sent, by error code (NO_KEY_PACKAGE included). */
  refused: Record<string, number>
  /** Streams that failed in transport (reset, closed early) with no response possible. */
  streamErrors: number
}

/** Options of registerDirectoryService. */
export interface DirectoryServiceOptions {
  /** Time a peer has to send its request frame, ms; default 10 000. */
  readTimeoutMs?: number
  /** Concurrent directory streams allowed per connection; default 32. */
  maxInboundStreams?: number
  /** Clock for KeyPackage lifetime checks, ms since the Unix epoch; default Date.now. */
  now?: () => number
  /**
   * Called with errors that are bugs or backend failures (answered to the
   * peer as INTERNAL without detail), so the node can log them.
   */
  onInternalError?: (err: unknown) => void
}

/** A registered directory service. */
export interface DirectoryService {
  /** Live counters. */
  readonly counters: DirectoryCounters
  /**
   * Stops accepting streams, resets those in progress, and resolves once no
   * handler uses the store any more (so the store can then be closed).
   */
  unregister: () => Promise<void>
}

/**
 * Registers the directory handler on `libp2p` for DIRECTORY_PROTOCOL. Every
 * refusal is an error response carrying the typed error's code (MALFORMED,
 * TOO_LARGE, IDENTITY_MISMATCH, NO_KEY_PACKAGE, UNSUPPORTED_VERSION,
 * UNSUPPORTED_SUITE, TIMEOUT; INTERNAL for anything unexpected); a handler
 * never throws, and a bad stream affects no other stream.
 *
 * @throws what libp2p.handle throws (e.g. the protocol is already handled)
 */
export async function registerDirectoryService (
  libp2p: Pick<Libp2p, 'handle' | 'unhandle'>,
  store: KeyPackageStore,
  options: DirectoryServiceOptions = {},
): Promise<DirectoryService> {
  const service = new DirectoryHandler(store, options)
  await libp2p.handle(DIRECTORY_PROTOCOL, (stream, connection) => { service.accept(stream, connection) }, {
    maxInboundStreams: options.maxInboundStreams ?? 32,
  })
  return {
    counters: service.counters,
    unregister: async () => {
      await libp2p.unhandle(DIRECTORY_PROTOCOL)
      await service.stop()
    },
  }
}

class DirectoryHandler {
  readonly counters: DirectoryCounters = {
    requests: 0, published: 0, publishedLastResort: 0, fetched: 0, fetchedLastResort: 0, refused: {}, streamErrors: 0,
  }

  private readonly store: KeyPackageStore
  private readonly readTimeoutMs: number
  private readonly now: () => number
  private readonly onInternalError: (err: unknown) => void
  private readonly active = new Map<Stream, Promise<void>>()

  constructor (store: KeyPackageStore, options: DirectoryServiceOptions) {
    this.store = store
    this.readTimeoutMs = options.readTimeoutMs ?? DIRECTORY_READ_TIMEOUT_MS
    this.now = options.now ?? Date.now
    this.onInternalError = options.onInternalError ?? (() => {})
  }

  accept (stream: Stream, connection: Connection): void {
    const done = this.serveStream(stream, connection.remotePeer.toString())
      .finally(() => { this.active.delete(stream) })
    this.active.set(stream, done)
  }

  async stop (): Promise<void> {
    for (const stream of this.active.keys()) stream.abort(new FabricError('INVALID_STATE', 'directory service stopping'))
    await Promise.all(this.active.values())
  }

  private async serveStream (stream: Stream, remotePeer: string): Promise<void> {
    const framed = new FramedStream(stream, MAX_CONTROL_FRAME)
    let response: Reply
    try {
      let request: DirectoryRequest
      try {
        request = decodeDirectoryRequest(await framed.next(this.readTimeoutMs))
      } catch (err) {
        if (!isFabricError(err)) throw err
        // The peer closed its side without a request: its fault, not a state of ours.
        if (err.code === 'INVALID_STATE') throw new FabricError('MALFORMED', 'stream ended before a request', { cause: err })
        throw err
      }
      response = await this.serve(request, remotePeer)
    } catch (err) {
      if (!isFabricError(err) && stream.status !== 'open') {
        this.counters.streamErrors++
        return
      }
      response = this.refusal(err)
    }
    this.counters.requests++
    try {
      await framed.send(encodeDirectoryResponse(response))
      await this.closeGracefully(framed)
    } catch {
      this.counters.streamErrors++
      framed.abort(new FabricError('INVALID_STATE', 'directory response could not be sent'))
    }
  }

  /** Answers a decoded request (decodeDirectoryRequest already checked version, sizes and counts). */
  private async serve (request: DirectoryRequest, remotePeer: string): Promise<Reply> {
    if (request.publish !== undefined) {
      const accepted = await this.publish(request.publish, remotePeer)
      return { ...emptyResponse(), accepted }
    }
    if (request.fetch !== undefined) {
      const found = await this.store.fetch(request.fetch.identity)
      if (found === undefined) throw new FabricError('NO_KEY_PACKAGE', `no KeyPackage for ${request.fetch.identity}`)
      if (found.lastResort) this.counters.fetchedLastResort++
      else this.counters.fetched++
      return { ...emptyResponse(), keyPackage: found.keyPackage, lastResort: found.lastResort }
    }
    if (request.count !== undefined) {
      const { count, hasLastResort } = await this.store.count(request.count.identity)
      return { ...emptyResponse(), count, hasLastResort }
    }
    throw new FabricError('MALFORMED', 'directory request has no body')
  }

  /** Checks every KeyPackage of the request before storing any of them. */
  private async publish (publish: PublishKeyPackages, remotePeer: string): Promise<number> {
    const { keyPackages } = publish
    const lastResort = publish.lastResort.byteLength > 0 ? publish.lastResort : undefined
    const all = lastResort === undefined ? keyPackages : [...keyPackages, lastResort]
    const nowMs = this.now()
    for (const [i, kp] of all.entries()) {
      const { identity } = await inspectKeyPackage(kp, nowMs)
      if (identity !== remotePeer) {
        const which = i < keyPackages.length ? `KeyPackage ${i}` : 'the last-resort KeyPackage'
        throw new FabricError('IDENTITY_MISMATCH', `${which} names ${identity}, but the connection is authenticated as ${remotePeer}`)
      }
    }
    const accepted = await this.store.publish(remotePeer, keyPackages, lastResort)
    this.counters.published += accepted
    if (lastResort !== undefined) this.counters.publishedLastResort++
    return accepted
  }

  private refusal (err: unknown): Reply {
    let code: string
    let message: string
    if (isFabricError(err) && err.code !== 'INTERNAL') {
      code = err.code
      message = err.message
    } else {
      // Internal details (paths, backend errors) are the operator's business, not the peer's.
      this.onInternalError(err)
      code = 'INTERNAL'
      message = 'internal error'
    }
    this.counters.refused[code] = (this.counters.refused[code] ?? 0) + 1
    return { ...emptyResponse(), error: { code, message: clipErrorText(message, MAX_ERROR_MESSAGE_CHARS) } }
  }

  /**
   * Half-closes, then waits for the peer to close its side; a peer that keeps
   * its side open past the read timeout is reset, so a stream slot is never
   * held forever.
   */
  private async closeGracefully (framed: FramedStream): Promise<void> {
    await framed.close()
    const stream = framed.stream
    if (stream.status !== 'open') return
    await new Promise<void>(resolve => {
      const onClose = (): void => { clearTimeout(timer); resolve() }
      const timer = setTimeout(() => {
        stream.removeEventListener('close', onClose)
        stream.abort(new FabricError('TIMEOUT', 'peer kept the directory stream open'))
        resolve()
      }, this.readTimeoutMs)
      stream.addEventListener('close', onClose, { once: true })
    })
  }
}

// Directory error texts are clipped shorter than the shared default.
const MAX_ERROR_MESSAGE_CHARS = 256

type Reply = Unversioned<DirectoryResponse>

function emptyResponse (): Reply {
  return { accepted: 0, keyPackage: new Uint8Array(0), lastResort: false, count: 0, hasLastResort: false }
}
