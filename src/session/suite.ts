/**
 * MLS cipher suites (RFC 9420 section 17.1) as numbers on the wire and as
 * ts-mls implementations in memory.
 */
import { getCiphersuiteImpl, ciphersuites, type CiphersuiteImpl, type CiphersuiteName } from 'ts-mls'
import { getCiphersuiteFromId, type CiphersuiteId } from 'ts-mls/crypto/ciphersuite.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultCryptoBackend } from '../crypto/default-backend.js'
import { FabricError } from '../errors.js'
import { withBackendCrypto } from './mls-crypto.js'

/** MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, the default suite (protocol/mls.md section 1). */
export const DEFAULT_CIPHER_SUITE = 1

// A suite implementation holds no secrets and needs async set-up, so one per
// suite and backend is built lazily and shared by every session.
const impls = new WeakMap<CryptoBackend, Map<number, Promise<CiphersuiteImpl>>>()

/**
 * The ts-mls name of a suite id.
 *
 * @throws FabricError UNSUPPORTED_SUITE when ts-mls does not know the id
 */
export function suiteName (id: number): CiphersuiteName {
  for (const [name, value] of Object.entries(ciphersuites)) {
    if (value === id) return name as CiphersuiteName
  }
  throw new FabricError('UNSUPPORTED_SUITE', `MLS cipher suite ${id} is unknown to ts-mls`)
}

/**
 * Refuses a suite whose signature scheme is not Ed25519: a member's MLS
 * signature key is its libp2p Ed25519 identity key (identity.ts), which is
 * what lets any member check a leaf against the peer id it names.
 *
 * @throws FabricError UNSUPPORTED_SUITE for an unknown or non-Ed25519 suite
 */
export function checkFabricSuite (id: number): void {
  const name = suiteName(id)
  const signature = getCiphersuiteFromId(id as CiphersuiteId)?.signature
  if (signature !== 'Ed25519') {
    throw new FabricError('UNSUPPORTED_SUITE', `MLS cipher suite ${id} (${name}) signs with ${String(signature)}; fabric identities are Ed25519 keys`)
  }
}

/**
 * The ts-mls implementation of suite `id`, built once per backend and
 * cached: ts-mls's default provider, with its hash, KDF and signature on
 * `backend` (default: the process default, crypto/default-backend.ts) when
 * the backend asks for it (node:crypto does, session/mls-crypto.ts) and the
 * suite allows.
 * Some suites need optional packages (e.g. the X-Wing ones need
 * @hpke/hybridkem-x-wing); without them this fails.
 *
 * @throws FabricError UNSUPPORTED_SUITE when the suite is unknown, does not
 *         sign with Ed25519 (checkFabricSuite), or its optional dependencies
 *         are not installed
 */
export async function suiteImpl (id: number, backend: CryptoBackend = defaultCryptoBackend()): Promise<CiphersuiteImpl> {
  checkFabricSuite(id)
  let perBackend = impls.get(backend)
  if (perBackend === undefined) {
    perBackend = new Map()
    impls.set(backend, perBackend)
  }
  const cache = perBackend
  let p = cache.get(id)
  if (p === undefined) {
    p = getCiphersuiteImpl(getCiphersuiteFromId(id as CiphersuiteId)).then((impl) => backend.replacesMlsCrypto ? withBackendCrypto(impl, id, backend) : impl, (err: unknown) => {
      cache.delete(id)
      throw new FabricError('UNSUPPORTED_SUITE', `MLS cipher suite ${id} is not available: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    })
    cache.set(id, p)
  }
  return await p
}
