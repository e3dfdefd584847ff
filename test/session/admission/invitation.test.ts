/**
 * Invitations: what admits, and every way one fails to, each refused by the
 * committer (decideJoin, and prepareAdd even when handed the evidence) and
 * by the members (the check they run on a Commit, and a rogue member's
 * Commit carrying the evidence in the ledger).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  admissionExtensions, checkCommitAdmission, checkRedemption, createInvitation, INVITATION_EXPIRY_GRACE_SECONDS, nextLedger,
  parseInvitationToken, redeemInvitation, TOKEN_PREFIX, MAX_TOKEN_TEXT, type NewAdmission,
} from '../../../src/session/admission/index.js'
import { signWithDomain } from '../../../src/session/identity.js'
import { generateKeyPackage } from '../../../src/session/key-package.js'
import { decodeRedemption, encodeInvitationToken, encodeRedemption, decodeInvitationToken } from '../../../src/wire/admission-messages.js'
import { expectCode, expectCodeSync, makeJoiner, peer, peerId, STREAM, wire } from '../helpers.js'
import {
  commitEverywhere, evidenceOf, expectRefusedByAll, groupWithRogue, redeem, rogueAdd, rogueAdmission, rogueMembers, type Fixture,
} from './fixture.js'

const now = Date.now()
const nowSeconds = BigInt(Math.floor(now / 1000))
const ROGUE = 10
const DAVE = 3
const EVE = 4
const FRANK = 5

/** peer(0)'s STREAM: bob (1) an inviter, carol (2) allowed, the rogue (10) allowed. */
async function fixture (): Promise<Fixture> {
  return await groupWithRogue({
    rules: { allow: [peerId(1), peerId(2), peerId(ROGUE)], inviters: [peerId(1)] },
    members: [1, 2],
    rogue: ROGUE,
    nowMs: now,
  })
}

/** The Redemption `joiner` would present for `token` if it signed it itself (no invitee check). */
function redeemAnyway (tokenText: string, joiner: string): Uint8Array {
  const t = parseInvitationToken(tokenText)
  const name = new TextEncoder().encode(joiner)
  const content = new Uint8Array(t.invitation.id.length + name.length)
  content.set(t.invitation.id)
  content.set(name, t.invitation.id.length)
  return encodeRedemption({ invitation: t.signed, joiner, signature: Uint8Array.from(signWithDomain(t.seed, 'fabric invitation redemption v1', content)) })
}

/** The check every member runs on a Commit that adds `joiner` recording `evidence`, at `atSeconds`. */
function memberCheck (f: Fixture, joiner: string, evidence: NewAdmission, atSeconds = nowSeconds): void {
  const before = rogueAdmission(f)
  const members = rogueMembers(f)
  const ledger = nextLedger(before.ledger, new Set([...members, joiner, evidence.admission.identity]), [evidence])
  checkCommitAdmission({
    before,
    afterExtensions: admissionExtensions(before.policy.bytes, ledger),
    added: [joiner],
    survivors: new Set([...members, joiner]),
    nowSeconds: atSeconds,
  })
}

/** Refused at the committer and at every member, every member keeping its epoch. */
async function expectRefusedEverywhere (f: Fixture, joiner: number, redemption: Uint8Array): Promise<void> {
  const id = peerId(joiner)
  expect(f.owner.decideJoin(id, redemption, now).kind).toBe('deny')
  const kp = await generateKeyPackage(peer(joiner), { nowMs: now })
  const evidence = evidenceOf(redemption)
  await expectCode(f.owner.prepareAdd([kp.keyPackage], { nowMs: now, admissions: [evidence] }), 'NOT_ADMITTED')
  expect(f.owner.pending).toBeUndefined()
  expectCodeSync(() => memberCheck(f, id, evidence), 'NOT_ADMITTED')
  await expectRefusedByAll(f.honest, await rogueAdd(f, [kp.keyPackage], [evidence]), ['NOT_ADMITTED'], now)
}

