/**
 * The sending side of one SFrame key: a KID, its derived keys, and the CTR
 * that makes every nonce under that key unique (RFC 9605 section 4.4.3: a
 * (key, CTR) pair must never encrypt two frames).
 */
import { FabricError, MalformedError } from '../../errors.js'
import type { CryptoBackend } from '../backend.js'
import { MAX_UINT64 } from '../bytes.js'
import { deriveSFrameKeyMaterial, type SFrameKeyMaterial } from './keys.js'
import { sframeProtect } from './protect.js'
import { DEFAULT_SFRAME_SUITE, sframeSuite } from './suites.js'

/** How to build an SFrameSender. */
export interface SFrameSenderOptions {
  /** AEAD/HKDF provider: nodeBackend on the node media path. */
  readonly backend: CryptoBackend
  /** Cipher suite value, 0x0001..0x0005; default 0x0004 AES_128_GCM_SHA256_128. */
  readonly suite?: number
  /** This sender's KID, 0 .. 2^64 - 1 (with MLS: context, leaf index and epoch, section 5.2). */
  readonly kid: bigint
  /** The base key for this KID (with MLS: the epoch's exporter output). Not retained. */
  readonly baseKey: Uint8Array
  /**
   * First CTR to use, default 0. Only for resuming a key whose earlier CTRs
   * are known to be spent; a value at or below one already used reuses nonces.
   */
  readonly firstCtr?: bigint
}

/**
 * Protects frames under one KID with a strictly increasing CTR. Derives the
 * keys once at construction and keeps only them, not the base key.
 */
export class SFrameSender {
  /** The KID written in every header. */
  readonly kid: bigint
  /** The suite value in use. */
  readonly suiteId: number
  private readonly backend: CryptoBackend
  private readonly keys: SFrameKeyMaterial
  private ctr: bigint

  /**
   * @throws FabricError('UNSUPPORTED_SUITE') for a suite outside 0x0001..0x0005.
   * @throws MalformedError when the base key is empty, or kid / firstCtr is outside [0, 2^64 - 1].
   */
  constructor (options: SFrameSenderOptions) {
    const suite = sframeSuite(options.suite ?? DEFAULT_SFRAME_SUITE)
    this.backend = options.backend
    this.keys = deriveSFrameKeyMaterial(options.backend, suite, options.kid, options.baseKey)
    this.kid = options.kid
    this.suiteId = suite.id
    const first = options.firstCtr ?? 0n
    if (first < 0n || first > MAX_UINT64) throw new MalformedError(`first CTR ${first} is outside [0, 2^64 - 1]`)
    this.ctr = first
  }

  /** The CTR the next `protect` will use; 2^64 once exhausted. */
  get nextCtr (): bigint {
    return this.ctr
  }

  /**
   * Encrypts one frame: returns header || ciphertext || tag (header 1..17
   * bytes, plus payload length, plus Nt). `metadata` is authenticated, not
   * included. Consumes one CTR even if the caller drops the result.
   * @throws FabricError('CTR_EXHAUSTED') after CTR 2^64 - 1 was used; the sender must be rekeyed (new KID or base key).
   */
  protect (metadata: Uint8Array, payload: Uint8Array): Uint8Array {
    const ctr = this.ctr
    if (ctr > MAX_UINT64) throw new FabricError('CTR_EXHAUSTED', `SFrame KID ${this.kid} used every CTR; rekey`)
    // Advance before sealing so a throw inside the AEAD cannot lead to reuse.
    this.ctr = ctr + 1n
    return sframeProtect(this.backend, this.keys, ctr, metadata, payload)
  }
}
