/**
 * The directory's KeyPackage store: per identity (a libp2p peer id string) a
 * FIFO queue of one-use KeyPackages and at most one last-resort KeyPackage,
 * each with its expiry (the KeyPackage's notAfter) and SHA-256 digest.
 * Bytes and bounds only: parsing and the identity check belong to the
 * directory service, which hands the store each KeyPackage's notAfter.
 *
 * Bounds (each an option, protocol/limits.md "Directory quotas"): a count
 * of queued KeyPackages per identity, stored bytes per identity (queued and
 * last-resort) and stored bytes in all. A publish that would cross any of
 * them is refused whole (QUOTA_EXCEEDED). A KeyPackage already held for the
 * identity, or given twice in one publish, is refused (ALREADY_EXISTS).
 * Expired KeyPackages are never handed out or counted; fetch and publish
 * delete an identity's expired ones, and purgeExpired deletes everyone's.
 *
 * Layout in the datastore (`<id>` is the identity itself: wire/identity.ts
 * restricts it to [A-Za-z0-9], so it never contains the '/' separator):
 *   /dir/meta/<id>       the identity's record (encodeMeta): next queue
 *                        sequence number, and per stored KeyPackage its
 *                        sequence, notAfter, byte length and SHA-256
 *   /dir/kp/<id>/q/<seq> one queued KeyPackage's bytes, <seq> as 16 hex digits
 *   /dir/kp/<id>/lr      the last-resort KeyPackage's bytes
 * The records live apart from the KeyPackages so that opening a store reads
 * only them (a few dozen bytes per KeyPackage) to rebuild the byte totals.
 * Every change is one datastore batch (LevelDB batches are atomic), so a
 * crash never leaves a queue entry half consumed or the byte accounting
 * apart from what is stored. Data in the layout before byte accounting
 * (/kp/...) is deleted at open: it records no expiry, so it cannot be
 * bounded; members publish afresh.
 */
import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { Key, type Datastore } from 'interface-datastore'
import { FabricError, MalformedError, TooLargeError } from '../errors.js'
import { validateIdentity } from '../wire/identity.js'
import { MAX_KEY_PACKAGE } from '../wire/limits.js'

/** Subdirectory of a data directory that holds the LevelDB database. */
export const KEY_PACKAGE_DB_DIR = 'keypackages'

/**
 * Default bound of queued KeyPackages per identity (the last-resort one not
 * counted): 64, one full publish (MAX_KEY_PACKAGES_PER_PUBLISH). Only a
 * committer the identity asked to join may consume one (the fetch rule,
 * protocol/control.md 2), so a member needs one per join in flight, not a
 * stock against draining; and the identity's record, rewritten on every
 * fetch, stays under 4 KiB.
 */
export const DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY = 64

/** Highest maxPerIdentity a store accepts (bounds the identity record at ~210 KiB). */
export const MAX_KEY_PACKAGES_PER_IDENTITY_CEILING = 4096

/**
 * Default bound of stored KeyPackage bytes per identity, last-resort
 * included: 256 KiB. 64 ordinary KeyPackages (~400 bytes each) use a tenth
 * of it; post-quantum ones of a few KiB still fit by dozens.
 */
export const DEFAULT_MAX_BYTES_PER_IDENTITY = 256 * 1024

/**
 * Default bound of stored KeyPackage bytes in all: 64 MiB, 256 times the
 * per-identity quota, so one identity (or a handful) can never fill it.
 */
export const DEFAULT_MAX_TOTAL_BYTES = 64 * 1024 * 1024

/** A KeyPackage to store, with its expiry. */
export interface KeyPackageToStore {
  /** MLSMessage(mls_key_package) bytes, 1..MAX_KEY_PACKAGE (64 KiB); stored as a copy. */
  keyPackage: Uint8Array
  /**
   * The KeyPackage's lifetime.not_after (RFC 9420 section 7.2), seconds since
   * the Unix epoch, inclusive: it is handed out up to and including that second.
   */
  notAfter: bigint
}

