/**
 * The node:crypto hash, HKDF and Ed25519 used for MLS suites 1 and 3 give the
 * same bytes as ts-mls's own (WebCrypto / noble) implementations.
 */
import fc from 'fast-check'
import { getCiphersuiteImpl, type CiphersuiteImpl } from 'ts-mls'
import { getCiphersuiteFromId, type CiphersuiteId } from 'ts-mls/crypto/ciphersuite.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { withNodeCrypto } from '../../src/platform/node/node-suite.js'
import { hex } from '../crypto/helpers.js'

const bytes = (max: number) => fc.uint8Array({ maxLength: max })

for (const id of [1, 3]) {
  describe(`MLS suite ${id} on node:crypto`, () => {
    let stock: CiphersuiteImpl
    let fast: CiphersuiteImpl
    beforeAll(async () => {
      stock = await getCiphersuiteImpl(getCiphersuiteFromId(id as CiphersuiteId))
      fast = withNodeCrypto(stock, id)
      expect(fast).not.toBe(stock)
    })

    it('hash, MAC and MAC verification agree', async () => {
      await fc.assert(fc.asyncProperty(bytes(300), fc.uint8Array({ minLength: 1, maxLength: 80 }), async (data, key) => {
        expect(hex(await fast.hash.digest(data))).toBe(hex(await stock.hash.digest(data)))
        const mac = await stock.hash.mac(key, data)
        expect(hex(await fast.hash.mac(key, data))).toBe(hex(mac))
        expect(await fast.hash.verifyMac(key, mac, data)).toBe(true)
        const bad = mac.slice()
        bad[0] ^= 1
        expect(await fast.hash.verifyMac(key, bad, data)).toBe(false)
      }), { numRuns: 100 })
    })

    it('HKDF extract and expand agree (empty salts and long outputs included)', async () => {
      // MLS passes salts of 0 or Nh bytes; the stock implementation refuses others.
      const salt = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 32, maxLength: 32 }))
      await fc.assert(fc.asyncProperty(salt, bytes(64), bytes(100), fc.integer({ min: 1, max: 300 }), async (salt, ikm, info, length) => {
        const prk = await stock.kdf.extract(salt, ikm)
        expect(hex(await fast.kdf.extract(salt, ikm))).toBe(hex(prk))
        expect(hex(await fast.kdf.expand(prk, info, length))).toBe(hex(await stock.kdf.expand(prk, info, length)))
      }), { numRuns: 100 })
      expect(fast.kdf.size).toBe(stock.kdf.size)
    })

    it('Ed25519 signatures are identical and verify across implementations', async () => {
      const { signKey, publicKey } = await stock.signature.keygen()
      await fc.assert(fc.asyncProperty(bytes(500), async (message) => {
        const a = await fast.signature.sign(signKey, message)
        expect(hex(a)).toBe(hex(await stock.signature.sign(signKey, message)))
        expect(await stock.signature.verify(publicKey, message, a)).toBe(true)
        expect(await fast.signature.verify(publicKey, message, a)).toBe(true)
        const forged = a.slice()
        forged[10] ^= 0x40
        expect(await fast.signature.verify(publicKey, message, forged)).toBe(false)
        expect(await fast.signature.verify(new Uint8Array(31), message, a)).toBe(false)
      }), { numRuns: 50 })
    })

    it('each signing key signs as itself (imported keys are kept per key array)', async () => {
      const keys = await Promise.all([stock.signature.keygen(), stock.signature.keygen(), stock.signature.keygen()])
      const message = new TextEncoder().encode('epoch 7')
      for (let round = 0; round < 2; round++) {
        for (const { signKey, publicKey } of keys) {
          const sig = await fast.signature.sign(signKey, message)
          expect(hex(sig)).toBe(hex(await stock.signature.sign(signKey, message)))
          for (const other of keys) expect(await fast.signature.verify(other.publicKey, message, sig)).toBe(other.publicKey === publicKey)
        }
      }
    })

    it('a public key that is no curve point verifies nothing and does not throw', async () => {
      const { signKey } = await stock.signature.keygen()
      const message = new Uint8Array([1, 2, 3])
      const sig = await fast.signature.sign(signKey, message)
      // y = 2^255 - 1 is not a valid encoding (RFC 8032 section 5.1.3).
      expect(await fast.signature.verify(new Uint8Array(32).fill(0xff), message, sig)).toBe(false)
    })
  })
}
