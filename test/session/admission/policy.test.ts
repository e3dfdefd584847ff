/**
 * Admission policies: the owner's signature, what a policy must say to be
 * the one a member expects, successor rules, and policy changes in a group.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError } from '../../../src/errors.js'
import { AvSession } from '../../../src/session/av-session.js'
import {
  admitsByName, checkPolicySuccessor, mayInvite, rulesOf, signPolicy, verifySignedPolicy, type AdmissionRules,
} from '../../../src/session/admission/index.js'
import { signWithDomain } from '../../../src/session/identity.js'
import {
  decodeAdmissionPolicy, decodeSignedPolicy, encodeAdmissionPolicy, encodeSignedPolicy,
} from '../../../src/wire/admission-messages.js'
import { MAX_POLICY_ALLOW, MAX_POLICY_INVITERS } from '../../../src/wire/limits.js'
import { streamGroupId, streamKey } from '../../../src/wire/stream-tag.js'
import { expectCode, expectCodeSync, hex, makeJoiner, peer, peerId, STREAM, wire } from '../helpers.js'

const now = Date.now()
const owner = peer(0)

/** A SignedPolicy of `policyBytes` signed with `signer`'s key under the policy domain. */
function signedBy (signer: number, policyBytes: Uint8Array): Uint8Array {
  return encodeSignedPolicy({ policy: Uint8Array.from(policyBytes), signature: Uint8Array.from(signWithDomain(peer(signer).seed, 'fabric admission policy v1', policyBytes)) })
}

const rulesArb: fc.Arbitrary<AdmissionRules> = fc.record({
  admission: fc.constantFrom<'open' | 'closed'>('open', 'closed'),
  allow: fc.array(fc.integer({ min: 0, max: 40 }).map(peerId), { maxLength: 6 }),
  inviters: fc.array(fc.integer({ min: 0, max: 40 }).map(peerId), { maxLength: 3 }),
  knock: fc.boolean(),
})