describe('invitations that admit', () => {
  it('an owner\'s invitation admits its holder at the committer and at every member, and the joiner finds itself admitted', async () => {
    const f = await fixture()
    const token = f.owner.createInvitation({ nowMs: now })
    expect(token.text.startsWith(TOKEN_PREFIX)).toBe(true)
    expect(token.invitation).toMatchObject({ owner: peerId(0), stream: STREAM, issuer: peerId(0), invitee: '', maxUses: 1 })
    const d = f.owner.decideJoin(peerId(DAVE), redeem(token.text, peerId(DAVE)), now)
    expect(d.kind).toBe('evidence')
    const dave = await makeJoiner(DAVE, now)
    const add = await f.owner.prepareAdd([wire(dave.keyPackage)], { nowMs: now, admissions: [(d as { admission: NewAdmission }).admission] })
    await commitEverywhere(f, add, now)
    const s = await dave.join(add.welcome!, now)
    expect(s.safetyCode()).toBe(f.owner.safetyCode())
    expect([...rogueAdmission(f).ledger.admitted.keys()]).toEqual([peerId(DAVE)])
  })

  it('a listed inviter can invite; a member that is not one cannot; the inviter stops being able to once the owner drops it', async () => {
    const f = await fixture()
    const [, bob, carol] = f.honest as [typeof f.owner, typeof f.owner, typeof f.owner]
    expect([f.owner.mayInvite, bob.mayInvite, carol.mayInvite]).toEqual([true, true, false])
    expectCodeSync(() => carol.createInvitation({ nowMs: now }), 'NOT_ADMITTED')
    expectCodeSync(() => carol.approveKnock(peerId(DAVE), now), 'NOT_ADMITTED')
    const first = bob.createInvitation({ nowMs: now })
    const spare = bob.createInvitation({ nowMs: now })
    expect(first.invitation.issuer).toBe(peerId(1))
    const d = f.owner.decideJoin(peerId(DAVE), redeem(first.text, peerId(DAVE)), now)
    expect(d.kind).toBe('evidence')
    const dave = await makeJoiner(DAVE, now)
    const add = await f.owner.prepareAdd([wire(dave.keyPackage)], { nowMs: now, admissions: [(d as { admission: NewAdmission }).admission] })
    await commitEverywhere(f, add, now)
    await dave.join(add.welcome!, now)

    // Dropping bob from the inviters would strand dave, whom only bob's invitation admits.
    const narrower = { allow: [peerId(1), peerId(2), peerId(ROGUE)], inviters: [] }
    await expectCode(f.owner.prepareUpdatePolicy(narrower, now), 'NOT_ADMITTED')
    const rm = await f.owner.prepareRemove([peerId(DAVE)])
    await commitEverywhere(f, rm, now)
    await commitEverywhere(f, await f.owner.prepareUpdatePolicy(narrower, now), now)
    expect(bob.mayInvite).toBe(false)
    expectCodeSync(() => bob.createInvitation({ nowMs: now }), 'NOT_ADMITTED')
    expectCodeSync(() => bob.approveKnock(peerId(EVE), now), 'NOT_ADMITTED')
    // bob's earlier, unused invitation admits nobody now.
    await expectRefusedEverywhere(f, EVE, redeem(spare.text, peerId(EVE)))
  })

  it('max_uses: an invitation admits that many identities, across Commits and within one', async () => {
    const f = await fixture()
    const token = f.owner.createInvitation({ nowMs: now, maxUses: 2 })
    const [dave, eve] = await Promise.all([makeJoiner(DAVE, now), makeJoiner(EVE, now)])
    const dd = f.owner.decideJoin(peerId(DAVE), redeem(token.text, peerId(DAVE)), now)
    const id = (dd as { admission: NewAdmission }).admission.invitationId
    const pending = new Map([[Buffer.from(id).toString('hex'), 1]])
    const de = f.owner.decideJoin(peerId(EVE), redeem(token.text, peerId(EVE)), now, pending)
    expect([dd.kind, de.kind]).toEqual(['evidence', 'evidence'])
    // Counted within the Commit being built: a third is refused.
    expect(f.owner.decideJoin(peerId(FRANK), redeem(token.text, peerId(FRANK)), now, new Map([[Buffer.from(id).toString('hex'), 2]])).kind).toBe('deny')
    const frank = await generateKeyPackage(peer(FRANK), { nowMs: now })
    const three = [dd, de].map((d) => (d as { admission: NewAdmission }).admission).concat(evidenceOf(redeem(token.text, peerId(FRANK))))
    await expectCode(f.owner.prepareAdd([dave.keyPackage, eve.keyPackage, frank.keyPackage], { nowMs: now, admissions: three }), 'NOT_ADMITTED')
    await expectRefusedByAll(f.honest, await rogueAdd(f, [dave.keyPackage, eve.keyPackage, frank.keyPackage], three), ['NOT_ADMITTED'], now)
    // Two in one Commit, then the third is a reuse.
    const add = await f.owner.prepareAdd([dave.keyPackage, eve.keyPackage], { nowMs: now, admissions: three.slice(0, 2) })
    await commitEverywhere(f, add, now)
    expect([...rogueAdmission(f).ledger.uses.values()]).toEqual([2])
    await expectRefusedEverywhere(f, FRANK, redeem(token.text, peerId(FRANK)))
  })
})

