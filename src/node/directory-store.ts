/**
 * The directory's KeyPackage store: per identity (a libp2p peer id string) a
 * FIFO queue of one-use KeyPackages and at most one last-resort KeyPackage.
 * Bytes only: parsing and the identity check belong to the directory service.
 *
 * Layout in the datastore (`<id>` is the identity itself: wire/identity.ts
 * restricts it to [A-Za-z0-9], so it never contains the '/' separator):
 *   /kp/<id>/meta       16 bytes: head and tail sequence numbers (u64 BE each);
 *                       the queue holds sequences head..tail-1
 *   /kp/<id>/q/<seq>    one queued KeyPackage, <seq> as 16 hex digits
 *   /kp/<id>/lr         the last-resort KeyPackage
 * Every change is one datastore batch, so a crash never leaves a queue entry
 * half consumed (LevelDB batches are atomic).
 */
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

/** Default bound of queued KeyPackages per identity (the last-resort one not counted). */
export const DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY = 256

/** One KeyPackage handed out by `fetch`. */
export interface FetchedKeyPackage {
  /** MLSMessage(mls_key_package) bytes exactly as published (a fresh copy). */
  keyPackage: Uint8Array<ArrayBuffer>
  /** True when it is the identity's last-resort KeyPackage (which stays stored). */
  lastResort: boolean
}

/** What the store holds for one identity. */
export interface KeyPackageCount {
  /** Queued one-use KeyPackages. */
  count: number
  /** Whether a last-resort KeyPackage is held. */
  hasLastResort: boolean
}

/** Options of a KeyPackageStore. */
export interface KeyPackageStoreOptions {
  /** Bound of queued KeyPackages per identity; default 256. */
  maxPerIdentity?: number
  /** Called once by `close()` after the last operation finished (closes the backend). */
  onClose?: () => Promise<void>
}

interface QueueMeta { head: bigint, tail: bigint }

/**
 * KeyPackage store over any interface-datastore `Datastore`. Operations on one
 * identity run one at a time (an in-process lock), so two concurrent fetches
 * never hand out the same KeyPackage; a store must therefore be the only
 * writer of its datastore.
 */
export class KeyPackageStore {
  readonly maxPerIdentity: number
  private readonly ds: Datastore
  private readonly onClose: (() => Promise<void>) | undefined
  private readonly locks = new KeyedLock()
  private closing: Promise<void> | undefined

