/**
 * MLS cipher suites (RFC 9420 section 17.1) as numbers on the wire and as
 * ts-mls implementations in memory.
 */
import { getCiphersuiteImpl, ciphersuites, type CiphersuiteImpl, type CiphersuiteName } from 'ts-mls'
import { getCiphersuiteFromId, type CiphersuiteId } from 'ts-mls/crypto/ciphersuite.js'
import { FabricError } from '../errors.js'
import { withNodeCrypto } from './node-suite.js'

/** MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, the default suite (protocol/mls.md section 1). */
export const DEFAULT_CIPHER_SUITE = 1

// A suite implementation holds no secrets and needs async set-up, so one per
// suite is built lazily and shared by every session.
const impls = new Map<number, Promise<CiphersuiteImpl>>()

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
 * The ts-mls implementation of suite `id`, built once and cached, with its
 * hash, KDF and signature on node:crypto where the suite allows
 * (node-suite.ts).
 * Some suites need optional packages (e.g. the X-Wing ones need
 * @hpke/hybridkem-x-wing); without them this fails.
 *
 * @throws FabricError UNSUPPORTED_SUITE when the suite is unknown, does not
 *         sign with Ed25519 (checkFabricSuite), or its optional dependencies
 *         are not installed
 */
export async function suiteImpl (id: number): Promise<CiphersuiteImpl> {
  checkFabricSuite(id)
  let p = impls.get(id)
  if (p === undefined) {
    p = getCiphersuiteImpl(getCiphersuiteFromId(id as CiphersuiteId)).then((impl) => withNodeCrypto(impl, id), (err: unknown) => {
      impls.delete(id)
      throw new FabricError('UNSUPPORTED_SUITE', `MLS cipher suite ${id} is not available: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    })
    impls.set(id, p)
  }
  return await p
}