describe('invitations that do not admit', () => {
  const refusals: Array<[string, (f: Fixture) => Uint8Array]> = [
    ['signed by an identity that may not invite', () => redeem(createInvitation(peer(7), peerId(0), STREAM, { expiresAtSeconds: nowSeconds + 3600n }).text, peerId(DAVE))],
    // carol is a member (on the allow list) but not an inviter.
    ['signed by a member that may not invite', () => redeem(createInvitation(peer(2), peerId(0), STREAM, { expiresAtSeconds: nowSeconds + 3600n }).text, peerId(DAVE))],
    ['with its issuer signature altered', (f) => {
      const r = decodeRedemption(redeem(f.owner.createInvitation({ nowMs: now }).text, peerId(DAVE)))
      const signature = Uint8Array.from(r.invitation!.signature)
      signature[0]! ^= 1
      return encodeRedemption({ ...r, invitation: { invitation: r.invitation!.invitation, signature } })
    }],
    ['with its body altered under the issuer signature (more uses)', (f) => {
      const t = f.owner.createInvitation({ nowMs: now })
      const forged = createInvitation(peer(0), peerId(0), STREAM, { expiresAtSeconds: nowSeconds + 3600n, maxUses: 100 })
      // The body of another invitation under this one's signature.
      const token = { invitation: { invitation: forged.signed.invitation, signature: t.signed.signature }, seed: Uint8Array.from(forged.seed) }
      return redeem(TOKEN_PREFIX + Buffer.from(encodeInvitationToken(token)).toString('base64url'), peerId(DAVE))
    }],
    ['long expired (beyond the members\' slack too)', (f) => redeem(f.owner.createInvitation({ nowMs: now - 3_600_000, lifetimeSeconds: 60 }).text, peerId(DAVE))],
    ['named for another invitee', (f) => redeemAnyway(f.owner.createInvitation({ nowMs: now, invitee: peerId(EVE) }).text, peerId(DAVE))],
    ['redeemed by another joiner than the one presenting it', (f) => redeem(f.owner.createInvitation({ nowMs: now }).text, peerId(EVE))],
    ['for another stream of the owner', () => redeem(createInvitation(peer(0), peerId(0), 'other-room', { expiresAtSeconds: nowSeconds + 3600n }).text, peerId(DAVE))],
    ['for the same stream name of another owner', () => redeem(createInvitation(peer(6), peerId(6), STREAM, { expiresAtSeconds: nowSeconds + 3600n }).text, peerId(DAVE))],
    ['re-targeted: its joiner changed after the signature', (f) => {
      const r = decodeRedemption(redeem(f.owner.createInvitation({ nowMs: now }).text, peerId(EVE)))
      return encodeRedemption({ ...r, joiner: peerId(DAVE) })
    }],
  ]

  it.each(refusals)('refuses one %s, at the committer and at every member', async (_, make) => {
    const f = await fixture()
    await expectRefusedEverywhere(f, DAVE, make(f))
    // The group goes on: a good invitation still works.
    const d = f.owner.decideJoin(peerId(FRANK), redeem(f.owner.createInvitation({ nowMs: now }).text, peerId(FRANK)), now)
    const frank = await generateKeyPackage(peer(FRANK), { nowMs: now })
    await commitEverywhere(f, await f.owner.prepareAdd([frank.keyPackage], { nowMs: now, admissions: [(d as { admission: NewAdmission }).admission] }), now)
  })

  it('redeemInvitation refuses to redeem an invitation named for someone else; the invitee can', async () => {
    const f = await fixture()
    const token = f.owner.createInvitation({ nowMs: now, invitee: peerId(EVE) })
    expectCodeSync(() => redeemInvitation(parseInvitationToken(token.text), peerId(DAVE)), 'NOT_ADMITTED')
    expect(f.owner.decideJoin(peerId(EVE), redeem(token.text, peerId(EVE)), now).kind).toBe('evidence')
  })

  it('a redemption signs its joiner: changing the joiner to any other identity breaks it (property)', async () => {
    const f = await fixture()
    const token = f.owner.createInvitation({ nowMs: now, maxUses: 50 })
    const honest = decodeRedemption(redeem(token.text, peerId(EVE)))
    const policy = rogueAdmission(f).policy
    expect(checkRedemption(honest, policy, peerId(EVE)).invitation.maxUses).toBe(50)
    fc.assert(fc.property(fc.integer({ min: 0, max: 254 }).filter((n) => n !== EVE), (n) => {
      const retargeted = { ...honest, joiner: peerId(n) }
      expectCodeSync(() => checkRedemption(retargeted, policy, peerId(n)), 'NOT_ADMITTED')
      // And presented as is by anyone else, it is not theirs.
      expectCodeSync(() => checkRedemption(honest, policy, peerId(n)), 'NOT_ADMITTED')
    }), { numRuns: 40 })
  })
})

