/** The node:crypto `CryptoBackend`: the one the node media path uses. */
import { createNodeAead } from './aead-node.js'
import { aeadCache, type CryptoBackend } from './backend.js'
import { hkdfExpand, hkdfExtract } from './hkdf.js'

/** AEAD and HKDF on node:crypto (OpenSSL). */
export const nodeBackend: CryptoBackend = Object.freeze({
  name: 'node',
  aead: aeadCache(createNodeAead),
  hkdfExtract,
  hkdfExpand
})
