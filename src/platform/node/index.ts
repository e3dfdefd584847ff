/**
 * The Node platform: the node:crypto `CryptoBackend` and the MLS suite wiring
 * that runs on it. Importing this module makes `nodeBackend` the process's
 * default backend (crypto/default-backend.ts); src/polyfill.ts, which every
 * Node entry point and the test setup load first, imports it, so Node
 * processes keep the media path on OpenSSL. Browsers import src/browser.ts
 * instead and never reach this file.
 */
import { setDefaultCryptoBackend } from '../../crypto/default-backend.js'
import { nodeBackend } from './backend-node.js'

setDefaultCryptoBackend(nodeBackend)

export { nodeBackend } from './backend-node.js'
export { createNodeAead } from './aead-node.js'
export { withNodeCrypto, NODE_CRYPTO_SUITES } from './node-suite.js'
