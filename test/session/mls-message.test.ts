import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { decodeMlsMessage, encodeMlsMessage } from 'ts-mls'
import { AvSession } from '../../src/session/av-session.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import { decodeWholeMlsMessage } from '../../src/session/mls-message.js'
import { inspectKeyPackage } from '../../src/session/inspect.js'
import { FabricError, MalformedError } from '../../src/errors.js'
import { errorOf } from '../crypto/helpers.js'
import { hex, makeJoiner, peer, STREAM, wire } from './helpers.js'

const now = Date.now()

/** A two-member group and a pending Commit adding a third (no UpdatePath), plus its Welcome and KeyPackage. */
async function fixture (): Promise<{ bob: AvSession, commit: Uint8Array, welcome: Uint8Array, keyPackage: Uint8Array }> {
  const creator = await AvSession.create({ identity: peer(0), stream: STREAM, admission: { admission: 'open' }, nowMs: now })
  const j = await makeJoiner(1, now)
  const add = await creator.prepareAdd([wire(j.keyPackage)], { nowMs: now })
  await creator.applyPending(add, now)
  const bob = await j.join(add.welcome!, now)
  const carol = await generateKeyPackage(peer(2), { nowMs: now })
  const p = await creator.prepareAdd([carol.keyPackage], { nowMs: now })
  return { bob, commit: wire(p.commit), welcome: wire(p.welcome!), keyPackage: wire(carol.keyPackage) }
}

/** ts-mls's own view of `bytes`: the message's canonical encoding, or undefined when it does not decode whole. */
function libraryReading (bytes: Uint8Array): string | undefined {
  try {
    const d = decodeMlsMessage(bytes, 0)
    return d === undefined || d[1] !== bytes.length ? undefined : hex(encodeMlsMessage(d[0]))
  } catch {
    return undefined
  }
}

describe('decodeWholeMlsMessage: canonical encoding only', () => {
  it('refuses a Commit whose absent-UpdatePath octet is not 0, which ts-mls alone reads as the original Commit', async () => {
    const { bob, commit } = await fixture()
    // Find the octets ts-mls 1.6 decodes leniently: a change that still reads as the same message.
    const lenient: number[] = []
    for (let at = 0; at < commit.length; at++) {
      const b = wire(commit)
      b[at]! ^= 0x02
      if (libraryReading(b) === hex(commit)) lenient.push(at)
    }
    expect(lenient.length).toBeGreaterThan(0)
    const keyBefore = hex(await bob.exportSFrameBaseKey())
    for (const at of lenient) {
      const b = wire(commit)
      b[at]! ^= 0x02
      const err = errorOf(() => decodeWholeMlsMessage('Commit', b))
      expect(err).toBeInstanceOf(MalformedError)
      expect((err as Error).message).toMatch(/canonical/)
      await expect(bob.processCommit(b, now)).rejects.toSatisfy((e: unknown) => e instanceof FabricError && e.code === 'MALFORMED')
    }
    expect(bob.epoch).toBe(1n)
    expect(hex(await bob.exportSFrameBaseKey())).toBe(keyBefore)
  })

  it('refuses a KeyPackage whose init_key length is not in its shortest varint, which ts-mls alone reads as the original', async () => {
    const { keyPackage } = await fixture()
    // MLSMessage: version (2), wire_format (2); KeyPackage: version (2), cipher_suite (2), then init_key<V>.
    const at = 8
    expect(keyPackage[at]).toBeLessThan(64) // a 1-byte varint length (a 32-byte X25519 key)
    const padded = Uint8Array.of(...keyPackage.subarray(0, at), 0x40, keyPackage[at]!, ...keyPackage.subarray(at + 1))
    expect(libraryReading(padded)).toBe(hex(keyPackage))
    const err = errorOf(() => decodeWholeMlsMessage('KeyPackage', padded))
    expect(err).toBeInstanceOf(MalformedError)
    expect((err as Error).message).toMatch(/canonical/)
    await expect(inspectKeyPackage(padded)).rejects.toThrow(MalformedError)
  })

  it('never reads a single-byte change of a Commit, Welcome or KeyPackage as the original message', async () => {
    const { commit, welcome, keyPackage } = await fixture()
    for (const [what, original] of [['Commit', commit], ['Welcome', welcome], ['KeyPackage', keyPackage]] as const) {
      const canonical = hex(encodeMlsMessage(decodeWholeMlsMessage(what, original)))
      expect(canonical).toBe(hex(original))
      fc.assert(fc.property(
        fc.nat({ max: original.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          const b = wire(original)
          b[at]! ^= x
          let read: string | undefined
          try {
            read = hex(encodeMlsMessage(decodeWholeMlsMessage(what, b)))
          } catch (err) {
            expect(err).toBeInstanceOf(MalformedError)
            return
          }
          expect(read).not.toBe(canonical)
          expect(read).toBe(hex(b))
        },
      ), { numRuns: 2000 })
    }
  })
})
