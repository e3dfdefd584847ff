/**
 * The portable backend (@noble/*, getRandomValues, ts-mls's default MLS
 * provider: what browsers run) and the node backend (node:crypto: what Node
 * processes run) are interchangeable on the wire: the same inputs give the
 * same bytes, and where randomness makes outputs differ (MLS, ephemeral
 * keys) what one makes the other accepts. Covers SFrame (every suite, and
 * the RFC 9605 vectors), the link seal (transit keys from X25519, seal and
 * open, the replay window) and MLS (create, KeyPackage, add, join from
 * Welcome, exporter-derived SFrame base keys) in both directions.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { CryptoBackend } from '../../src/crypto/backend.js'
import { nobleBackend } from '../../src/crypto/backend-noble.js'
import { defaultCryptoBackend, setDefaultCryptoBackend } from '../../src/crypto/default-backend.js'
import { LinkOpener, LinkSealer, sealedPacket } from '../../src/crypto/link-seal.js'
import { deriveSFrameKeyMaterial, sframeProtect, sframeUnprotect } from '../../src/crypto/sframe/index.js'
import { SFrameReceiver } from '../../src/crypto/sframe/receiver.js'
import { SFrameSender } from '../../src/crypto/sframe/sender.js'
import { SFRAME_SUITES, sframeSuite } from '../../src/crypto/sframe/suites.js'
import { deriveTransitKey, generateLinkKeyPair, type TransitKey } from '../../src/crypto/transit-key.js'
import { AuthenticationError, ReplayError } from '../../src/errors.js'
import { nodeBackend } from '../../src/platform/node/backend-node.js'
import { AvSession } from '../../src/session/av-session.js'
import { identityFromSeed, type MemberIdentity } from '../../src/session/identity.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import { suiteImpl } from '../../src/session/suite.js'
import { fromHex, hex, loadVectors } from './helpers.js'

const BACKENDS: ReadonlyArray<readonly [CryptoBackend, CryptoBackend]> = [[nodeBackend, nobleBackend], [nobleBackend, nodeBackend]]

/** Deterministic bytes: byte i is (seed + 31 i) mod 256. */
function pattern (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (seed + 31 * i) & 0xff
  return out
}

/** A fresh copy in a buffer of its own, so a test never reads through a shared slab. */
function own (bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes)
}

const initialDefault = defaultCryptoBackend()
afterEach(() => { setDefaultCryptoBackend(initialDefault) })

describe('primitives', () => {
  it('hash, HMAC, HKDF and Ed25519 give the same bytes', () => {
    const data = pattern(300, 1)
    const key = pattern(40, 2)
    for (const hash of ['sha256', 'sha512'] as const) {
      expect(hex(nobleBackend.digest(hash, data.subarray(0, 7), data.subarray(7)))).toBe(hex(nodeBackend.digest(hash, data)))
      expect(hex(nobleBackend.hmac(hash, key, data))).toBe(hex(nodeBackend.hmac(hash, key, data)))
      const prk = nodeBackend.hkdfExtract(hash, key, data)
      expect(hex(nobleBackend.hkdfExtract(hash, key, data))).toBe(hex(prk))
      expect(hex(nobleBackend.hkdfExpand(hash, prk, data, 200))).toBe(hex(nodeBackend.hkdfExpand(hash, prk, data, 200)))
    }
    const seed = pattern(32, 3)
    expect(hex(nobleBackend.ed25519.publicKey(seed))).toBe(hex(nodeBackend.ed25519.publicKey(seed)))
    const signature = nodeBackend.ed25519.sign(seed, data)
    expect(hex(nobleBackend.ed25519.sign(seed, data))).toBe(hex(signature))
    expect(nobleBackend.ed25519.verify(nodeBackend.ed25519.publicKey(seed), data, signature)).toBe(true)
    expect(nobleBackend.ed25519.verify(nodeBackend.ed25519.publicKey(seed), pattern(300, 9), signature)).toBe(false)
    expect(nobleBackend.randomBytes(70000).byteLength).toBe(70000)
  })

  it('MLS suites 1 and 3: ts-mls default provider and the node:crypto rewiring agree', async () => {
    for (const id of [1, 3]) {
      const portable = await suiteImpl(id, nobleBackend)
      const node = await suiteImpl(id, nodeBackend)
      expect(node).not.toBe(portable)
      const data = pattern(100, id)
      expect(hex(await portable.hash.digest(data))).toBe(hex(await node.hash.digest(data)))
      const salt = pattern(32, id + 1)
      expect(hex(await portable.kdf.expand(await portable.kdf.extract(salt, data), data, 48))).toBe(hex(await node.kdf.expand(await node.kdf.extract(salt, data), data, 48)))
      const seed = pattern(32, 7)
      expect(hex(await portable.signature.sign(seed, data))).toBe(hex(await node.signature.sign(seed, data)))
    }
  })
})

