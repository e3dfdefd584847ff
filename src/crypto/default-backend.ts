/**
 * Which `CryptoBackend` a caller gets when it passes none. Entry points
 * choose: Node ones install the node:crypto backend (src/platform/node,
 * imported by src/polyfill.ts, which every Node entry point loads first),
 * the browser one (src/browser.ts) the portable one. Before anything is
 * installed it is the portable backend, which runs everywhere.
 */
import type { CryptoBackend } from './backend.js'
import { nobleBackend } from './backend-noble.js'

let current: CryptoBackend = nobleBackend

/** The backend used where none is passed explicitly. */
export function defaultCryptoBackend (): CryptoBackend {
  return current
}

/**
 * Makes `backend` the default for everything created from now on (objects
 * that already hold a backend keep theirs). Returns the previous default.
 */
export function setDefaultCryptoBackend (backend: CryptoBackend): CryptoBackend {
  const previous = current
  current = backend
  return previous
}