/** One KeyPackage handed out by `fetch`. */
export interface FetchedKeyPackage {
  /** MLSMessage(mls_key_package) bytes exactly as published (a fresh copy). */
  keyPackage: Uint8Array<ArrayBuffer>
  /** True when it is the identity's last-resort KeyPackage (which stays stored). */
  lastResort: boolean
}

/** What the store holds for one identity, expired KeyPackages not counted. */
export interface KeyPackageCount {
  /** Queued one-use KeyPackages. */
  count: number
  /** Whether a last-resort KeyPackage is held. */
  hasLastResort: boolean
}

/** Totals of a store (expired KeyPackages not yet purged included). */
export interface KeyPackageStoreStats {
  /** KeyPackage bytes stored, queued and last-resort, all identities. */
  bytes: number
  /** Identities holding at least one KeyPackage. */
  identities: number
  /** KeyPackages stored, queued and last-resort. */
  keyPackages: number
  /** Expired KeyPackages deleted since this store was opened (by fetch, publish or purgeExpired). */
  expiredPurged: number
}

/** Options of a KeyPackageStore. */
export interface KeyPackageStoreOptions {
  /** Bound of queued KeyPackages per identity; default 64, at most 4096. */
  maxPerIdentity?: number
  /** Bound of stored KeyPackage bytes per identity, last-resort included; default 256 KiB. */
  maxBytesPerIdentity?: number
  /** Bound of stored KeyPackage bytes in all; default 64 MiB. */
  maxTotalBytes?: number
  /** Clock for expiry when a method is given no time, ms since the Unix epoch; default Date.now. */
  now?: () => number
  /** Called once by `close()` after the last operation finished (closes the backend). */
  onClose?: () => Promise<void>
}

/** A stored KeyPackage as the identity's record describes it. */
interface Entry {
  /** Queue sequence number (0 for the last-resort one, which has none). */
  seq: bigint
  /** Seconds since the Unix epoch, inclusive. */
  notAfter: bigint
  /** Byte length of the KeyPackage. */
  size: number
  /** SHA-256 of the KeyPackage, hex. */
  digest: string
}

/** The record of one identity: what it holds, oldest queued first. */
interface Meta {
  nextSeq: bigint
  queue: Entry[]
  lastResort: Entry | undefined
}

/** What the store keeps in memory per identity (rebuilt from the records at open). */
interface Held {
  bytes: number
  keyPackages: number
  /** The soonest notAfter of its KeyPackages: purgeExpired visits it once that has passed. */
  expiresAt: bigint
}

/**
 * KeyPackage store over any interface-datastore `Datastore`. Operations on one
 * identity run one at a time (an in-process lock), so two concurrent fetches
 * never hand out the same KeyPackage; a store must therefore be the only
 * writer of its datastore. The global byte total is held in memory, rebuilt
 * from the identity records when the store is opened, and reserved before
 * each publish's batch commits, so concurrent publishes of different
 * identities cannot together cross it.
 */
export class KeyPackageStore {
  readonly maxPerIdentity: number
  readonly maxBytesPerIdentity: number
  readonly maxTotalBytes: number
  private readonly ds: Datastore
  private readonly now: () => number
  private readonly onClose: (() => Promise<void>) | undefined
  private readonly locks = new KeyedLock()
  private readonly held = new Map<string, Held>()
  private totalBytes = 0
  private totalKeyPackages = 0
  private expiredPurged = 0
  private loading: Promise<void> | undefined
  private closing: Promise<void> | undefined

