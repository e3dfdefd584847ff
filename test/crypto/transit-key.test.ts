/** Transit key agreement for the link seal: X25519 + HKDF-SHA256. */
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { generateKeyPairSync } from 'node:crypto'
import { MalformedError } from '../../src/errors.js'
import { deriveTransitKey, generateLinkKeyPair, type LinkKeyPair } from '../../src/crypto/transit-key.js'
import { hex } from './helpers.js'

function rawPrivate (pair: LinkKeyPair): Uint8Array {
  const der = pair.privateKey.export({ format: 'der', type: 'pkcs8' })
  return new Uint8Array(der.subarray(der.byteLength - 32))
}

function both (stream: string, subscriber = generateLinkKeyPair(), relay = generateLinkKeyPair()) {
  const common = { subscriberPublicKey: subscriber.publicKey, relayPublicKey: relay.publicKey, stream }
  return {
    subscriber,
    relay,
    atSubscriber: deriveTransitKey({ ...common, privateKey: subscriber.privateKey, peerPublicKey: relay.publicKey }),
    atRelay: deriveTransitKey({ ...common, privateKey: relay.privateKey, peerPublicKey: subscriber.publicKey })
  }
}

describe('transit key', () => {
  it('is the same on both sides: 16-byte key and 12-byte salt', () => {
    const { atSubscriber, atRelay } = both('stream-a')
    expect(atSubscriber.key.byteLength).toBe(16)
    expect(atSubscriber.salt.byteLength).toBe(12)
    expect(hex(atSubscriber.key)).toBe(hex(atRelay.key))
    expect(hex(atSubscriber.salt)).toBe(hex(atRelay.salt))
  })

  it('matches an independent computation (noble X25519 + HKDF) of the documented recipe', () => {
    const { subscriber, relay, atRelay } = both('cam/é')
    const shared = x25519.getSharedSecret(rawPrivate(subscriber), relay.publicKey)
    const info = new Uint8Array([...new TextEncoder().encode('fabric/link/1'), ...subscriber.publicKey, ...relay.publicKey, ...new TextEncoder().encode('cam/é')])
    const okm = hkdf(sha256, shared, new TextEncoder().encode('fabric link seal v1'), info, 28)
    expect(hex(atRelay.key) + hex(atRelay.salt)).toBe(hex(okm))
    expect(hex(x25519.getPublicKey(rawPrivate(relay)))).toBe(hex(relay.publicKey))
  })

  it('differs by stream and by key pair', () => {
    const subscriber = generateLinkKeyPair()
    const relay = generateLinkKeyPair()
    const a = both('stream-a', subscriber, relay).atRelay
    const b = both('stream-b', subscriber, relay).atRelay
    const c = both('stream-a', subscriber, generateLinkKeyPair()).atRelay
    expect(hex(a.key)).not.toBe(hex(b.key))
    expect(hex(a.salt)).not.toBe(hex(b.salt))
    expect(hex(a.key)).not.toBe(hex(c.key))
  })

  it('accepts a raw 32-byte private key as well as a KeyObject', () => {
    const { subscriber, relay, atSubscriber } = both('s')
    const viaRaw = deriveTransitKey({ privateKey: rawPrivate(subscriber), peerPublicKey: relay.publicKey, subscriberPublicKey: subscriber.publicKey, relayPublicKey: relay.publicKey, stream: 's' })
    expect(hex(viaRaw.key)).toBe(hex(atSubscriber.key))
  })

  it('refuses small-order peer points with MalformedError', () => {
    const relay = generateLinkKeyPair()
    const smallOrder = [
      new Uint8Array(32),
      Uint8Array.from([1, ...new Uint8Array(31)]),
      // u = 2^255 - 19 (= 0 mod p), non-canonical zero
      Uint8Array.from([0xed, ...new Uint8Array(30).fill(0xff), 0x7f])
    ]
    for (const point of smallOrder) {
      expect(() => deriveTransitKey({ privateKey: relay.privateKey, peerPublicKey: point, subscriberPublicKey: point, relayPublicKey: relay.publicKey, stream: 's' })).toThrow(MalformedError)
    }
  })

  it('refuses wrong key lengths, a non-X25519 key and a peer key in neither slot', () => {
    const a = generateLinkKeyPair()
    const b = generateLinkKeyPair()
    const base = { privateKey: a.privateKey, peerPublicKey: b.publicKey, subscriberPublicKey: a.publicKey, relayPublicKey: b.publicKey, stream: 's' }
    expect(() => deriveTransitKey({ ...base, peerPublicKey: b.publicKey.subarray(1) })).toThrow(MalformedError)
    expect(() => deriveTransitKey({ ...base, relayPublicKey: new Uint8Array(33) })).toThrow(MalformedError)
    expect(() => deriveTransitKey({ ...base, privateKey: new Uint8Array(31) })).toThrow(MalformedError)
    expect(() => deriveTransitKey({ ...base, peerPublicKey: generateLinkKeyPair().publicKey })).toThrow(MalformedError)
    expect(() => deriveTransitKey({ ...base, privateKey: generateKeyPairSync('ed25519').privateKey })).toThrow(MalformedError)
  })
})