  /**
   * @param datastore backing store, already open; the store owns its /kp namespace
   * @throws RangeError when maxPerIdentity is not a positive integer
   */
  constructor (datastore: Datastore, options: KeyPackageStoreOptions = {}) {
    const max = options.maxPerIdentity ?? DEFAULT_MAX_KEY_PACKAGES_PER_IDENTITY
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxPerIdentity ${max} must be a positive integer`)
    this.ds = datastore
    this.maxPerIdentity = max
    this.onClose = options.onClose
  }

  /**
   * Appends `keyPackages` to the identity's queue, in order, and when
   * `lastResort` is given makes it the identity's last-resort KeyPackage
   * (replacing any older one). All or nothing: a refused publish stores
   * nothing, not even a valid last-resort KeyPackage.
   *
   * @param identity     libp2p peer id string, 1..MAX_IDENTITY (128) of [A-Za-z0-9]
   * @param keyPackages  each 1..MAX_KEY_PACKAGE (64 KiB) bytes, stored as copies
   * @param lastResort   optional, same bound
   * @returns how many queued KeyPackages were added (keyPackages.length; the
   *          last-resort one is not counted)
   * @throws MalformedError on an empty KeyPackage or an identity outside [A-Za-z0-9]+
   * @throws TooLargeError when the identity or a KeyPackage is above its bound
   * @throws FabricError TOO_LARGE when the queue would exceed maxPerIdentity
   * @throws FabricError INVALID_STATE after close()
   */
  async publish (identity: string, keyPackages: readonly Uint8Array[], lastResort?: Uint8Array): Promise<number> {
    const base = identityKey(identity)
    for (const kp of keyPackages) checkKeyPackage(kp)
    if (lastResort !== undefined) checkKeyPackage(lastResort)
    return await this.locked(base, async () => {
      const meta = await this.readMeta(base)
      const held = Number(meta.tail - meta.head)
      if (held + keyPackages.length > this.maxPerIdentity) {
        throw new FabricError('TOO_LARGE',
          `identity holds ${held} KeyPackages; ${keyPackages.length} more would exceed the bound of ${this.maxPerIdentity}`)
      }
      const batch = this.ds.batch()
      let tail = meta.tail
      for (const kp of keyPackages) batch.put(queueKey(base, tail++), copy(kp))
      if (lastResort !== undefined) batch.put(lastResortKey(base), copy(lastResort))
      if (tail !== meta.tail) batch.put(metaKey(base), encodeMeta({ head: meta.head, tail }))
      await batch.commit()
      return keyPackages.length
    })
  }

  /**
   * Hands out one KeyPackage of `identity`: the oldest queued one, which is
   * removed, or when none is queued the last-resort one, which stays.
   *
   * @returns undefined when the identity has neither
   * @throws MalformedError / TooLargeError on an identity validateIdentity refuses
   * @throws FabricError INVALID_STATE after close()
   */
  async fetch (identity: string): Promise<FetchedKeyPackage | undefined> {
    const base = identityKey(identity)
    return await this.locked(base, async () => {
      const meta = await this.readMeta(base)
      if (meta.head < meta.tail) {
        const key = queueKey(base, meta.head)
        const keyPackage = await this.ds.get(key)
        const batch = this.ds.batch()
        batch.delete(key)
        const head = meta.head + 1n
        // An empty queue keeps no meta record, so identities that drained leave nothing behind.
        if (head === meta.tail) batch.delete(metaKey(base))
        else batch.put(metaKey(base), encodeMeta({ head, tail: meta.tail }))
        await batch.commit()
        return { keyPackage: copy(keyPackage), lastResort: false }
      }
      const last = await this.getOptional(lastResortKey(base))
      return last === undefined ? undefined : { keyPackage: copy(last), lastResort: true }
    })
  }

  /**
   * What is held for `identity`.
   *
   * @throws MalformedError / TooLargeError on an identity validateIdentity refuses
   * @throws FabricError INVALID_STATE after close()
   */
  async count (identity: string): Promise<KeyPackageCount> {
    const base = identityKey(identity)
    return await this.locked(base, async () => {
      const meta = await this.readMeta(base)
      return { count: Number(meta.tail - meta.head), hasLastResort: await this.ds.has(lastResortKey(base)) }
    })
  }

  /**
   * Waits for the operations already running, then closes the backend.
   * Later calls of any method throw FabricError INVALID_STATE; calling close
   * again returns the same promise.
   */
  async close (): Promise<void> {
    this.closing ??= (async () => {
      await this.locks.idle()
      await this.onClose?.()
    })()
    await this.closing
  }

  private async locked<T> (base: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new FabricError('INVALID_STATE', 'KeyPackage store is closed')
    return await this.locks.run(base, fn)
  }

  private async readMeta (base: string): Promise<QueueMeta> {
    const bytes = await this.getOptional(metaKey(base))
    if (bytes === undefined) return { head: 0n, tail: 0n }
    if (bytes.byteLength !== 16) throw new FabricError('INTERNAL', `corrupt KeyPackage queue record for ${base}`)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return { head: view.getBigUint64(0), tail: view.getBigUint64(8) }
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
 * `<dataDir>/keypackages`, or in memory when `dataDir` is undefined. Close it
 * with `store.close()`; reopening the same dataDir serves what was stored.
 *
 * @throws when the directory cannot be created or the database cannot be
 *         opened (e.g. another process holds its lock)
 */
export async function openKeyPackageStore (options: OpenKeyPackageStoreOptions = {}): Promise<KeyPackageStore> {
  const { dataDir, ...rest } = options
  if (dataDir === undefined) return new KeyPackageStore(new MemoryDatastore(), rest)
  const path = join(dataDir, KEY_PACKAGE_DB_DIR)
  await mkdir(path, { recursive: true })
  const level = new LevelDatastore(path)
  await level.open()
  return new KeyPackageStore(level, { ...rest, onClose: async () => { await level.close() } })
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

function identityKey (identity: string): string {
  validateIdentity(identity)
  return `/kp/${identity}`
}

function checkKeyPackage (kp: Uint8Array): void {
  if (kp.byteLength === 0) throw new MalformedError('KeyPackage is empty')
  if (kp.byteLength > MAX_KEY_PACKAGE) throw new TooLargeError('KeyPackage', kp.byteLength, MAX_KEY_PACKAGE)
}

/**
 * A plain Uint8Array copy. Not `slice()`: on a Node Buffer (what LevelDB
 * returns, and what callers may pass) that is a view, not a copy.
 */
function copy (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

function metaKey (base: string): Key { return new Key(`${base}/meta`) }
function lastResortKey (base: string): Key { return new Key(`${base}/lr`) }
function queueKey (base: string, seq: bigint): Key { return new Key(`${base}/q/${seq.toString(16).padStart(16, '0')}`) }

function encodeMeta (meta: QueueMeta): Uint8Array {
  const out = new Uint8Array(16)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, meta.head)
  view.setBigUint64(8, meta.tail)
  return out
}