  /**
   * The store reads its records on first use (or on `open()`); until then
   * `stats()` reports zeros.
   *
   * @param datastore backing store, already open; the store owns its /dir namespace (and deletes /kp)
   * @throws RangeError when a bound is not a positive integer (maxPerIdentity at most 4096)
   */
  constructor (datastore: Datastore, options: KeyPackageStoreOptions = {}) {
    this.maxPerIdentity = positiveInteger('maxPerIdentity', options.maxPerIdentity ?? DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY)
    if (this.maxPerIdentity > MAX_KEY_PACKAGES_PER_IDENTITY_CEILING) {
      throw new RangeError(`maxPerIdentity ${this.maxPerIdentity} is above ${MAX_KEY_PACKAGES_PER_IDENTITY_CEILING}`)
    }
    this.maxBytesPerIdentity = positiveInteger('maxBytesPerIdentity', options.maxBytesPerIdentity ?? DEFAULT_MAX_BYTES_PER_IDENTITY)
    this.maxTotalBytes = positiveInteger('maxTotalBytes', options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES)
    this.ds = datastore
    this.now = options.now ?? Date.now
    this.onClose = options.onClose
  }

  /**
   * Reads the identity records (deleting data of the older layout first) and
   * sets the byte totals from them. Every other method calls it; call it
   * yourself to learn of a corrupt store at once. Idempotent.
   *
   * @throws FabricError INTERNAL on a corrupt record; backend errors as thrown
   */
  async open (): Promise<void> {
    this.loading ??= this.load()
    await this.loading
  }

  /**
   * Appends `keyPackages` to the identity's queue, in order, and when
   * `lastResort` is given makes it the identity's last-resort KeyPackage
   * (replacing any older one; giving the one already held changes nothing).
   * The identity's expired KeyPackages are deleted first, so they count
   * against no bound. All or nothing: a refused publish stores nothing, not
   * even a valid last-resort KeyPackage. The checks, in order: sizes and
   * expiry (MALFORMED, TOO_LARGE), duplicates (ALREADY_EXISTS), then the
   * identity's count and byte quotas before the global one (QUOTA_EXCEEDED),
   * so an identity over its own quota is told so and takes nothing from
   * the others' room.
   *
   * @param identity     libp2p peer id string, 1..MAX_IDENTITY (128) of [A-Za-z0-9]
   * @param keyPackages  each 1..MAX_KEY_PACKAGE (64 KiB) bytes, stored as copies
   * @param lastResort   optional, same bound
   * @param nowMs        the time expiry is judged at, ms since the Unix epoch; default the store's clock
   * @param options.replace drop every KeyPackage held for the identity (queued and
   *                     last-resort) in the same batch, before the checks
   * @returns how many queued KeyPackages were added (keyPackages.length; the
   *          last-resort one is not counted)
   * @throws MalformedError on an empty or expired KeyPackage, a notAfter outside
   *         u64, or an identity outside [A-Za-z0-9]+
   * @throws TooLargeError when the identity or a KeyPackage is above its bound
   * @throws FabricError ALREADY_EXISTS when a KeyPackage (same SHA-256) is
   *         already held for the identity, queued or last-resort, or appears
   *         twice in this publish
   * @throws FabricError QUOTA_EXCEEDED when the identity's queue would exceed
   *         maxPerIdentity, its bytes maxBytesPerIdentity, or all bytes maxTotalBytes
   * @throws FabricError INVALID_STATE after close()
   */
  async publish (
    identity: string,
    keyPackages: readonly KeyPackageToStore[],
    lastResort?: KeyPackageToStore,
    nowMs: number = this.now(),
    options: { replace?: boolean } = {},
  ): Promise<number> {
    const id = identityOf(identity)
    const now = secondsOf(nowMs)
    const all = lastResort === undefined ? keyPackages : [...keyPackages, lastResort]
    for (const kp of all) checkKeyPackage(kp, now)
    const digests = all.map(kp => sha256Hex(kp.keyPackage))
    if (new Set(digests).size !== digests.length) {
      throw new FabricError('ALREADY_EXISTS', 'the publish carries the same KeyPackage twice')
    }
    return await this.locked(id, async () => {
      const meta = await this.readMeta(id)
      const changes = new Changes()
      const expiredOut = this.dropExpired(id, meta, now, changes)
      const purged = expiredOut.purged
      let kept = expiredOut.kept
      if (options.replace === true) {
        // An earlier process of this member held the private halves of these: they are dead stock.
        for (const e of kept.queue) changes.delete(queueKey(id, e.seq))
        if (kept.lastResort !== undefined) changes.delete(lastResortKey(id))
        kept = { nextSeq: kept.nextSeq, queue: [], lastResort: undefined }
      }

      const queued = new Set(kept.queue.map(e => e.digest))
      for (const [i, kp] of keyPackages.entries()) {
        if (queued.has(digests[i]!) || kept.lastResort?.digest === digests[i]) {
          throw new FabricError('ALREADY_EXISTS', `KeyPackage ${i} is already held for ${identity}`)
        }
      }
      const lastDigest = lastResort === undefined ? undefined : digests[keyPackages.length]!
      if (lastDigest !== undefined && queued.has(lastDigest)) {
        throw new FabricError('ALREADY_EXISTS', `the last-resort KeyPackage is already queued for ${identity}`)
      }
      if (kept.queue.length + keyPackages.length > this.maxPerIdentity) {
        throw new FabricError('QUOTA_EXCEEDED',
          `identity holds ${kept.queue.length} KeyPackages; ${keyPackages.length} more would exceed the bound of ${this.maxPerIdentity}`)
      }

      const next: Meta = { nextSeq: kept.nextSeq, queue: [...kept.queue], lastResort: kept.lastResort }
      for (const [i, kp] of keyPackages.entries()) {
        const seq = next.nextSeq++
        next.queue.push({ seq, notAfter: kp.notAfter, size: kp.keyPackage.byteLength, digest: digests[i]! })
        changes.put(queueKey(id, seq), copy(kp.keyPackage))
      }
      // Re-publishing the held last-resort KeyPackage is a no-op, not a second copy of it.
      if (lastResort !== undefined && kept.lastResort?.digest !== lastDigest) {
        next.lastResort = { seq: 0n, notAfter: lastResort.notAfter, size: lastResort.keyPackage.byteLength, digest: lastDigest! }
        changes.put(lastResortKey(id), copy(lastResort.keyPackage))
      }
      const bytes = bytesOf(next)
      if (bytes > this.maxBytesPerIdentity) {
        throw new FabricError('QUOTA_EXCEEDED',
          `identity would hold ${bytes} bytes of KeyPackages, above its quota of ${this.maxBytesPerIdentity}`)
      }
      await this.apply(id, meta, next, changes, purged, true)
      return keyPackages.length
    })
  }