describe('SFrame under both backends', () => {
  const metadata = pattern(20, 5)
  for (const suite of SFRAME_SUITES) {
    it(`suite 0x${suite.id.toString(16).padStart(4, '0')}: same SFrames, and each opens the other's`, () => {
      const baseKey = pattern(suite.nk, suite.id)
      for (const kid of [0n, 7n, 0x1234_5678_9abcn]) {
        const node = deriveSFrameKeyMaterial(nodeBackend, suite, kid, baseKey)
        const noble = deriveSFrameKeyMaterial(nobleBackend, suite, kid, baseKey)
        expect(hex(noble.key)).toBe(hex(node.key))
        expect(hex(noble.salt)).toBe(hex(node.salt))
        for (const [ctr, size] of [[0n, 0], [1n, 1], [255n, 1000], [0xffff_ffffn, 65_536]] as const) {
          const plaintext = pattern(size, Number(ctr & 0xffn))
          const a = own(sframeProtect(nodeBackend, node, ctr, metadata, plaintext))
          const b = own(sframeProtect(nobleBackend, noble, ctr, metadata, plaintext))
          expect(hex(b)).toBe(hex(a))
          expect(hex(sframeUnprotect(nobleBackend, noble, metadata, a).plaintext)).toBe(hex(plaintext))
          expect(hex(sframeUnprotect(nodeBackend, node, metadata, b).plaintext)).toBe(hex(plaintext))
          const forged = a.slice()
          forged[forged.length - 1] ^= 1
          expect(() => sframeUnprotect(nobleBackend, noble, metadata, forged)).toThrow(AuthenticationError)
          expect(() => sframeUnprotect(nodeBackend, node, metadata, forged)).toThrow(AuthenticationError)
        }
      }
      for (const [from, to] of BACKENDS) {
        const sender = new SFrameSender({ backend: from, suite: suite.id, kid: 3n, baseKey })
        const receiver = new SFrameReceiver({ backend: to, suite: suite.id, lookup: (kid) => kid === 3n ? baseKey : undefined })
        for (let i = 0; i < 3; i++) {
          const frame = pattern(500 + i, i)
          expect(hex(receiver.unprotect(metadata, sender.protect(metadata, frame)).plaintext)).toBe(hex(frame))
        }
      }
    })
  }

  describe('RFC 9605 appendix C vectors', () => {
    for (const v of loadVectors().sframe) {
      for (const backend of [nodeBackend, nobleBackend]) {
        it(`cipher_suite ${v.cipher_suite} on ${backend.name}`, () => {
          const suite = sframeSuite(v.cipher_suite)
          const keys = deriveSFrameKeyMaterial(backend, suite, v.kid, fromHex(v.base_key))
          expect(hex(keys.key)).toBe(v.sframe_key)
          expect(hex(keys.salt)).toBe(v.sframe_salt)
          const sframe = sframeProtect(backend, keys, v.ctr, fromHex(v.metadata), fromHex(v.pt))
          expect(hex(sframe)).toBe(v.ct)
          expect(hex(sframeUnprotect(backend, keys, fromHex(v.metadata), fromHex(v.ct)).plaintext)).toBe(v.pt)
        })
      }
    }
  })
})

