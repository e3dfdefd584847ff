/**
 * linkTransitKey: the one key step of the subscribe handshake, used by the
 * member's Subscription, the node's subscribe handler and its upstream pull.
 */
import { describe, expect, it } from 'vitest'
import { MalformedError } from '../../src/errors.js'
import { deriveTransitKey, generateLinkKeyPair, linkTransitKey } from '../../src/crypto/transit-key.js'
import { backends, hex } from './helpers.js'

describe('linkTransitKey', () => {
  it('gives both ends the key deriveTransitKey gives, byte for byte, on every backend', () => {
    for (const backend of backends) {
      const subscriber = generateLinkKeyPair(backend)
      const relay = generateLinkKeyPair(backend)
      const stream = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/lobby'
      const atSubscriber = linkTransitKey('subscriber', subscriber, relay.publicKey, stream, backend)
      const atRelay = linkTransitKey('relay', relay, subscriber.publicKey, stream, backend)
      const common = { subscriberPublicKey: subscriber.publicKey, relayPublicKey: relay.publicKey, stream }
      const direct = deriveTransitKey({ ...common, privateKey: relay.privateKey, peerPublicKey: subscriber.publicKey }, backend)
      expect(hex(atSubscriber.key)).toBe(hex(direct.key))
      expect(hex(atSubscriber.salt)).toBe(hex(direct.salt))
      expect(hex(atRelay.key)).toBe(hex(direct.key))
      expect(hex(atRelay.salt)).toBe(hex(direct.salt))
      // The default backend gives the same bytes.
      expect(hex(linkTransitKey('relay', relay, subscriber.publicKey, stream).key)).toBe(hex(direct.key))
    }
  })

  it('puts the keys in their slots by side: an end that takes the wrong side gets another key', () => {
    const subscriber = generateLinkKeyPair()
    const relay = generateLinkKeyPair()
    const right = linkTransitKey('subscriber', subscriber, relay.publicKey, 'o/s')
    const wrong = linkTransitKey('relay', subscriber, relay.publicKey, 'o/s')
    expect(hex(wrong.key)).not.toBe(hex(right.key))
  })

  it('refuses a missing, short or small-order peer key with MalformedError', () => {
    const own = generateLinkKeyPair()
    for (const side of ['subscriber', 'relay'] as const) {
      expect(() => linkTransitKey(side, own, new Uint8Array(0), 'o/s')).toThrow(MalformedError)
      expect(() => linkTransitKey(side, own, new Uint8Array(31), 'o/s')).toThrow(MalformedError)
      expect(() => linkTransitKey(side, own, new Uint8Array(32), 'o/s')).toThrow(MalformedError)
    }
  })
})
