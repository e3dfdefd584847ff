/**
 * The node-auth proof (protocol/fabric.md section 2), sans-IO: MACs, the
 * roles that keep a MAC from being reflected, and the bounded decoders.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError, MalformedError, TooLargeError } from '../../src/errors.js'
import {
  buildNodeAuthMac, decodeNodeAuthMessage, encodeFinish, encodeHello, encodeResponse, expectNodeAuthMessage,
  MAX_NODE_AUTH_MESSAGE_BYTES, nodeAuthMacInput, verifyNodeAuthMac, type NodeAuthTranscript,
} from '../../src/fabric/node-auth.js'
import { streamProviderCid } from '../../src/fabric/provider-key.js'

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)
const key = bytes(32, 1)
const t: NodeAuthTranscript = { initiator: bytes(38, 2), responder: bytes(38, 3), initiatorNonce: bytes(32, 4), responderNonce: bytes(32, 5) }

describe('node-auth MAC', () => {
  it('verifies the MAC it builds, for each role', () => {
    for (const role of ['initiator', 'responder'] as const) {
      expect(verifyNodeAuthMac(key, t, role, buildNodeAuthMac(key, t, role))).toBe(true)
    }
  })

  it('refuses a reflected MAC: the responder\'s proof is not the initiator\'s', () => {
    expect(verifyNodeAuthMac(key, t, 'initiator', buildNodeAuthMac(key, t, 'responder'))).toBe(false)
    // Nor does swapping the peer ids (the responder replaying a MAC at its initiator) help.
    const swapped = { ...t, initiator: t.responder, responder: t.initiator }
    expect(verifyNodeAuthMac(key, t, 'initiator', buildNodeAuthMac(key, swapped, 'initiator'))).toBe(false)
  })

  it('refuses a MAC under another key, or of the wrong length', () => {
    expect(verifyNodeAuthMac(key, t, 'initiator', buildNodeAuthMac(bytes(32, 9), t, 'initiator'))).toBe(false)
    expect(verifyNodeAuthMac(key, t, 'initiator', buildNodeAuthMac(key, t, 'initiator').slice(0, 31))).toBe(false)
  })

  it('lays out its input as specified', () => {
    const input = nodeAuthMacInput(t, 'responder')
    const label = new TextEncoder().encode('fabric node auth v1')
    expect(input.byteLength).toBe(label.byteLength + 1 + 38 + 1 + 38 + 32 + 32 + 1)
    expect(input.subarray(0, label.byteLength)).toEqual(label)
    expect(input[label.byteLength]).toBe(38)
    expect(input[input.byteLength - 1]).toBe(0x02)
    expect(nodeAuthMacInput(t, 'initiator')[input.byteLength - 1]).toBe(0x01)
  })

  it('refuses bad inputs with typed errors', () => {
    expect(() => buildNodeAuthMac(bytes(31, 1), t, 'initiator')).toThrow(MalformedError)
    expect(() => buildNodeAuthMac(key, { ...t, initiatorNonce: bytes(31, 0) }, 'initiator')).toThrow(MalformedError)
    expect(() => buildNodeAuthMac(key, { ...t, responder: new Uint8Array(0) }, 'initiator')).toThrow(MalformedError)
    expect(() => buildNodeAuthMac(key, { ...t, responder: bytes(256, 1) }, 'initiator')).toThrow(TooLargeError)
  })

  it('property: verify(build(x)) holds, and any single-byte change of the MAC or the transcript fails', () => {
    const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
    const id = fc.uint8Array({ minLength: 1, maxLength: 64 })
    fc.assert(fc.property(b32, id, id, b32, b32, fc.constantFrom('initiator' as const, 'responder' as const), fc.nat(), fc.integer({ min: 1, max: 255 }),
      (k, i, r, ni, nr, role, at, delta) => {
        const tr = { initiator: i, responder: r, initiatorNonce: ni, responderNonce: nr }
        const mac = buildNodeAuthMac(k, tr, role)
        if (!verifyNodeAuthMac(k, tr, role, mac)) return false
        const badMac = Uint8Array.from(mac)
        badMac[at % 32] ^= delta
        if (verifyNodeAuthMac(k, tr, role, badMac)) return false
        const fields = ['initiator', 'responder', 'initiatorNonce', 'responderNonce'] as const
        const field = fields[at % 4]
        const changed = Uint8Array.from(tr[field])
        changed[at % changed.byteLength] ^= delta
        const badKey = Uint8Array.from(k)
        badKey[at % 32] ^= delta
        return !verifyNodeAuthMac(k, { ...tr, [field]: changed }, role, mac) && !verifyNodeAuthMac(badKey, tr, role, mac)
      }), { numRuns: 200 })
  })
})

describe('node-auth messages', () => {
  it('round-trip', () => {
    const mac = bytes(32, 6)
    expect(decodeNodeAuthMessage(encodeHello(t.initiatorNonce))).toEqual({ type: 'hello', nonce: t.initiatorNonce })
    expect(decodeNodeAuthMessage(encodeResponse(t.responderNonce, mac))).toEqual({ type: 'response', nonce: t.responderNonce, mac })
    expect(decodeNodeAuthMessage(encodeFinish(mac))).toEqual({ type: 'finish', mac })
    expect(encodeResponse(t.responderNonce, mac).byteLength).toBe(MAX_NODE_AUTH_MESSAGE_BYTES)
  })

  it('refuses malformed and oversize messages with typed errors', () => {
    expect(() => decodeNodeAuthMessage(new Uint8Array(0))).toThrow(MalformedError)
    expect(() => decodeNodeAuthMessage(Uint8Array.of(0x07, ...bytes(32, 0)))).toThrow(/unknown node-auth message type 0x07/)
    expect(() => decodeNodeAuthMessage(Uint8Array.of(0x01, ...bytes(31, 0)))).toThrow(MalformedError)
    expect(() => decodeNodeAuthMessage(Uint8Array.of(0x03, ...bytes(33, 0)))).toThrow(MalformedError)
    expect(() => decodeNodeAuthMessage(bytes(MAX_NODE_AUTH_MESSAGE_BYTES + 1, 2))).toThrow(TooLargeError)
    expect(() => encodeHello(bytes(33, 0))).toThrow(MalformedError)
  })

  it('refuses a message out of turn', () => {
    const err = (() => { try { expectNodeAuthMessage(encodeFinish(bytes(32, 0)), 'hello') } catch (e) { return e } })()
    expect(err).toBeInstanceOf(FabricError)
    expect((err as FabricError).code).toBe('INVALID_STATE')
  })

  it('property: decoding never throws anything but a FabricError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      try { decodeNodeAuthMessage(b) } catch (e) { return e instanceof FabricError }
      return true
    }))
  })
})

describe('stream provider key', () => {
  it('is a CIDv1 raw sha2-256 of the labelled key, distinct per stream', () => {
    const cid = streamProviderCid('alice/show')
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(streamProviderCid('alice/show').equals(cid)).toBe(true)
    expect(streamProviderCid('alice/other').equals(cid)).toBe(false)
    expect(() => streamProviderCid('')).toThrow(MalformedError)
  })
})