describe('link seal under both backends', () => {
  const stream = 'owner/room'
  const subscriberPrivate = pattern(32, 11)
  const relayPrivate = pattern(32, 12)
  const subscriberPublic = publicOf(subscriberPrivate)
  const relayPublic = publicOf(relayPrivate)

  function publicOf (raw: Uint8Array): Uint8Array {
    // The public key of a raw scalar: X25519(raw, 9), computed by both backends.
    const base = new Uint8Array(32)
    base[0] = 9
    const a = nodeBackend.x25519.sharedSecret(raw, base)
    expect(hex(nobleBackend.x25519.sharedSecret(raw, base))).toBe(hex(a))
    return a
  }

  function transit (backend: CryptoBackend, side: 'subscriber' | 'relay'): TransitKey {
    const common = { subscriberPublicKey: subscriberPublic, relayPublicKey: relayPublic, stream }
    return side === 'subscriber'
      ? deriveTransitKey({ ...common, privateKey: subscriberPrivate, peerPublicKey: relayPublic }, backend)
      : deriveTransitKey({ ...common, privateKey: relayPrivate, peerPublicKey: subscriberPublic }, backend)
  }

  it('derives the same transit key from the same X25519 keys, on either side', () => {
    const reference = transit(nodeBackend, 'relay')
    for (const backend of [nodeBackend, nobleBackend]) {
      for (const side of ['subscriber', 'relay'] as const) {
        const t = transit(backend, side)
        expect(hex(t.key)).toBe(hex(reference.key))
        expect(hex(t.salt)).toBe(hex(reference.salt))
      }
    }
  })

  it('agrees across backends on generated key pairs (each backend takes the other\'s key handles)', () => {
    for (const [a, b] of BACKENDS) {
      const subscriber = generateLinkKeyPair(a)
      const relay = generateLinkKeyPair(b)
      const common = { subscriberPublicKey: subscriber.publicKey, relayPublicKey: relay.publicKey, stream }
      const atSubscriber = deriveTransitKey({ ...common, privateKey: subscriber.privateKey, peerPublicKey: relay.publicKey }, b)
      const atRelay = deriveTransitKey({ ...common, privateKey: relay.privateKey, peerPublicKey: subscriber.publicKey }, a)
      expect(hex(atSubscriber.key)).toBe(hex(atRelay.key))
      expect(hex(atSubscriber.salt)).toBe(hex(atRelay.salt))
    }
  })

  it('seals the same bytes with seal, sealFrame and sealParts, and opens across backends', () => {
    const key = transit(nodeBackend, 'relay')
    const node = new LinkSealer(key, { backend: nodeBackend, firstSequence: 0xffff_fffen })
    const noble = new LinkSealer(key, { backend: nobleBackend, firstSequence: 0xffff_fffen })
    const nodeOpener = new LinkOpener(key, { backend: nodeBackend })
    const nobleOpener = new LinkOpener(key, { backend: nobleBackend })
    for (let i = 0; i < 6; i++) {
      const chunk = pattern([0, 1, 100, 1400, 10_000, 65_536][i], i)
      let a: Uint8Array
      let b: Uint8Array
      if (i % 3 === 0) {
        a = own(node.seal(chunk))
        b = own(noble.seal(chunk))
      } else if (i % 3 === 1) {
        const fa = node.sealFrame(chunk)
        const fb = noble.sealFrame(chunk)
        expect(hex(fb.head)).toBe(hex(fa.head))
        a = sealedPacket(fa)
        b = sealedPacket(fb)
      } else {
        const pa = node.sealParts(chunk)
        const pb = noble.sealParts(chunk)
        expect(pb.sequence).toBe(pa.sequence)
        a = Uint8Array.from([...pa.header, ...pa.ciphertext, ...pa.tag])
        b = Uint8Array.from([...pb.header, ...pb.ciphertext, ...pb.tag])
      }
      expect(hex(b)).toBe(hex(a))
      expect(hex(nobleOpener.open(a))).toBe(hex(chunk))
      expect(hex(nodeOpener.open(b))).toBe(hex(chunk))
    }
    expect(nobleOpener.lastSequence).toBe(nodeOpener.lastSequence)
  })

  it('refuses the same replays and forgeries on both backends', () => {
    const key = transit(nobleBackend, 'subscriber')
    const sealer = new LinkSealer(key, { backend: nodeBackend })
    const packets = Array.from({ length: 80 }, (_, i) => own(sealer.seal(pattern(50, i))))
    const outcomes = [nodeBackend, nobleBackend].map((backend) => {
      const opener = new LinkOpener(key, { backend, windowSize: 64 })
      const log: string[] = []
      const attempt = (p: Uint8Array): void => {
        try {
          opener.open(p)
          log.push('ok')
        } catch (err) {
          log.push(err instanceof ReplayError ? 'replay' : err instanceof AuthenticationError ? 'auth' : String(err))
        }
      }
      for (const i of [0, 1, 1, 5, 3, 79, 3, 15, 16, 17, 78, 79]) attempt(packets[i])
      const forged = packets[40].slice()
      forged[30] ^= 1
      attempt(forged)
      attempt(packets[40])
      attempt(packets[40])
      return { log, highest: opener.highestSequence }
    })
    expect(outcomes[0].log).toEqual(['ok', 'ok', 'replay', 'ok', 'ok', 'ok', 'replay', 'replay', 'ok', 'ok', 'ok', 'replay', 'auth', 'ok', 'replay'])
    expect(outcomes[1]).toEqual(outcomes[0])
  })
})

