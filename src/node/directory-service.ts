/**
 * The directory service of a node (protocol id /fabric/directory/1): the I/O
 * shell around a KeyPackageStore. Each stream carries one DirectoryRequest
 * frame in and one DirectoryResponse frame out, then closes. A publish is
 * accepted only when every KeyPackage in it names, as its credential
 * identity, the peer that noise authenticated on the connection
 * (protocol/mls.md section 3.2), so no peer can plant KeyPackages for another; and only within the
 * store's quotas, with no duplicate, and with small extensions, so no peer
 * can fill the node. A fetch is served only to a requester `authorizeFetch`
 * admits (by default the identity itself; the node admits the committer of
 * a stream the identity is waiting to join), so no third party can drain a
 * member's KeyPackages; a count only to the identity itself. Expired
 * KeyPackages are purged on a timer (protocol/control.md section 2).
 */
import { FabricError, isFabricError } from '../errors.js'
import type { ChannelListener, FrameChannel } from '../transport/channel.js'
import { inspectKeyPackage } from '../session/inspect.js'
import { MAX_DIRECTORY_FRAME } from '../wire/limits.js'
import { clipErrorText } from '../wire/message-codec.js'
import { DIRECTORY_PROTOCOL, decodeDirectoryRequest, encodeDirectoryResponse, type Unversioned } from '../wire/messages.js'
import type { DirectoryRequest, DirectoryResponse, PublishKeyPackages } from '../wire/pb/directory.js'
import { streamKey, type StreamKey } from '../wire/stream-tag.js'
import type { KeyPackageStore, KeyPackageToStore } from './directory-store.js'
import { short, silentLogger, type Logger } from './log.js'
import { OPEN_DEADLINE_MS } from './stream-deadlines.js'

export { DIRECTORY_PROTOCOL }

/** Default time a peer has to send its request after opening a stream, ms: the node's OPEN_DEADLINE_MS. */
export const DIRECTORY_READ_TIMEOUT_MS = OPEN_DEADLINE_MS

/**
 * Default bound of concurrent directory streams per connection: 8. Each
 * request is one short stream, so a member needs few at once; each open one
 * may hold up to MAX_DIRECTORY_FRAME of buffered request, so this bounds
 * what one connection can make the node hold (8 x 320 KiB). A peer that
 * opens more has the excess reset by libp2p.
 */
export const DEFAULT_DIRECTORY_MAX_INBOUND_STREAMS = 8

/**
 * Default bound of a KeyPackage's extension bytes (KeyPackageInfo
 * extensionBytes: extension_data of the KeyPackage's and its leaf node's
 * extensions), 1 KiB. fabric's own KeyPackages carry none but an empty
 * last_resort; the bound leaves room for a few small ones and refuses
 * KeyPackages inflated towards 64 KiB.
 */
export const DEFAULT_MAX_KEY_PACKAGE_EXTENSION_BYTES = 1024

/** Default period of the purge of expired KeyPackages, ms. */
export const DIRECTORY_PURGE_INTERVAL_MS = 60_000

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
  /**
   * Error responses sent, by error code (NO_KEY_PACKAGE included): quota
   * refusals are QUOTA_EXCEEDED, duplicates ALREADY_EXISTS, fetches and
   * counts the requester may not make NOT_ADMITTED.
   */
  refused: Record<string, number>
  /** Publishes refused because a KeyPackage was already held or given twice (also in refused.ALREADY_EXISTS). */
  duplicatesRefused: number
  /** Streams that failed in transport (reset, closed early) with no response possible. */
  streamErrors: number
  /** KeyPackage bytes the store holds now, queued and last-resort (live, from the store). */
  readonly storedBytes: number
  /** Identities the store holds at least one KeyPackage for now (live, from the store). */
  readonly identities: number
  /** Expired KeyPackages deleted since the store was opened, by the purge timer or on the way of a fetch or publish (live). */
  readonly expiredPurged: number
}

