/**
 * Safety codes: the epoch code every member of an epoch shows (30 digits
 * from the MLS epoch authenticator), and identity fingerprints (20 digits).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AvSession } from '../../../src/session/av-session.js'
import { digitGroups, EPOCH_CODE_DIGITS, epochCode, FINGERPRINT_DIGITS, identityFingerprint } from '../../../src/session/admission/index.js'
import { expectCodeSync, makeJoiner, peer, peerId, STREAM, wire } from '../helpers.js'

const now = Date.now()
const EPOCH_CODE = /^\d{5}( \d{5}){5}$/
const FINGERPRINT = /^\d{5}( \d{5}){3}$/

describe('epoch safety codes', () => {
  it('are equal at every member of an epoch, 30 digits in groups of 5, and new at every epoch', async () => {
    expect(EPOCH_CODE_DIGITS).toBe(30)
    const owner = await AvSession.create({ identity: peer(0), stream: STREAM, admission: { admission: 'open' }, nowMs: now })
    const seen = new Set<string>([owner.safetyCode()])
    expect(owner.safetyCode()).toMatch(EPOCH_CODE)
    const members: AvSession[] = [owner]
    for (let n = 1; n <= 4; n++) {
      const j = await makeJoiner(n, now)
      const add = await owner.prepareAdd([wire(j.keyPackage)], { nowMs: now })
      // Nothing changes before the Commit is applied.
      expect(owner.safetyCode()).toBe([...seen].at(-1))
      await owner.applyPending(add, now)
      for (const s of members.slice(1)) await s.processCommit(wire(add.commit), now)
      members.push(await j.join(add.welcome!, now))
      const codes = new Set(members.map((s) => s.safetyCode()))
      expect(codes.size).toBe(1)
      const code = [...codes][0]!
      expect(code).toMatch(EPOCH_CODE)
      expect(seen.has(code)).toBe(false)
      seen.add(code)
    }
    // A removal moves everyone left to a new code; the removed member cannot show one.
    const rm = await owner.prepareRemove([peerId(2)])
    await owner.applyPending(rm, now)
    for (const s of members.slice(1)) await s.processCommit(wire(rm.commit), now)
    const left = members.filter((s) => !s.removed)
    expect(left).toHaveLength(4)
    expect(new Set(left.map((s) => s.safetyCode())).size).toBe(1)
    expect(seen.has(owner.safetyCode())).toBe(false)
    expectCodeSync(() => members[2]!.safetyCode(), 'REMOVED')
  })

  it('are the same for two groups only by chance: another group of the same members shows another code', async () => {
    const codes = await Promise.all(['a', 'b'].map(async (stream) => (await AvSession.create({ identity: peer(0), stream, nowMs: now })).safetyCode()))
    expect(codes[0]).not.toBe(codes[1])
  })
})

describe('identity fingerprints', () => {
  it('are 20 digits in groups of 5, the same at every member for an identity, and differ across identities', async () => {
    expect(FINGERPRINT_DIGITS).toBe(20)
    const owner = await AvSession.create({ identity: peer(0), stream: STREAM, admission: { admission: 'open' }, nowMs: now })
    const j = await makeJoiner(1, now)
    const add = await owner.prepareAdd([wire(j.keyPackage)], { nowMs: now })
    await owner.applyPending(add, now)
    const bob = await j.join(add.welcome!, now)
    expect(owner.fingerprint()).toBe(bob.fingerprint(peerId(0)))
    expect(bob.fingerprint()).toBe(owner.fingerprint(peerId(1)))
    const prints = new Set<string>()
    for (let n = 0; n < 60; n++) {
      const f = identityFingerprint(peerId(n))
      expect(f).toMatch(FINGERPRINT)
      expect(identityFingerprint(peerId(n))).toBe(f)
      prints.add(f)
    }
    expect(prints.size).toBe(60)
    expectCodeSync(() => owner.fingerprint('alice'), 'MALFORMED')
  })
})

describe('digitGroups (property)', () => {
  it('always gives the asked-for number of 5-digit groups, each the group\'s 5 bytes mod 100 000', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }).chain((g) => fc.tuple(fc.constant(g), fc.uint8Array({ minLength: 5 * g, maxLength: 5 * g + 10 }))), ([g, bytes]) => {
      const out = digitGroups(bytes, g)
      expect(out).toMatch(new RegExp(`^\\d{5}( \\d{5}){${g - 1}}$`))
      out.split(' ').forEach((group, i) => {
        const n = bytes.subarray(5 * i, 5 * i + 5).reduce((acc, b) => acc * 256 + b, 0)
        expect(Number(group)).toBe(n % 100_000)
      })
      // Bytes beyond the groups do not count.
      expect(digitGroups(bytes.subarray(0, 5 * g), g)).toBe(out)
    }), { numRuns: 300 })
  })

  it('refuses input too short for the groups (RangeError)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }).chain((g) => fc.tuple(fc.constant(g), fc.uint8Array({ maxLength: 5 * g - 1 }))), ([g, bytes]) => {
      expect(() => digitGroups(bytes, g)).toThrow(RangeError)
    }), { numRuns: 200 })
    expect(() => epochCode(new Uint8Array(29))).toThrow(RangeError)
    expect(epochCode(new Uint8Array(32))).toBe('00000 00000 00000 00000 00000 00000')
    expect(epochCode(new Uint8Array(32).fill(0xff))).toBe(Array(6).fill(String((2 ** 40 - 1) % 100_000).padStart(5, '0')).join(' '))
  })
})