  /**
   * Hands out one unexpired KeyPackage of `identity`: the oldest queued one,
   * which is removed, or when none is queued the last-resort one, which
   * stays. Expired KeyPackages of the identity met on the way (queued or
   * last-resort) are deleted in the same batch.
   *
   * @param nowMs the time expiry is judged at, ms since the Unix epoch; default the store's clock
   * @returns undefined when the identity has neither
   * @throws MalformedError / TooLargeError on an identity validateIdentity refuses
   * @throws FabricError INVALID_STATE after close(); INTERNAL on a corrupt store
   */
  async fetch (identity: string, nowMs: number = this.now()): Promise<FetchedKeyPackage | undefined> {
    const id = identityOf(identity)
    const now = secondsOf(nowMs)
    return await this.locked(id, async () => {
      const meta = await this.readMeta(id)
      const changes = new Changes()
      const { kept, purged } = this.dropExpired(id, meta, now, changes)
      let found: FetchedKeyPackage | undefined
      let next = kept
      const first = kept.queue[0]
      if (first !== undefined) {
        const key = queueKey(id, first.seq)
        found = { keyPackage: copy(await this.getStored(key)), lastResort: false }
        changes.delete(key)
        next = { ...kept, queue: kept.queue.slice(1) }
      } else if (kept.lastResort !== undefined) {
        found = { keyPackage: copy(await this.getStored(lastResortKey(id))), lastResort: true }
      }
      if (changes.size > 0) await this.apply(id, meta, next, changes, purged, false)
      return found
    })
  }