describe('policy signatures', () => {
  it('a policy signed by its owner verifies and says what the rules say (property)', () => {
    fc.assert(fc.property(rulesArb, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (rules, serial) => {
      const p = verifySignedPolicy(signPolicy(owner, STREAM, rules, serial).bytes, { owner: owner.peerId, stream: STREAM, groupId: streamGroupId(streamKey(owner.peerId, STREAM)) })
      expect(p.policy).toMatchObject({ owner: owner.peerId, stream: STREAM, serial, open: rules.admission === 'open', knock: rules.knock })
      // Repeats dropped, and the owner is never listed: it is admitted and may invite by being the owner.
      const expectedAllow = [...new Set(rules.allow)].filter((id) => id !== owner.peerId)
      expect(p.policy.allow).toEqual(expectedAllow)
      expect(p.policy.inviters).toEqual([...new Set(rules.inviters)].filter((id) => id !== owner.peerId))
      expect(rulesOf(p)).toEqual({ admission: rules.admission, allow: expectedAllow, inviters: p.policy.inviters, knock: rules.knock })
      expect(admitsByName(p, owner.peerId) && mayInvite(p, owner.peerId)).toBe(true)
      for (let n = 1; n <= 40; n++) {
        expect(admitsByName(p, peerId(n))).toBe(rules.admission === 'open' || rules.allow!.includes(peerId(n)))
        expect(mayInvite(p, peerId(n))).toBe(rules.inviters!.includes(peerId(n)))
      }
    }), { numRuns: 60 })
  })

  it('refuses a policy signed by any key but its owner\'s (AUTH_FAILED)', () => {
    const body = decodeSignedPolicy(signPolicy(owner, STREAM, { admission: 'open' }, 0n).bytes).policy
    for (const signer of [1, 2, 3]) expectCodeSync(() => verifySignedPolicy(signedBy(signer, body)), 'AUTH_FAILED')
    // Signed by the owner's key under another domain (an invitation's): not a policy signature.
    const asInvitation = encodeSignedPolicy({ policy: body, signature: Uint8Array.from(signWithDomain(owner.seed, 'fabric invitation v1', body)) })
    expectCodeSync(() => verifySignedPolicy(asInvitation), 'AUTH_FAILED')
    expect(verifySignedPolicy(signedBy(0, body)).policy.owner).toBe(owner.peerId)
    // A policy naming a real peer id as owner but signed by someone else, however well-formed.
    const claimed = encodeAdmissionPolicy({ ...decodeAdmissionPolicy(body), owner: peerId(1), groupId: streamGroupId(streamKey(peerId(1), STREAM)) })
    expectCodeSync(() => verifySignedPolicy(signedBy(0, claimed)), 'AUTH_FAILED')
    expect(verifySignedPolicy(signedBy(1, claimed)).policy.owner).toBe(peerId(1))
  })

  it('refuses a policy with any one byte changed: AUTH_FAILED or MALFORMED, UNSUPPORTED_VERSION or TOO_LARGE where the change reads as a version or a length', () => {
    const signed = signPolicy(owner, STREAM, { allow: [peerId(1), peerId(2)], inviters: [peerId(1)], knock: true }, 7n).bytes
    const decoded = decodeSignedPolicy(signed)
    const bodyAt = hex(signed).indexOf(hex(decoded.policy)) / 2
    const seen = new Set<string>()
    fc.assert(fc.property(fc.nat({ max: signed.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const b = Uint8Array.from(signed)
      b[at]! ^= x
      let err: unknown
      try { verifySignedPolicy(b) } catch (e) { err = e }
      expect(err, `byte ${at} ^ ${x} still verified`).toBeInstanceOf(FabricError)
      seen.add((err as FabricError).code)
      expect(['AUTH_FAILED', 'MALFORMED', 'UNSUPPORTED_VERSION', 'TOO_LARGE']).toContain((err as FabricError).code)
    }), { numRuns: 400 })
    expect(seen.has('AUTH_FAILED') && seen.has('MALFORMED')).toBe(true)
    // Where the change keeps the shape, it is the signature that fails: every bit of the
    // signature, of the serial, of the group id.
    const body = decodeAdmissionPolicy(decoded.policy)
    const groupIdAt = bodyAt + hex(decoded.policy).indexOf(hex(body.groupId)) / 2
    const signatureAt = signed.length - 64
    const positions = [...Array.from({ length: 64 }, (_, i) => signatureAt + i), ...Array.from({ length: 32 }, (_, i) => groupIdAt + i)]
    for (const at of positions) {
      for (let bit = 0; bit < 8; bit += 3) {
        const b = Uint8Array.from(signed)
        b[at]! ^= 1 << bit
        expectCodeSync(() => verifySignedPolicy(b), 'AUTH_FAILED')
      }
    }
    for (const serial of [6n, 8n, 7n + 2n ** 40n]) {
      expectCodeSync(() => verifySignedPolicy(encodeSignedPolicy({ policy: Uint8Array.from(encodeAdmissionPolicy({ ...body, serial })), signature: decoded.signature })), 'AUTH_FAILED')
    }
  })

  it('refuses a SignedPolicy not in canonical encoding, which the decoder alone reads as the same policy (MALFORMED)', () => {
    const signed = signPolicy(owner, STREAM, { allow: [peerId(1)] }, 3n).bytes
    const { policy, signature } = decodeSignedPolicy(signed)
    const field = (tag: number, body: Uint8Array): number[] => [tag, ...(body.length < 128 ? [body.length] : [(body.length & 0x7f) | 0x80, body.length >> 7]), ...body]
    const forms = [
      Uint8Array.of(...field(0x12, signature), ...field(0x0a, policy)), // fields swapped
      Uint8Array.of(...field(0x0a, policy), ...field(0x12, signature), 0x18, 0x00), // an unknown field 3 = 0
    ]
    for (const b of forms) {
      expect(decodeSignedPolicy(b)).toEqual(decodeSignedPolicy(signed))
      expectCodeSync(() => verifySignedPolicy(b), 'MALFORMED')
    }
    // The policy tagged with wire type 3 (a group) is not even decoded: protons
    // would read it by the schema's type, but its framing is a group's
    // (src/wire/message-codec.ts checkFieldFraming).
    const group = Uint8Array.of(...field(0x0b, policy), ...field(0x12, signature))
    expectCodeSync(() => decodeSignedPolicy(group), 'MALFORMED')
    expectCodeSync(() => verifySignedPolicy(group), 'MALFORMED')
    expect(hex(Uint8Array.of(...field(0x0a, policy), ...field(0x12, signature)))).toBe(hex(signed))
  })

  it('refuses a policy whose group id is not its owner\'s and stream\'s, even signed by the owner (MALFORMED)', () => {
    const body = decodeAdmissionPolicy(decodeSignedPolicy(signPolicy(owner, STREAM, {}, 0n).bytes).policy)
    const other = encodeAdmissionPolicy({ ...body, groupId: streamGroupId(streamKey(owner.peerId, 'elsewhere')) })
    expectCodeSync(() => verifySignedPolicy(signedBy(0, other)), 'MALFORMED')
  })

  it('gives OWNER_MISMATCH when owner, stream or group id are not the expected ones', () => {
    const bytes = signPolicy(owner, STREAM, {}, 0n).bytes
    expectCodeSync(() => verifySignedPolicy(bytes, { owner: peerId(1) }), 'OWNER_MISMATCH')
    expectCodeSync(() => verifySignedPolicy(bytes, { stream: 'room2' }), 'OWNER_MISMATCH')
    expectCodeSync(() => verifySignedPolicy(bytes, { groupId: streamGroupId(streamKey(peerId(1), STREAM)) }), 'OWNER_MISMATCH')
    expectCodeSync(() => verifySignedPolicy(bytes, { groupId: new Uint8Array(32) }), 'OWNER_MISMATCH')
    expect(verifySignedPolicy(bytes, { owner: owner.peerId, stream: STREAM }).policy.serial).toBe(0n)
  })

  it('refuses rules beyond the list bounds, and identities that are not identities', () => {
    const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `id${i}`)
    expect(signPolicy(owner, STREAM, { allow: many(MAX_POLICY_ALLOW), inviters: many(MAX_POLICY_INVITERS) }, 0n).policy.allow).toHaveLength(MAX_POLICY_ALLOW)
    expectCodeSync(() => signPolicy(owner, STREAM, { allow: many(MAX_POLICY_ALLOW + 1) }, 0n), 'TOO_LARGE')
    expectCodeSync(() => signPolicy(owner, STREAM, { inviters: many(MAX_POLICY_INVITERS + 1) }, 0n), 'TOO_LARGE')
    expectCodeSync(() => signPolicy(owner, STREAM, { allow: ['not/an/id'] }, 0n), 'MALFORMED')
    expectCodeSync(() => signPolicy(owner, '', {}, 0n), 'MALFORMED')
  })
})

