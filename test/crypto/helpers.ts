/** Shared test helpers for the crypto tests: hex codecs and the RFC 9605 vector file. */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nobleBackend } from '../../src/crypto/backend-noble.js'
import { nodeBackend } from '../../src/platform/node/backend-node.js'
import type { CryptoBackend } from '../../src/crypto/backend.js'

/** The project root (this file is test/crypto/helpers.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Both backends, for parameterised tests. */
export const backends: readonly CryptoBackend[] = [nodeBackend, nobleBackend]

export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** What `fn` throws, or undefined when it returns. */
export function errorOf (fn: () => unknown): unknown {
  try { fn() } catch (err) { return err }
  return undefined
}

export function fromHex (text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'))
}

export interface HeaderVector { kid: bigint, ctr: bigint, encoded: string }
export interface AeadVector { cipher_suite: number, key: string, enc_key: string, auth_key: string, nonce: string, aad: string, pt: string, ct: string }
export interface SFrameVector {
  cipher_suite: number
  kid: bigint
  ctr: bigint
  base_key: string
  sframe_key_label: string
  sframe_salt_label: string
  sframe_secret: string
  sframe_key: string
  sframe_salt: string
  metadata: string
  nonce: string
  aad: string
  pt: string
  ct: string
}
export interface VectorFile { header: HeaderVector[], aes_ctr_hmac: AeadVector[], aes_256_ctr_hmac: AeadVector[], sframe: SFrameVector[] }

/**
 * Loads fixtures/vectors/sframe-rfc9605.json. KID and CTR go up to 2^64 - 1,
 * beyond what a JSON number holds exactly, so they are quoted in the raw text
 * before parsing and turned into bigint after.
 */
export function loadVectors (): VectorFile {
  const file = path.resolve(repoRoot, 'fixtures', 'vectors', 'sframe-rfc9605.json')
  const text = readFileSync(file, 'utf8').replace(/"(kid|ctr)"\s*:\s*(\d+)/g, '"$1":"$2"')
  return JSON.parse(text, (key, value: unknown) => (key === 'kid' || key === 'ctr') && typeof value === 'string' ? BigInt(value) : value) as VectorFile
}