  /**
   * What is held for `identity`, expired KeyPackages not counted (they are
   * left for fetch, publish or purgeExpired to delete: a count writes nothing).
   *
   * @param nowMs the time expiry is judged at, ms since the Unix epoch; default the store's clock
   * @throws MalformedError / TooLargeError on an identity validateIdentity refuses
   * @throws FabricError INVALID_STATE after close()
   */
  async count (identity: string, nowMs: number = this.now()): Promise<KeyPackageCount> {
    const id = identityOf(identity)
    const now = secondsOf(nowMs)
    return await this.locked(id, async () => {
      const meta = await this.readMeta(id)
      return {
        count: meta.queue.filter(e => !expired(e, now)).length,
        hasLastResort: meta.lastResort !== undefined && !expired(meta.lastResort, now),
      }
    })
  }

  /**
   * Deletes every expired KeyPackage (queued and last-resort) of every
   * identity. Visits only identities whose soonest expiry has passed, so a
   * run costs nothing when nothing expired. Stops early, without error,
   * once close() was called.
   *
   * @param nowMs the time expiry is judged at, ms since the Unix epoch; default the store's clock
   * @returns how many KeyPackages it deleted
   * @throws backend errors (the identities before the failing one stay purged)
   */
  async purgeExpired (nowMs: number = this.now()): Promise<number> {
    if (this.closing !== undefined) return 0
    await this.open()
    const now = secondsOf(nowMs)
    const due = [...this.held].filter(([, h]) => h.expiresAt < now).map(([id]) => id)
    let purged = 0
    for (const id of due) {
      if (this.closing !== undefined) break
      purged += await this.locked(id, async () => {
        const meta = await this.readMeta(id)
        const changes = new Changes()
        const dropped = this.dropExpired(id, meta, now, changes)
        if (dropped.purged > 0) await this.apply(id, meta, dropped.kept, changes, dropped.purged, false)
        return dropped.purged
      })
    }
    return purged
  }

  /** Current totals (a fresh object). */
  stats (): KeyPackageStoreStats {
    return { bytes: this.totalBytes, identities: this.held.size, keyPackages: this.totalKeyPackages, expiredPurged: this.expiredPurged }
  }

  /** The backing datastore, which other services of the node share under their own namespaces (the group service's /group). */
  get datastore (): Datastore {
    return this.ds
  }

  /**
   * Waits for the operations already running, then closes the backend.
   * Later calls of any method throw FabricError INVALID_STATE; calling close
   * again returns the same promise.
   */
  async close (): Promise<void> {
    this.closing ??= (async () => {
      await this.loading?.catch(() => {})
      await this.locks.idle()
      await this.onClose?.()
    })()
    await this.closing
  }

  private async locked<T> (id: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new FabricError('INVALID_STATE', 'KeyPackage store is closed')
    await this.open()
    return await this.locks.run(id, fn)
  }

  /**
   * Removes the expired entries from `meta` and records their deletion in
   * `changes`.
   */
  private dropExpired (id: string, meta: Meta, now: bigint, changes: Changes): { kept: Meta, purged: number } {
    let purged = 0
    const queue = meta.queue.filter(e => {
      if (!expired(e, now)) return true
      changes.delete(queueKey(id, e.seq))
      purged++
      return false
    })
    let lastResort = meta.lastResort
    if (lastResort !== undefined && expired(lastResort, now)) {
      changes.delete(lastResortKey(id))
      lastResort = undefined
      purged++
    }
    return { kept: { nextSeq: meta.nextSeq, queue, lastResort }, purged }
  }

