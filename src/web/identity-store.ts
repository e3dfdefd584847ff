/**
 * The page's member identity, kept in the browser's IndexedDB as its
 * 32-byte Ed25519 seed (database "fabric-member", store "identity", key
 * "seed"), so a person keeps one peer id across visits and an owner can
 * invite it by name. Secret: anyone with the seed is this member.
 */
import { identityFromSeed, type MemberIdentity } from '../browser.js'
import type { Browser, IdbDatabase, IdbRequest } from './dom.js'

const DB_NAME = 'fabric-member'
const STORE = 'identity'
const SEED_KEY = 'seed'
const SEED_LENGTH = 32

/**
 * The identity kept in this browser, made (and kept) on the first visit.
 * `kept` is false when IndexedDB is unavailable or failed (a private
 * window, storage refused): the identity is then fresh for this page load
 * only, and `reason` says why.
 */
export async function loadOrCreateIdentity (b: Browser): Promise<{ identity: MemberIdentity, kept: boolean, reason?: string }> {
  let db: IdbDatabase | undefined
  try {
    db = await openDb(b)
    const stored = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(SEED_KEY))
    if (stored instanceof Uint8Array && stored.length === SEED_LENGTH) return { identity: identityFromSeed(stored), kept: true }
    const seed = freshSeed(b)
    await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(seed, SEED_KEY))
    return { identity: identityFromSeed(seed), kept: true }
  } catch (err) {
    return { identity: identityFromSeed(freshSeed(b)), kept: false, reason: err instanceof Error ? err.message : String(err) }
  } finally {
    db?.close()
  }
}

function freshSeed (b: Browser): Uint8Array {
  return b.crypto.getRandomValues(new Uint8Array(SEED_LENGTH))
}

/** @throws Error when IndexedDB is missing or refuses to open */
function openDb (b: Browser): Promise<IdbDatabase> {
  const factory = b.indexedDB
  if (factory === undefined) return Promise.reject(new Error('IndexedDB is not available'))
  const open = factory.open(DB_NAME, 1)
  open.onupgradeneeded = () => {
    if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE)
  }
  return request(open)
}

function request<T> (req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => { resolve(req.result) }
    req.onerror = () => { reject(req.error ?? new Error('IndexedDB request failed')) }
  })
}