/** Options of registerDirectoryService. */
export interface DirectoryServiceOptions {
  /** Time a peer has to send its request frame, ms; default 10 000. */
  readTimeoutMs?: number
  /** Concurrent directory streams allowed per connection; default 8 (libp2p resets the excess). */
  maxInboundStreams?: number
  /**
   * Clock for KeyPackage lifetime checks and expiry, ms since the Unix
   * epoch; default Date.now. The service passes it to every store call, so
   * the store's own clock is not used.
   */
  now?: () => number
  /**
   * Bound of a published KeyPackage's extension bytes (KeyPackageInfo
   * extensionBytes); default 1024. Above it the publish is refused MALFORMED.
   */
  maxExtensionBytes?: number
  /**
   * Whether `requester` (the authenticated peer id of the connection) may
   * fetch, and so consume, a KeyPackage of `identity`; consulted once per
   * fetch request, before the store is touched. A no is answered
   * NOT_ADMITTED and consumes nothing; a throw is answered with its code
   * (INTERNAL for anything but a FabricError). Default: only the identity
   * itself. The node passes "the requester is the committer of a stream
   * `identity` is waiting to join" (protocol/control.md section 2).
   */
  authorizeFetch?: (requester: string, identity: string) => boolean | Promise<boolean>
  /**
   * The home of stream `key` (owner/name): the peer id of the node that
   * hosts its group service, or undefined when no node of the fabric is
   * known to (answered NOT_FOUND). Default: none is known.
   */
  locate?: (key: StreamKey) => Promise<string | undefined>
  /**
   * Period of the purge of expired KeyPackages, ms; default 60 000; 0 runs
   * none (call DirectoryService.purgeExpired yourself). The timer is unref'd,
   * so it never keeps the process alive.
   */
  purgeIntervalMs?: number
  /**
   * Called with errors that are bugs or backend failures (answered to the
   * peer as INTERNAL without detail), so the node can log them.
   */
  onInternalError?: (err: unknown) => void
  /**
   * Where the service logs (component "directory"): publishes, fetches and
   * refusals with their code, never a KeyPackage; default silent.
   */
  log?: Logger
}

/** A registered directory service. */
export interface DirectoryService {
  /** Live counters. */
  readonly counters: DirectoryCounters
  /**
   * Deletes every expired KeyPackage now, as the purge timer does (a run
   * already in progress is awaited instead of starting another).
   *
   * @returns how many KeyPackages were deleted; 0 after unregister
   * @throws nothing: store failures go to onInternalError and count as 0
   */
  purgeExpired: () => Promise<number>
  /**
   * Stops the purge timer and accepting streams, resets those in progress,
   * and resolves once no handler or purge uses the store any more (so the
   * store can then be closed).
   */
  unregister: () => Promise<void>
}

/**
 * Registers the directory handler on `libp2p` for DIRECTORY_PROTOCOL and
 * starts the purge timer. Every refusal is an error response carrying the
 * typed error's code (MALFORMED, TOO_LARGE, IDENTITY_MISMATCH,
 * ALREADY_EXISTS, QUOTA_EXCEEDED, NOT_ADMITTED, NO_KEY_PACKAGE,
 * UNSUPPORTED_VERSION, UNSUPPORTED_SUITE, TIMEOUT; INTERNAL for anything
 * unexpected); a handler never throws, and a bad stream affects no other
 * stream.
 *
 * @throws what the listener throws (e.g. the protocol is already served)
 * @throws RangeError when maxExtensionBytes or purgeIntervalMs is not a non-negative integer
 */
export async function registerDirectoryService (
  listener: ChannelListener,
  store: KeyPackageStore,
  options: DirectoryServiceOptions = {},
): Promise<DirectoryService> {
  const service = new DirectoryHandler(store, options)
  // Sized to the largest publish the quotas allow, not to MAX_CONTROL_FRAME (wire/limits.ts).
  await listener.listen(DIRECTORY_PROTOCOL, (channel) => { service.accept(channel) }, { maxFrameLength: MAX_DIRECTORY_FRAME }, {
    maxInboundChannels: options.maxInboundStreams ?? DEFAULT_DIRECTORY_MAX_INBOUND_STREAMS,
  })
  service.startPurging()
  return {
    counters: service.counters,
    purgeExpired: async () => await service.purge(),
    unregister: async () => {
      await listener.unlisten(DIRECTORY_PROTOCOL)
      await service.stop()
    },
  }
}

class DirectoryHandler {
  readonly counters: DirectoryCounters

