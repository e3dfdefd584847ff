/**
 * MLS suites on node:crypto: ts-mls's hash, HMAC, HKDF and Ed25519 replaced
 * by the node backend's synchronous ones (session/mls-crypto.ts says why
 * and what it saves). The Node choice; browsers keep ts-mls's default provider.
 */
import type { CiphersuiteImpl } from 'ts-mls'
import { REWIRED_MLS_SUITES, withBackendCrypto } from '../../session/mls-crypto.js'
import { nodeBackend } from './backend-node.js'

/** Suite ids whose hash is SHA-256 and whose signature is Ed25519. */
export const NODE_CRYPTO_SUITES: ReadonlySet<number> = REWIRED_MLS_SUITES

/**
 * `impl` with its hash, KDF and signature done by node:crypto when its suite
 * is one of NODE_CRYPTO_SUITES; any other suite is returned unchanged.
 * Signing keys in another encoding than a 32-byte Ed25519 seed fall back to
 * ts-mls's own signer.
 */
export function withNodeCrypto (impl: CiphersuiteImpl, suiteId: number): CiphersuiteImpl {
  return withBackendCrypto(impl, suiteId, nodeBackend)
}
