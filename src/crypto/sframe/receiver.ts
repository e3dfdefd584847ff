/**
 * The receiving side of SFrame (RFC 9605 section 4.4.4): find the key the
 * header's KID names, derive (or reuse) its key material, decrypt. The base
 * keys stay with the caller (the session's epoch key ring), asked through a
 * lookup callback on every frame, so retiring an epoch there takes effect
 * here at once; this class only caches derived keys.
 */
import { UnknownKidError } from '../../errors.js'
import type { CryptoBackend } from '../backend.js'
import { constantTimeEqual } from '../bytes.js'
import { decodeSFrameHeader, type SFrameHeader } from './header.js'
import { deriveSFrameKeyMaterial, type SFrameKeyMaterial } from './keys.js'
import { sframeOpen, type SFrameUnprotected } from './protect.js'
import { DEFAULT_SFRAME_SUITE, sframeSuite, type SFrameCipherSuite } from './suites.js'

/** Returns the base key for `kid`, or undefined when the caller holds none (the frame is then refused). */
export type SFrameBaseKeyLookup = (kid: bigint) => Uint8Array | undefined

/** Default bound on KIDs whose derived keys are cached (senders x tracks x live epochs). */
export const DEFAULT_SFRAME_KEY_CACHE_SIZE = 256

/** How to build an SFrameReceiver. */
export interface SFrameReceiverOptions {
  /** AEAD/HKDF provider: nodeBackend on the node media path. */
  readonly backend: CryptoBackend
  /** Cipher suite value, 0x0001..0x0005; default 0x0004 AES_128_GCM_SHA256_128. */
  readonly suite?: number
  /** Base key source, asked once per frame. */
  readonly lookup: SFrameBaseKeyLookup
  /** Most KIDs whose derived keys are kept (least recently used evicted first); default 256, at least 1. */
  readonly cacheSize?: number
}

interface CacheEntry {
  /** Private copy of the base key the keys came from, to notice when the caller's key for this KID changes. */
  readonly baseKey: Uint8Array
  readonly keys: SFrameKeyMaterial
}

/** Decrypts SFrames from any sender whose KID the lookup knows. */
export class SFrameReceiver {
  /** The suite value in use. */
  readonly suiteId: number
  private readonly suite: SFrameCipherSuite
  private readonly backend: CryptoBackend
  private readonly lookup: SFrameBaseKeyLookup
  private readonly cacheSize: number
  // Map iteration order is insertion order: re-inserting on use makes the first key the least recently used.
  private readonly cache = new Map<bigint, CacheEntry>()

  /** @throws FabricError('UNSUPPORTED_SUITE') for a suite outside 0x0001..0x0005. */
  constructor (options: SFrameReceiverOptions) {
    this.suite = sframeSuite(options.suite ?? DEFAULT_SFRAME_SUITE)
    this.suiteId = this.suite.id
    this.backend = options.backend
    this.lookup = options.lookup
    this.cacheSize = Math.max(1, Math.floor(options.cacheSize ?? DEFAULT_SFRAME_KEY_CACHE_SIZE))
  }

  /** Number of KIDs with cached derived keys (at most cacheSize). */
  get cachedKids (): number {
    return this.cache.size
  }

  /** Drops the cached keys of `kid`, if any. Not needed for correctness (the lookup decides); frees memory early. */
  forget (kid: bigint): void {
    this.cache.delete(kid)
  }

  private keysFor (kid: bigint): SFrameKeyMaterial {
    const baseKey = this.lookup(kid)
    if (baseKey === undefined) {
      this.cache.delete(kid)
      throw new UnknownKidError(kid)
    }
    const cached = this.cache.get(kid)
    if (cached !== undefined) {
      this.cache.delete(kid)
      if (constantTimeEqual(cached.baseKey, baseKey)) {
        this.cache.set(kid, cached)
        return cached.keys
      }
    }
    const keys = deriveSFrameKeyMaterial(this.backend, this.suite, kid, baseKey)
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next()
      if (oldest.done !== true) this.cache.delete(oldest.value)
    }
    this.cache.set(kid, { baseKey: baseKey.slice(), keys })
    return keys
  }

  /**
   * Decrypts one SFrame (header || ciphertext || tag) whose clear metadata is
   * `metadata`. Returns KID, CTR, plaintext and header length.
   * @param header `decodeSFrameHeader(sframe)`, when the caller has already
   *   parsed it (to read the KID first); parsed here otherwise
   * @throws MalformedError when the header does not parse or the SFrame is shorter than header + tag.
   * @throws UnknownKidError when the lookup has no base key for the KID.
   * @throws AuthenticationError when the tag does not verify.
   */
  unprotect (metadata: Uint8Array, sframe: Uint8Array, header: SFrameHeader = decodeSFrameHeader(sframe)): SFrameUnprotected {
    const keys = this.keysFor(header.kid)
    const plaintext = sframeOpen(this.backend, keys, header, metadata, sframe)
    return { kid: header.kid, ctr: header.ctr, plaintext, headerLength: header.length }
  }
}
