/**
 * Every vector of fixtures/vectors/sframe-rfc9605.json (RFC 9605 appendix C
 * plus the 256-bit CTR + HMAC variant), on both backends, with node and noble
 * required to produce identical bytes.
 */
import { describe, expect, it } from 'vitest'
import {
  AEAD_AES_128_CTR_HMAC_SHA256_32, AEAD_AES_128_CTR_HMAC_SHA256_64, AEAD_AES_128_CTR_HMAC_SHA256_80,
  AEAD_AES_256_CTR_HMAC_SHA512_32, AEAD_AES_256_CTR_HMAC_SHA512_64, AEAD_AES_256_CTR_HMAC_SHA512_80,
  type AeadAlgorithm
} from '../../src/crypto/aead.js'
import { splitCtrHmacKey } from '../../src/crypto/ctr-hmac.js'
import { decodeSFrameHeader, encodeSFrameHeader } from '../../src/crypto/sframe/header.js'
import { deriveSFrameKeyMaterial, sframeKeyLabel, sframeSaltLabel, sframeSecret } from '../../src/crypto/sframe/keys.js'
import { sframeNonce, sframeProtect, sframeUnprotect } from '../../src/crypto/sframe/protect.js'
import { SFrameReceiver } from '../../src/crypto/sframe/receiver.js'
import { SFrameSender } from '../../src/crypto/sframe/sender.js'
import { sframeSuite } from '../../src/crypto/sframe/suites.js'
import { backends, fromHex, hex, loadVectors } from './helpers.js'

const vectors = loadVectors()

// The vector file's cipher_suite values for the AEAD-level sections.
const CTR_HMAC_BY_VECTOR_SUITE: Record<number, AeadAlgorithm> = {
  1: AEAD_AES_128_CTR_HMAC_SHA256_80,
  2: AEAD_AES_128_CTR_HMAC_SHA256_64,
  3: AEAD_AES_128_CTR_HMAC_SHA256_32,
  6: AEAD_AES_256_CTR_HMAC_SHA512_80,
  7: AEAD_AES_256_CTR_HMAC_SHA512_64,
  8: AEAD_AES_256_CTR_HMAC_SHA512_32
}

describe('vector file', () => {
  it('has every section, and KIDs/CTRs above 2^53 survive parsing exactly', () => {
    expect(vectors.header.length).toBeGreaterThan(0)
    expect(vectors.aes_ctr_hmac.length).toBeGreaterThan(0)
    expect(vectors.aes_256_ctr_hmac.length).toBeGreaterThan(0)
    expect(vectors.sframe.map((v) => v.cipher_suite).sort()).toEqual([1, 2, 3, 4, 5])
    expect(vectors.header.some((v) => v.kid === 0xffff_ffff_ffff_ffffn)).toBe(true)
    expect(vectors.header.some((v) => v.ctr === 0xffff_ffff_ffff_ffffn)).toBe(true)
  })
})

describe('header vectors (RFC 9605 section 4.3)', () => {
  it(`encodes and decodes all ${vectors.header.length}`, () => {
    for (const v of vectors.header) {
      expect(hex(encodeSFrameHeader(v.kid, v.ctr)), `kid ${v.kid} ctr ${v.ctr}`).toBe(v.encoded)
      const decoded = decodeSFrameHeader(fromHex(v.encoded))
      expect(decoded).toEqual({ kid: v.kid, ctr: v.ctr, length: v.encoded.length / 2 })
    }
  })
})

for (const section of ['aes_ctr_hmac', 'aes_256_ctr_hmac'] as const) {
  describe(`${section} vectors (RFC 9605 section 4.5.1)`, () => {
    for (const v of vectors[section]) {
      it(`cipher_suite ${v.cipher_suite}`, () => {
        const algorithm = CTR_HMAC_BY_VECTOR_SUITE[v.cipher_suite]
        expect(algorithm).toBeDefined()
        const key = fromHex(v.key)
        const split = splitCtrHmacKey(algorithm as Extract<AeadAlgorithm, { kind: 'aes-ctr-hmac' }>, key)
        expect(hex(split.encKey)).toBe(v.enc_key)
        expect(hex(split.authKey)).toBe(v.auth_key)
        const outputs = backends.map((backend) => {
          const aead = backend.aead(algorithm)
          const ct = aead.seal(key, fromHex(v.nonce), fromHex(v.aad), fromHex(v.pt))
          expect(hex(ct), backend.name).toBe(v.ct)
          expect(hex(aead.open(key, fromHex(v.nonce), fromHex(v.aad), fromHex(v.ct))), backend.name).toBe(v.pt)
          return hex(ct)
        })
        expect(outputs[0]).toBe(outputs[1])
      })
    }
  })
}

describe('sframe vectors (RFC 9605 section 4.4)', () => {
  for (const v of vectors.sframe) {
    for (const backend of backends) {
      it(`cipher_suite ${v.cipher_suite} on ${backend.name}`, () => {
        const suite = sframeSuite(v.cipher_suite)
        const baseKey = fromHex(v.base_key)
        const metadata = fromHex(v.metadata)
        expect(hex(sframeKeyLabel(v.kid, suite.id))).toBe(v.sframe_key_label)
        expect(hex(sframeSaltLabel(v.kid, suite.id))).toBe(v.sframe_salt_label)
        expect(hex(sframeSecret(backend, suite, baseKey))).toBe(v.sframe_secret)
        const keys = deriveSFrameKeyMaterial(backend, suite, v.kid, baseKey)
        expect(hex(keys.key)).toBe(v.sframe_key)
        expect(hex(keys.salt)).toBe(v.sframe_salt)
        expect(hex(sframeNonce(keys.salt, v.ctr))).toBe(v.nonce)
        const header = encodeSFrameHeader(v.kid, v.ctr)
        expect(v.aad).toBe(hex(header) + v.metadata)
        expect(v.ct.startsWith(hex(header))).toBe(true)

        const sframe = sframeProtect(backend, keys, v.ctr, metadata, fromHex(v.pt))
        expect(hex(sframe)).toBe(v.ct)
        const opened = sframeUnprotect(backend, keys, metadata, fromHex(v.ct))
        expect(hex(opened.plaintext)).toBe(v.pt)
        expect(opened.kid).toBe(v.kid)
        expect(opened.ctr).toBe(v.ctr)
        expect(opened.headerLength).toBe(header.byteLength)

        // The stateful helpers must produce the same bytes.
        const sender = new SFrameSender({ backend, suite: suite.id, kid: v.kid, baseKey, firstCtr: v.ctr })
        expect(hex(sender.protect(metadata, fromHex(v.pt)))).toBe(v.ct)
        const receiver = new SFrameReceiver({ backend, suite: suite.id, lookup: (kid) => kid === v.kid ? baseKey : undefined })
        expect(hex(receiver.unprotect(metadata, fromHex(v.ct)).plaintext)).toBe(v.pt)
      })
    }
  }
})