describe('invitation expiry', () => {
  it('the committer checks it strictly; members give INVITATION_EXPIRY_GRACE_SECONDS of slack, and no more', async () => {
    const f = await fixture()
    const token = f.owner.createInvitation({ nowMs: now, lifetimeSeconds: 60 })
    const expiresAt = token.invitation.expiresAt
    const atMs = (s: bigint): number => Number(s) * 1000
    const redemption = redeem(token.text, peerId(DAVE))
    expect(f.owner.decideJoin(peerId(DAVE), redemption, atMs(expiresAt)).kind).toBe('evidence')
    expect(f.owner.decideJoin(peerId(DAVE), redemption, atMs(expiresAt + 1n)).kind).toBe('deny')
    const kp = await generateKeyPackage(peer(DAVE), { nowMs: now })
    const evidence = evidenceOf(redemption)
    // prepareAdd holds the committer to the strict clock even when handed the evidence.
    await expectCode(f.owner.prepareAdd([kp.keyPackage], { nowMs: atMs(expiresAt + 1n), admissions: [evidence] }), 'NOT_ADMITTED')
    const grace = BigInt(INVITATION_EXPIRY_GRACE_SECONDS)
    memberCheck(f, peerId(DAVE), evidence, expiresAt + grace)
    expectCodeSync(() => memberCheck(f, peerId(DAVE), evidence, expiresAt + grace + 1n), 'NOT_ADMITTED')

    // A Commit made in time reaches members late: refused past the slack, taken within it.
    const add = await f.owner.prepareAdd([kp.keyPackage], { nowMs: atMs(expiresAt), admissions: [evidence] })
    for (const s of f.honest.slice(1)) await expectCode(s.processCommit(wire(add.commit), atMs(expiresAt + grace + 1n)), 'NOT_ADMITTED')
    for (const s of f.honest.slice(1)) expect((await s.processCommit(wire(add.commit), atMs(expiresAt + grace))).epoch).toBe(2n)
    await f.owner.applyPending(add, atMs(expiresAt))
    expect(new Set(f.honest.map((s) => s.safetyCode())).size).toBe(1)
  })
})

describe('invitation tokens', () => {
  it('parse only from their text form, with the seed of the invitation key', async () => {
    const f = await fixture()
    const token = f.owner.createInvitation({ nowMs: now })
    expect(parseInvitationToken(`  ${token.text}\n`).text).toBe(token.text)
    expectCodeSync(() => parseInvitationToken(token.text.slice(TOKEN_PREFIX.length)), 'MALFORMED')
    expectCodeSync(() => parseInvitationToken(`${TOKEN_PREFIX}not base64!`), 'MALFORMED')
    expectCodeSync(() => parseInvitationToken(`${TOKEN_PREFIX}${'A'.repeat(MAX_TOKEN_TEXT)}`), 'TOO_LARGE')
    expectCodeSync(() => parseInvitationToken(`${TOKEN_PREFIX}AAAA`), 'MALFORMED')
    // A token whose seed is not the invitation key's is refused.
    const body = decodeInvitationToken(new Uint8Array(Buffer.from(token.text.slice(TOKEN_PREFIX.length), 'base64url')))
    const wrongSeed = encodeInvitationToken({ ...body, seed: new Uint8Array(32).fill(3) })
    expectCodeSync(() => parseInvitationToken(TOKEN_PREFIX + Buffer.from(wrongSeed).toString('base64url')), 'MALFORMED')
    // Every invitation is its own: fresh id and key.
    const other = f.owner.createInvitation({ nowMs: now })
    expect(Buffer.from(other.invitation.id).equals(Buffer.from(token.invitation.id))).toBe(false)
    expect(Buffer.from(other.invitation.key).equals(Buffer.from(token.invitation.key))).toBe(false)
    expect(() => f.owner.createInvitation({ nowMs: now, lifetimeSeconds: 0 })).toThrow(RangeError)
  })
})