  /**
   * Commits `changes` plus the identity's new record as one batch, then
   * updates the in-memory totals. With `checkTotal`, first refuses a growth
   * past maxTotalBytes; the growth is reserved before the commit (and given
   * back if it fails) so that concurrent publishes of other identities,
   * which do not share this identity's lock, see it.
   */
  private async apply (id: string, before: Meta, after: Meta, changes: Changes, purged: number, checkTotal: boolean): Promise<void> {
    const delta = bytesOf(after) - bytesOf(before)
    if (checkTotal && delta > 0 && this.totalBytes + delta > this.maxTotalBytes) {
      throw new FabricError('QUOTA_EXCEEDED',
        `the directory holds ${this.totalBytes} bytes of KeyPackages; ${delta} more would exceed its quota of ${this.maxTotalBytes}`)
    }
    const empty = after.queue.length === 0 && after.lastResort === undefined
    // An identity that holds nothing keeps no record, so identities that drained leave nothing behind.
    if (empty) changes.delete(metaKey(id))
    else changes.put(metaKey(id), encodeMeta(after))
    const reserved = Math.max(delta, 0)
    this.totalBytes += reserved
    try {
      await changes.commit(this.ds)
    } catch (err) {
      this.totalBytes -= reserved
      throw err
    }
    this.totalBytes += delta - reserved
    this.totalKeyPackages += countOf(after) - countOf(before)
    this.expiredPurged += purged
    if (empty) this.held.delete(id)
    else this.held.set(id, heldOf(after))
  }

  private async load (): Promise<void> {
    await this.deleteLegacy()
    for await (const { key, value } of this.ds.query({ prefix: META_PREFIX })) {
      const id = key.toString().slice(META_PREFIX.length)
      const meta = decodeMeta(id, value)
      const held = heldOf(meta)
      this.held.set(id, held)
      this.totalBytes += held.bytes
      this.totalKeyPackages += held.keyPackages
    }
  }

  /** Deletes the /kp namespace of the layout before byte accounting, in bounded batches. */
  private async deleteLegacy (): Promise<void> {
    for (;;) {
      const keys: Key[] = []
      for await (const key of this.ds.queryKeys({ prefix: LEGACY_PREFIX, limit: 1024 })) keys.push(key)
      if (keys.length === 0) return
      const batch = this.ds.batch()
      for (const key of keys) batch.delete(key)
      await batch.commit()
    }
  }

  private async readMeta (id: string): Promise<Meta> {
    const bytes = await this.getOptional(metaKey(id))
    return bytes === undefined ? { nextSeq: 0n, queue: [], lastResort: undefined } : decodeMeta(id, bytes)
  }

  /** A KeyPackage the identity's record lists; missing means the store is corrupt. */
  private async getStored (key: Key): Promise<Uint8Array> {
    const bytes = await this.getOptional(key)
    if (bytes === undefined) throw new FabricError('INTERNAL', `KeyPackage ${key.toString()} is listed but not stored`)
    return bytes
  }

  /** One read: datastore-core and datastore-level both throw NotFoundError for a missing key. */
  private async getOptional (key: Key): Promise<Uint8Array | undefined> {
    try {
      return await this.ds.get(key)
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined
      throw err
    }
  }
}

/** Options of openKeyPackageStore. */
export interface OpenKeyPackageStoreOptions extends Omit<KeyPackageStoreOptions, 'onClose'> {
  /**
   * Data directory (e.g. the node's, shared with other components): the
   * LevelDB database lives in its KEY_PACKAGE_DB_DIR subdirectory, created
   * when missing. Undefined = ephemeral: an in-memory store lost on close.
   */
  dataDir?: string
}

/**
 * Opens a KeyPackage store: persistent in LevelDB under
 * `<dataDir>/keypackages`, or in memory when `dataDir` is undefined, with
 * its records read (`store.open()`). Close it with `store.close()`;
 * reopening the same dataDir serves what was stored, with the same byte
 * accounting.
 *
 * @throws RangeError on a bad bound (see KeyPackageStore)
 * @throws when the directory cannot be created, the database cannot be
 *         opened (e.g. another process holds its lock) or a record is
 *         corrupt (FabricError INTERNAL); the database is closed again then
 */