  private readonly store: KeyPackageStore
  private readonly readTimeoutMs: number
  private readonly now: () => number
  private readonly maxExtensionBytes: number
  private readonly authorizeFetch: (requester: string, identity: string) => boolean | Promise<boolean>
  private readonly locate: (key: StreamKey) => Promise<string | undefined>
  private readonly onInternalError: (err: unknown) => void
  private readonly log: Logger
  private readonly purgeIntervalMs: number
  private readonly active = new Map<FrameChannel, Promise<void>>()
  private purgeTimer: NodeJS.Timeout | undefined
  private purging: Promise<number> | undefined
  private stopped = false

  constructor (store: KeyPackageStore, options: DirectoryServiceOptions) {
    this.store = store
    this.readTimeoutMs = options.readTimeoutMs ?? DIRECTORY_READ_TIMEOUT_MS
    this.now = options.now ?? Date.now
    this.maxExtensionBytes = nonNegativeInteger('maxExtensionBytes', options.maxExtensionBytes ?? DEFAULT_MAX_KEY_PACKAGE_EXTENSION_BYTES)
    this.authorizeFetch = options.authorizeFetch ?? ((requester, identity) => requester === identity)
    this.locate = options.locate ?? (async () => undefined)
    this.onInternalError = options.onInternalError ?? (() => {})
    this.log = options.log ?? silentLogger()
    this.purgeIntervalMs = nonNegativeInteger('purgeIntervalMs', options.purgeIntervalMs ?? DIRECTORY_PURGE_INTERVAL_MS)
    this.counters = {
      requests: 0,
      published: 0,
      publishedLastResort: 0,
      fetched: 0,
      fetchedLastResort: 0,
      refused: {},
      duplicatesRefused: 0,
      streamErrors: 0,
      get storedBytes () { return store.stats().bytes },
      get identities () { return store.stats().identities },
      get expiredPurged () { return store.stats().expiredPurged },
    }
  }

  startPurging (): void {
    if (this.purgeIntervalMs === 0) return
    this.purgeTimer = setInterval(() => { void this.purge() }, this.purgeIntervalMs)
    // Housekeeping only: it must not keep a process alive that has nothing else to do.
    this.purgeTimer.unref()
  }

  /** One purge run at a time; a call during a run shares it. */
  async purge (): Promise<number> {
    if (this.stopped) return 0
    this.purging ??= this.store.purgeExpired(this.now())
      .catch((err: unknown) => { this.onInternalError(err); return 0 })
      .finally(() => { this.purging = undefined })
    return await this.purging
  }

  accept (channel: FrameChannel): void {
    const done = this.serveStream(channel, channel.remotePeer)
      .finally(() => { this.active.delete(channel) })
    this.active.set(channel, done)
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearInterval(this.purgeTimer)
    for (const stream of this.active.keys()) stream.abort(new FabricError('INVALID_STATE', 'directory service stopping'))
    await Promise.all(this.active.values())
    await this.purging
  }