describe('MLS across backends', () => {
  const now = Date.now()
  const STREAM = 'room'

  function member (n: number): MemberIdentity {
    return identityFromSeed(pattern(32, 100 + n))
  }

  /** Runs `fn` with `backend` as the process default (what AvSession and KeyPackages use). */
  async function under<T> (backend: CryptoBackend, fn: () => Promise<T>): Promise<T> {
    const previous = setDefaultCryptoBackend(backend)
    try {
      return await fn()
    } finally {
      setDefaultCryptoBackend(previous)
    }
  }

  for (const [ownerSide, joinerSide] of BACKENDS) {
    it(`owner on ${ownerSide.name}, joiner on ${joinerSide.name}: Welcome joins, exporter agrees, SFrames open both ways`, async () => {
      const owner = member(0)
      const joiner = member(1)
      const creator = await under(ownerSide, async () => await AvSession.create({ identity: owner, stream: STREAM, admission: { admission: 'open' }, nowMs: now }))
      const bundle = await under(joinerSide, async () => await generateKeyPackage(joiner, { nowMs: now }))
      const add = await under(ownerSide, async () => {
        const pending = await creator.prepareAdd([own(bundle.keyPackage)], { nowMs: now, expectedIdentities: [joiner.peerId] })
        await creator.applyPending(pending, now)
        return pending
      })
      expect(add.welcome).toBeInstanceOf(Uint8Array)
      const joined = await under(joinerSide, async () => await AvSession.joinFromWelcome({
        welcome: own(add.welcome!),
        keyPackage: own(bundle.keyPackage),
        privateState: own(bundle.privateState),
        identity: joiner.peerId,
        expect: { owner: owner.peerId, stream: STREAM },
        nowMs: now,
      }))
      expect(joined.epoch).toBe(creator.epoch)
      expect(hex(joined.groupId)).toBe(hex(creator.groupId))
      const ownerKey = await creator.exportSFrameBaseKey()
      const joinerKey = await joined.exportSFrameBaseKey()
      expect(hex(joinerKey)).toBe(hex(ownerKey))
      expect(ownerKey.byteLength).toBe(16)

      const metadata = pattern(12, 1)
      const ownerSender = new SFrameSender({ backend: ownerSide, kid: 1n, baseKey: ownerKey })
      const joinerSender = new SFrameSender({ backend: joinerSide, kid: 2n, baseKey: joinerKey })
      const lookup = (key: Uint8Array) => (kid: bigint) => kid === 1n || kid === 2n ? key : undefined
      const atOwner = new SFrameReceiver({ backend: ownerSide, lookup: lookup(ownerKey) })
      const atJoiner = new SFrameReceiver({ backend: joinerSide, lookup: lookup(joinerKey) })
      const frame = pattern(3000, 9)
      expect(hex(atJoiner.unprotect(metadata, ownerSender.protect(metadata, frame)).plaintext)).toBe(hex(frame))
      expect(hex(atOwner.unprotect(metadata, joinerSender.protect(metadata, frame)).plaintext)).toBe(hex(frame))
    })
  }
})