export async function openKeyPackageStore (options: OpenKeyPackageStoreOptions = {}): Promise<KeyPackageStore> {
  const { dataDir, ...rest } = options
  if (dataDir === undefined) {
    const store = new KeyPackageStore(new MemoryDatastore(), rest)
    await store.open()
    return store
  }
  const path = join(dataDir, KEY_PACKAGE_DB_DIR)
  await mkdir(path, { recursive: true })
  const level = new LevelDatastore(path)
  await level.open()
  try {
    const store = new KeyPackageStore(level, { ...rest, onClose: async () => { await level.close() } })
    await store.open()
    return store
  } catch (err) {
    await level.close()
    throw err
  }
}

/**
 * Serialises async work per key: a task starts after every earlier task of
 * the same key settled. Tasks of different keys run concurrently.
 */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>()

  async run<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const done = new Promise<void>(resolve => { release = resolve })
    const tail = previous.then(async () => { await done })
    this.tails.set(key, tail)
    await previous
    try {
      return await fn()
    } finally {
      release()
      // Only the last queued task may drop the entry, or a waiter would lose its place.
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }

  async idle (): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values())
  }
}

/**
 * The writes of one operation, applied as one batch. A later write of a key
 * replaces an earlier one: backends apply a batch's puts before its deletes
 * (datastore-core), so a key both deleted and put must reach the batch once.
 */
class Changes {
  private readonly ops = new Map<string, { key: Key, value: Uint8Array | undefined }>()

  get size (): number { return this.ops.size }
  put (key: Key, value: Uint8Array): void { this.ops.set(key.toString(), { key, value }) }
  delete (key: Key): void { this.ops.set(key.toString(), { key, value: undefined }) }

  async commit (ds: Datastore): Promise<void> {
    const batch = ds.batch()
    for (const { key, value } of this.ops.values()) {
      if (value === undefined) batch.delete(key)
      else batch.put(key, value)
    }
    await batch.commit()
  }
}

const META_PREFIX = '/dir/meta/'
const LEGACY_PREFIX = '/kp/'
const U64_MAX = (1n << 64n) - 1n

function identityOf (identity: string): string {
  validateIdentity(identity)
  return identity
}

