import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import {
  decodePrivateState,
  encodePrivateState,
  generateKeyPackage,
  generateKeyPackages,
  DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS,
} from '../../src/session/key-package.js'
import { inspectKeyPackage } from '../../src/session/inspect.js'
import { MAX_IDENTITY_BYTES, MAX_KEY_PACKAGE_BYTES } from '../../src/session/limits.js'
import { MAX_IDENTITY } from '../../src/wire/limits.js'
import { FabricError, MalformedError, TooLargeError } from '../../src/errors.js'
import { hex, peer, peerId } from './helpers.js'

const now = Date.now()

/** Asserts `p` rejects with one of the given error codes, and nothing else. */
async function rejectsWith (p: Promise<unknown>, codes: string[]): Promise<void> {
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(FabricError)
  expect(codes).toContain((caught as FabricError).code)
}

describe('KeyPackages', () => {
  it('inspectKeyPackage gives the identity, suite, ref and lifetime of a generated KeyPackage', async () => {
    const b = await generateKeyPackage(peer(1), { nowMs: now })
    const info = await inspectKeyPackage(b.keyPackage, now)
    expect(info.identity).toBe(peerId(1))
    expect(info.cipherSuite).toBe(1)
    expect(hex(info.ref)).toBe(hex(b.ref))
    expect(info.lastResort).toBe(false)
    expect(info.notAfter - info.notBefore).toBeGreaterThanOrEqual(BigInt(DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS))
  })

  it('generates a batch with one last-resort KeyPackage marked by the last_resort extension', async () => {
    const { keyPackages, lastResort } = await generateKeyPackages(peer(2), { nowMs: now, count: 3, lastResort: true })
    expect(keyPackages).toHaveLength(3)
    expect(lastResort?.lastResort).toBe(true)
    expect((await inspectKeyPackage(lastResort!.keyPackage)).lastResort).toBe(true)
    for (const kp of keyPackages) expect((await inspectKeyPackage(kp.keyPackage)).lastResort).toBe(false)
    expect(new Set([...keyPackages, lastResort!].map(b => hex(b.ref))).size).toBe(4)
    await expect(generateKeyPackages(peer(2), { nowMs: now, count: 0 })).rejects.toThrow(FabricError)
  })

  it('refuses a KeyPackage outside its lifetime, with a bad signature, or of another wire format', async () => {
    const b = await generateKeyPackage(peer(3), { nowMs: now, lifetimeSeconds: 60 })
    await expect(inspectKeyPackage(b.keyPackage, now + 3_600_000)).rejects.toThrow(MalformedError)
    await expect(inspectKeyPackage(b.keyPackage, now - 3_600_000)).rejects.toThrow(MalformedError)
    const tampered = Uint8Array.from(b.keyPackage)
    tampered[tampered.length - 1]! ^= 1
    await expect(inspectKeyPackage(tampered)).rejects.toThrow(MalformedError)
    await expect(inspectKeyPackage(b.keyPackage.subarray(0, b.keyPackage.length - 1))).rejects.toThrow(MalformedError)
    await expect(inspectKeyPackage(Uint8Array.of(...b.keyPackage, 0))).rejects.toThrow(MalformedError)
    await expect(inspectKeyPackage(new Uint8Array(MAX_KEY_PACKAGE_BYTES + 1))).rejects.toThrow(TooLargeError)
  })

  it('refuses identities fabric cannot carry', async () => {
    const named = (peerId: string) => ({ ...peer(1), peerId })
    await expect(generateKeyPackage(named(''), { nowMs: now })).rejects.toThrow(MalformedError)
    await expect(generateKeyPackage(named('x'.repeat(MAX_IDENTITY_BYTES + 1)), { nowMs: now })).rejects.toThrow(MalformedError)
    // The wire's bound: an identity the control protocols could not name is refused here too.
    expect(MAX_IDENTITY_BYTES).toBe(MAX_IDENTITY)
    // Every real identity is an Ed25519 peer id, well inside the bound; a credential of the
    // longest length that is not the peer id of the signing key is refused as someone else's.
    expect(peerId(1).length).toBeLessThanOrEqual(MAX_IDENTITY_BYTES)
    expect((await inspectKeyPackage((await generateKeyPackage(peer(1), { nowMs: now })).keyPackage)).identity).toBe(peerId(1))
    await rejectsWith(inspectKeyPackage((await generateKeyPackage(named('x'.repeat(MAX_IDENTITY_BYTES)), { nowMs: now })).keyPackage), ['IDENTITY_MISMATCH'])
    await rejectsWith(inspectKeyPackage((await generateKeyPackage(named(peerId(2)), { nowMs: now })).keyPackage), ['IDENTITY_MISMATCH'])
    await expect(generateKeyPackage(peer(1), { nowMs: now, cipherSuite: 9999 })).rejects.toThrow(expect.objectContaining({ code: 'UNSUPPORTED_SUITE' }))
  })

  it('random bytes only ever give MalformedError or TooLargeError', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        // Behind a valid MLSMessage KeyPackage header (version mls10, wire format 5), to reach deeper decoders.
        fc.uint8Array({ maxLength: 512 }).map(b => Uint8Array.of(0, 1, 0, 5, ...b)),
        fc.uint8Array({ maxLength: 512 }).map(b => Uint8Array.of(0, 1, 0, 5, 0, 1, 0, 1, ...b)),
      ),
      async bytes => {
        await rejectsWith(inspectKeyPackage(bytes), ['MALFORMED', 'TOO_LARGE'])
      },
    ), { numRuns: 300 })
  })

  it('every single-byte change of a valid KeyPackage is refused with a typed error', async () => {
    const b = await generateKeyPackage(peer(4), { nowMs: now })
    await fc.assert(fc.asyncProperty(
      fc.nat({ max: b.keyPackage.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      async (at, x) => {
        const bytes = Uint8Array.from(b.keyPackage)
        bytes[at]! ^= x
        // A changed suite field can name a suite whose optional packages are absent, or
        // that does not sign with Ed25519; a changed credential or signature key no longer
        // binds the key to the peer id.
        await rejectsWith(inspectKeyPackage(bytes), ['MALFORMED', 'TOO_LARGE', 'UNSUPPORTED_SUITE', 'IDENTITY_MISMATCH'])
      },
    ), { numRuns: 200 })
  })

  it('private state round-trips and refuses garbage', async () => {
    const b = await generateKeyPackage(peer(5), { nowMs: now })
    const p = decodePrivateState(b.privateState)
    expect(hex(encodePrivateState(p))).toBe(hex(b.privateState))
    expect(() => decodePrivateState(new Uint8Array(0))).toThrow(MalformedError)
    expect(() => decodePrivateState(b.privateState.subarray(0, 10))).toThrow(MalformedError)
    expect(() => decodePrivateState(Uint8Array.of(...b.privateState, 1))).toThrow(MalformedError)
    expect(() => decodePrivateState(new Uint8Array(5000))).toThrow(TooLargeError)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), bytes => {
      try {
        decodePrivateState(bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedError)
      }
    }))
  })
})