describe('policy successors', () => {
  it('a successor has the same owner, stream and group, and a higher serial (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1000n }), rulesArb, rulesArb, (a, b, ra, rb) => {
      const current = signPolicy(owner, STREAM, ra, a)
      const next = signPolicy(owner, STREAM, rb, b)
      if (b > a) checkPolicySuccessor(current, next)
      else expectCodeSync(() => checkPolicySuccessor(current, next), 'NOT_ADMITTED')
    }), { numRuns: 100 })
    const p0 = signPolicy(owner, STREAM, {}, 0n)
    expectCodeSync(() => checkPolicySuccessor(p0, signPolicy(peer(1), STREAM, {}, 1n)), 'NOT_ADMITTED')
    expectCodeSync(() => checkPolicySuccessor(p0, signPolicy(owner, 'room2', {}, 1n)), 'NOT_ADMITTED')
  })

  it('only the owner changes a group\'s policy; every member follows it, serial by serial', async () => {
    const creator = await AvSession.create({ identity: owner, stream: STREAM, admission: { allow: [peerId(1), peerId(2)] }, nowMs: now })
    expect(creator.admission).toEqual({ admission: 'closed', allow: [peerId(1), peerId(2)], inviters: [], knock: false, serial: 0n })
    const joiners = await Promise.all([1, 2].map(async (n) => await makeJoiner(n, now)))
    const add = await creator.prepareAdd(joiners.map((j) => wire(j.keyPackage)), { nowMs: now })
    expect(add.policyChange).toBe(false)
    await creator.applyPending(add, now)
    const [bob, carol] = await Promise.all(joiners.map(async (j) => await j.join(add.welcome!, now)))
    await expectCode(bob!.prepareUpdatePolicy({ admission: 'open' }, now), 'NOT_ADMITTED')
    expect(bob!.pending).toBeUndefined()
    for (let serial = 1n; serial <= 3n; serial++) {
      const rules: AdmissionRules = { allow: [peerId(1), peerId(2), peerId(Number(serial) + 10)], inviters: serial === 2n ? [peerId(2)] : [], knock: serial === 3n }
      const p = await creator.prepareUpdatePolicy(rules, now)
      expect(p.policyChange).toBe(true)
      expect(p.welcome).toBeUndefined()
      await creator.applyPending(p, now)
      for (const s of [bob!, carol!]) await s.processCommit(wire(p.commit), now)
      for (const s of [creator, bob!, carol!]) {
        expect(s.admission).toEqual({ admission: 'closed', allow: rules.allow, inviters: rules.inviters, knock: rules.knock, serial })
        expect(s.mayInvite).toBe(s === creator || (serial === 2n && s === carol))
      }
    }
    expect(new Set([creator, bob!, carol!].map((s) => s.safetyCode())).size).toBe(1)
  })

  it('the default policy admits nobody but the owner', async () => {
    const creator = await AvSession.create({ identity: owner, stream: STREAM, nowMs: now })
    expect(creator.admission).toEqual({ admission: 'closed', allow: [], inviters: [], knock: false, serial: 0n })
    expect(creator.decideJoin(peerId(1), undefined, now)).toMatchObject({ kind: 'deny' })
    const bob = await makeJoiner(1, now)
    await expectCode(creator.prepareAdd([wire(bob.keyPackage)], { nowMs: now }), 'NOT_ADMITTED')
    expect(creator.pending).toBeUndefined()
    expect(creator.epoch).toBe(0n)
  })
})