function positiveInteger (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} ${value} must be a positive integer`)
  return value
}

/** Whole seconds since the Unix epoch, as KeyPackage lifetimes count them. */
function secondsOf (nowMs: number): bigint {
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new RangeError(`time ${nowMs} ms is not a time`)
  return BigInt(Math.floor(nowMs / 1000))
}

/** notAfter is inclusive (RFC 9420 section 7.2: valid while not_before <= now <= not_after). */
function expired (entry: Entry, now: bigint): boolean {
  return entry.notAfter < now
}

function checkKeyPackage (kp: KeyPackageToStore, now: bigint): void {
  const { keyPackage, notAfter } = kp
  if (keyPackage.byteLength === 0) throw new MalformedError('KeyPackage is empty')
  if (keyPackage.byteLength > MAX_KEY_PACKAGE) throw new TooLargeError('KeyPackage', keyPackage.byteLength, MAX_KEY_PACKAGE)
  if (typeof notAfter !== 'bigint' || notAfter < 0n || notAfter > U64_MAX) throw new MalformedError(`KeyPackage notAfter ${String(notAfter)} is not a u64`)
  if (notAfter < now) throw new MalformedError(`KeyPackage expired at ${notAfter}, before now (${now})`)
}

function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function bytesOf (meta: Meta): number {
  return meta.queue.reduce((n, e) => n + e.size, meta.lastResort?.size ?? 0)
}

function countOf (meta: Meta): number {
  return meta.queue.length + (meta.lastResort === undefined ? 0 : 1)
}

function heldOf (meta: Meta): Held {
  let expiresAt = meta.lastResort?.notAfter ?? U64_MAX
  for (const e of meta.queue) if (e.notAfter < expiresAt) expiresAt = e.notAfter
  return { bytes: bytesOf(meta), keyPackages: countOf(meta), expiresAt }
}

/**
 * A plain Uint8Array copy. Not `slice()`: on a Node Buffer (what LevelDB
 * returns, and what callers may pass) that is a view, not a copy.
 */
function copy (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

function metaKey (id: string): Key { return new Key(`${META_PREFIX}${id}`) }
function lastResortKey (id: string): Key { return new Key(`/dir/kp/${id}/lr`) }
function queueKey (id: string, seq: bigint): Key { return new Key(`/dir/kp/${id}/q/${seq.toString(16).padStart(16, '0')}`) }

// The identity record: format (u8, 1), nextSeq (u64), hasLastResort (u8,
// 0 or 1), queued count (u16), then the last-resort entry if any and the
// queued entries oldest first. An entry is seq (u64; 0 for the last-resort
// one), notAfter (u64), size (u32), SHA-256 (32 bytes). Big-endian.
const META_FORMAT = 1
const META_HEADER = 1 + 8 + 1 + 2
const ENTRY_LENGTH = 8 + 8 + 4 + 32

function encodeMeta (meta: Meta): Uint8Array {
  const entries = meta.lastResort === undefined ? meta.queue : [meta.lastResort, ...meta.queue]
  const out = new Uint8Array(META_HEADER + entries.length * ENTRY_LENGTH)
  const view = new DataView(out.buffer)
  view.setUint8(0, META_FORMAT)
  view.setBigUint64(1, meta.nextSeq)
  view.setUint8(9, meta.lastResort === undefined ? 0 : 1)
  view.setUint16(10, meta.queue.length)
  let o = META_HEADER
  for (const e of entries) {
    view.setBigUint64(o, e.seq)
    view.setBigUint64(o + 8, e.notAfter)
    view.setUint32(o + 16, e.size)
    out.set(Buffer.from(e.digest, 'hex'), o + 20)
    o += ENTRY_LENGTH
  }
  return out
}

/** @throws FabricError INTERNAL when the record is not one encodeMeta wrote */
function decodeMeta (id: string, bytes: Uint8Array): Meta {
  const corrupt = (why: string): FabricError => new FabricError('INTERNAL', `corrupt KeyPackage record for ${id}: ${why}`)
  if (bytes.byteLength < META_HEADER) throw corrupt('truncated')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint8(0) !== META_FORMAT) throw corrupt(`format ${view.getUint8(0)}`)
  const nextSeq = view.getBigUint64(1)
  const flag = view.getUint8(9)
  if (flag > 1) throw corrupt('bad last-resort flag')
  const queued = view.getUint16(10)
  const count = queued + flag
  if (bytes.byteLength !== META_HEADER + count * ENTRY_LENGTH) throw corrupt('wrong length')
  if (count === 0) throw corrupt('no KeyPackage')
  const entries: Entry[] = []
  for (let i = 0, o = META_HEADER; i < count; i++, o += ENTRY_LENGTH) {
    const size = view.getUint32(o + 16)
    if (size < 1 || size > MAX_KEY_PACKAGE) throw corrupt(`KeyPackage size ${size}`)
    entries.push({
      seq: view.getBigUint64(o),
      notAfter: view.getBigUint64(o + 8),
      size,
      digest: Buffer.from(bytes.buffer, bytes.byteOffset + o + 20, 32).toString('hex'),
    })
  }
  const lastResort = flag === 1 ? entries.shift() : undefined
  let previous = -1n
  for (const e of entries) {
    if (e.seq <= previous || e.seq >= nextSeq) throw corrupt('queue out of order')
    previous = e.seq
  }
  return { nextSeq, queue: entries, lastResort }
}