  private async serveStream (framed: FrameChannel, remotePeer: string): Promise<void> {
    let response: Reply
    try {
      let request: DirectoryRequest
      try {
        const frame = await framed.next(this.readTimeoutMs)
        // One request per stream: whatever the peer sends after it would only
        // be queued until the stream ends (268 MiB within 2 s, measured).
        framed.stopReading()
        request = decodeDirectoryRequest(frame)
      } catch (err) {
        if (!isFabricError(err)) throw err
        // The peer closed its side without a request: its fault, not a state of ours.
        if (err.code === 'INVALID_STATE') throw new FabricError('MALFORMED', 'stream ended before a request', { cause: err })
        throw err
      }
      response = await this.serve(request, remotePeer)
    } catch (err) {
      if (!isFabricError(err) && !framed.isOpen) {
        this.counters.streamErrors++
        return
      }
      response = this.refusal(err, remotePeer)
    }
    // A refused request too: nothing more is read on this stream.
    framed.stopReading()
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
      const { identity } = request.fetch
      // Before the store: a refused fetch must consume nothing, and must not tell whether anything is held.
      if (!(await this.authorizeFetch(remotePeer, identity))) {
        throw new FabricError('NOT_ADMITTED', `${remotePeer} may not fetch KeyPackages of ${identity}`)
      }
      const found = await this.store.fetch(identity, this.now())
      if (found === undefined) throw new FabricError('NO_KEY_PACKAGE', `no KeyPackage for ${identity}`)
      if (found.lastResort) this.counters.fetchedLastResort++
      else this.counters.fetched++
      this.log.info({ event: 'keypackage.fetched', peer: short(remotePeer), identity: short(identity), lastResort: found.lastResort }, 'KeyPackage handed out')
      return { ...emptyResponse(), keyPackage: found.keyPackage, lastResort: found.lastResort }
    }
    if (request.count !== undefined) {
      const { identity } = request.count
      // Only a member's own stock is its business: a count of another's would tell a drainer how far it got.
      if (identity !== remotePeer) throw new FabricError('NOT_ADMITTED', `${remotePeer} may count only its own KeyPackages`)
      const { count, hasLastResort } = await this.store.count(identity, this.now())
      return { ...emptyResponse(), count, hasLastResort }
    }
    if (request.locate !== undefined) {
      const key = streamKey(request.locate.owner, request.locate.stream)
      const home = await this.locate(key)
      if (home === undefined) throw new FabricError('NOT_FOUND', `no node of this fabric is the home of ${key}`)
      return { ...emptyResponse(), home }
    }
    throw new FabricError('MALFORMED', 'directory request has no body')
  }

  /**
   * Checks every KeyPackage of the request (signatures, lifetime, identity,
   * extension bytes) before storing any of them; the store then checks
   * duplicates and quotas, all or nothing.
   */
  private async publish (publish: PublishKeyPackages, remotePeer: string): Promise<number> {
    const lastResortBytes = publish.lastResort.byteLength > 0 ? publish.lastResort : undefined
    const all = lastResortBytes === undefined ? publish.keyPackages : [...publish.keyPackages, lastResortBytes]
    const nowMs = this.now()
    const checked: KeyPackageToStore[] = []
    for (const [i, kp] of all.entries()) {
      const which = i < publish.keyPackages.length ? `KeyPackage ${i}` : 'the last-resort KeyPackage'
      const { identity, notAfter, extensionBytes } = await inspectKeyPackage(kp, nowMs)
      if (identity !== remotePeer) {
        throw new FabricError('IDENTITY_MISMATCH', `${which} names ${identity}, but the connection is authenticated as ${remotePeer}`)
      }
      if (extensionBytes > this.maxExtensionBytes) {
        throw new FabricError('MALFORMED', `${which} carries ${extensionBytes} bytes of extensions, above the bound of ${this.maxExtensionBytes}`)
      }
      checked.push({ keyPackage: kp, notAfter })
    }
    const lastResort = lastResortBytes === undefined ? undefined : checked.pop()
    let accepted: number
    try {
      accepted = await this.store.publish(remotePeer, checked, lastResort, nowMs, { replace: publish.replace })
    } catch (err) {
      if (isFabricError(err, 'ALREADY_EXISTS')) this.counters.duplicatesRefused++
      throw err
    }
    this.counters.published += accepted
    if (lastResort !== undefined) this.counters.publishedLastResort++
    this.log.info({ event: 'keypackages.published', peer: short(remotePeer), accepted, lastResort: lastResort !== undefined, replace: publish.replace }, 'KeyPackages published')
    return accepted
  }

  private refusal (err: unknown, remotePeer: string): Reply {
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
    this.log.info({ event: 'refusal', peer: short(remotePeer), code, reason: clipErrorText(message, MAX_ERROR_MESSAGE_CHARS) }, 'directory request refused')
    return { ...emptyResponse(), error: { code, message: clipErrorText(message, MAX_ERROR_MESSAGE_CHARS) } }
  }

  /**
   * Half-closes, then waits for the peer to close its side; a peer that keeps
   * its side open past the read timeout is reset, so a stream slot is never
   * held forever.
   */
  private async closeGracefully (framed: FrameChannel): Promise<void> {
    await framed.close()
    if (!framed.isOpen) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => {
        framed.abort(new FabricError('TIMEOUT', 'peer kept the directory stream open'))
        resolve()
      }, this.readTimeoutMs)
      framed.onClose(() => { clearTimeout(timer); resolve() })
    })
  }
}

// Directory error texts are clipped shorter than the shared default.
const MAX_ERROR_MESSAGE_CHARS = 256

type Reply = Unversioned<DirectoryResponse>

function nonNegativeInteger (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} ${value} must be a non-negative integer`)
  return value
}

function emptyResponse (): Reply {
  return { accepted: 0, keyPackage: new Uint8Array(0), lastResort: false, count: 0, hasLastResort: false, home: '' }
}
