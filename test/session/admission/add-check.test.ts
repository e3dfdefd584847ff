/**
 * The Add check, committer side and member side: decideJoin admits exactly
 * whom the rules admit, prepareAdd succeeds exactly for them, and a rogue
 * Commit (made with ts-mls directly by a member of the group) that adds
 * anyone else, or tampers with the ledger or the policy, is refused by every
 * honest member, which keeps its epoch and its SFrame key and goes on with
 * the next honest Commit.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AvSession } from '../../../src/session/av-session.js'
import {
  admissionExtensions, createInvitation, nextLedger, readAdmissionState, signPolicy, type AdmissionRules, type NewAdmission,
} from '../../../src/session/admission/index.js'
import { decodeRedemption, encodeAdmissionLedger, encodeRedemption, encodeSignedPolicy, decodeSignedPolicy } from '../../../src/wire/admission-messages.js'
import { signWithDomain } from '../../../src/session/identity.js'
import { generateKeyPackage } from '../../../src/session/key-package.js'
import { expectCode, makeJoiner, peer, peerId, STREAM, wire } from '../helpers.js'
import {
  commitEverywhere, evidenceOf, expectRefusedByAll, groupWithRogue, redeem, resign, rogueAdd, rogueAdmission, rogueMembers,
  type Fixture,
} from './fixture.js'
import { contextOf, keyPackageOf, addOf } from './raw.js'

const now = Date.now()
const HOUR = 3_600_000

type PolicyKind = 'open' | 'allow' | 'inviters' | 'knock'
type Evidence = 'none' | 'valid' | 'forged-issuer' | 'forged-signature' | 'expired' | 'reused'

interface JoinerSpec {
  onAllow: boolean
  evidence: Evidence
  /** For a knock: whether the committer's app approves it. */
  approve: boolean
}

const ROGUE = 10
/** Admitted by invitation 0 (one use) in the first Commit, so later redemptions of it are reuses. */
const EARLY = 11
const FORGER = 50

const scenario = fc.record({
  kind: fc.constantFrom<PolicyKind>('open', 'allow', 'inviters', 'knock'),
  honestMembers: fc.integer({ min: 0, max: 2 }),
  joiners: fc.array(fc.record<JoinerSpec>({
    onAllow: fc.boolean(),
    evidence: fc.constantFrom<Evidence>('none', 'valid', 'forged-issuer', 'forged-signature', 'expired', 'reused'),
    approve: fc.boolean(),
  }), { minLength: 1, maxLength: 3 }),
  inviterIssues: fc.boolean(),
})

/** Flips a bit of the issuer's signature inside a Redemption. */
function withForgedSignature (redemption: Uint8Array): Uint8Array {
  const r = decodeRedemption(redemption)
  const signature = Uint8Array.from(r.invitation!.signature)
  signature[7]! ^= 0x10
  return encodeRedemption({ ...r, invitation: { invitation: r.invitation!.invitation, signature } })
}

describe('the Add check (property)', () => {
  it('admits exactly whom the rules admit, at the committer and at every member', async () => {
    await fc.assert(fc.asyncProperty(scenario, async ({ kind, honestMembers, joiners, inviterIssues }) => {
      const members = Array.from({ length: kind === 'inviters' ? Math.max(1, honestMembers) : honestMembers }, (_, i) => i + 1)
      const joinerIds = joiners.map((_, i) => peerId(20 + i))
      const rules: AdmissionRules = {
        admission: kind === 'open' ? 'open' : 'closed',
        allow: [...members.map(peerId), peerId(ROGUE), ...joinerIds.filter((_, i) => joiners[i]!.onAllow)],
        inviters: kind === 'inviters' ? [peerId(1)] : [],
        knock: kind === 'knock',
      }
      let token0 = ''
      const f = await groupWithRogue({
        rules, members, rogue: ROGUE, nowMs: now,
        withEvidence: [{ who: EARLY, redemption: (owner) => { token0 = owner.createInvitation({ nowMs: now, maxUses: 1 }).text; return redeem(token0, peerId(EARLY)) } }],
      })
      const issuer: AvSession = kind === 'inviters' && inviterIssues ? f.honest[1]! : f.owner

      // What each joiner presents.
      const redemptions = joiners.map((j, i): Uint8Array | undefined => {
        const id = joinerIds[i]!
        switch (j.evidence) {
          case 'none': return undefined
          case 'valid': return redeem(issuer.createInvitation({ nowMs: now }).text, id)
          case 'forged-issuer': return redeem(createInvitation(peer(FORGER), peerId(0), STREAM, { expiresAtSeconds: BigInt(Math.floor(now / 1000) + 3600) }).text, id)
          case 'forged-signature': return withForgedSignature(redeem(f.owner.createInvitation({ nowMs: now }).text, id))
          case 'expired': return redeem(f.owner.createInvitation({ nowMs: now - HOUR, lifetimeSeconds: 60 }).text, id)
          case 'reused': return redeem(token0, id)
        }
        return undefined
      })
      const byName = (i: number): boolean => kind === 'open' || joiners[i]!.onAllow

      // decideJoin: exactly the rules.
      const evidence = new Map<string, NewAdmission>()
      const admitted = new Set<string>()
      for (const [i, j] of joiners.entries()) {
        const id = joinerIds[i]!
        const d = f.owner.decideJoin(id, redemptions[i], now)
        const expected = byName(i) ? 'admit' : j.evidence === 'valid' ? 'evidence' : j.evidence !== 'none' ? 'deny' : kind === 'knock' ? 'knock' : 'deny'
        expect(d.kind, `${j.evidence} under ${kind}`).toBe(expected)
        if (d.kind === 'admit') admitted.add(id)
        if (d.kind === 'evidence') { admitted.add(id); evidence.set(id, d.admission) }
        if (d.kind === 'knock' && j.approve) { admitted.add(id); evidence.set(id, f.owner.approveKnock(id, now)) }
        // Evidence decideJoin refused, handed to prepareAdd anyway.
        if (d.kind === 'deny' && redemptions[i] !== undefined) evidence.set(id, evidenceOf(redemptions[i]))
      }

      // prepareAdd: succeeds exactly for the admitted, one by one.
      const kps = await Promise.all(joinerIds.map(async (_, i) => await makeJoiner(20 + i, now)))
      for (const [i, id] of joinerIds.entries()) {
        const admissions = evidence.has(id) ? [evidence.get(id)!] : []
        const r = await f.owner.prepareAdd([wire(kps[i]!.keyPackage)], { nowMs: now, admissions }).then((p) => p, (e: unknown) => e as Error)
        if (admitted.has(id)) {
          expect(r, (r as Error).message).not.toBeInstanceOf(Error)
          f.owner.discardPending()
        } else {
          expect(r).toMatchObject({ code: 'NOT_ADMITTED' })
        }
      }
      expect(f.owner.pending).toBeUndefined()

      // Rogue Commits: each joiner the members' rules do not admit (by name or on
      // valid evidence), added with whatever evidence it has in the ledger.
      const memberAdmits = (i: number): boolean => byName(i) || joiners[i]!.evidence === 'valid'
      for (const i of joinerIds.keys()) {
        if (memberAdmits(i)) continue
        const ev = redemptions[i] === undefined ? [] : [evidenceOf(redemptions[i])]
        await expectRefusedByAll(f.honest, await rogueAdd(f, [kps[i]!.keyPackage], ev), ['NOT_ADMITTED'], now)
        // Smuggled in beside an admitted joiner, it is refused all the same.
        const other = joinerIds.findIndex((_, k) => memberAdmits(k))
        if (other >= 0) {
          const both = [...ev, ...(byName(other) ? [] : [evidenceOf(redemptions[other]!)])]
          await expectRefusedByAll(f.honest, await rogueAdd(f, [kps[other]!.keyPackage, kps[i]!.keyPackage], both), ['NOT_ADMITTED'], now)
        }
      }

      // The next honest Commit: every admitted joiner at once (or a re-signed policy).
      const ids = joinerIds.filter((id) => admitted.has(id))
      const next = ids.length > 0
        ? await f.owner.prepareAdd(ids.map((id) => wire(kps[joinerIds.indexOf(id)]!.keyPackage)), {
          nowMs: now, expectedIdentities: ids, admissions: ids.flatMap((id) => evidence.has(id) ? [evidence.get(id)!] : []),
        })
        : await resign(f, now)
      await commitEverywhere(f, next, now)
      if (next.welcome !== undefined) {
        const newcomers = await Promise.all(ids.map(async (id) => await kps[joinerIds.indexOf(id)]!.join(next.welcome!, now)))
        for (const s of newcomers) expect(s.safetyCode()).toBe(f.owner.safetyCode())
      }
    }), { numRuns: 25 })
  }, 120_000)
})

describe('rogue Commits that tamper with the admission state', () => {
  /** peer(0)'s group: bob (1) honest and on the allow list, the rogue (10) on the list, carol (2) admitted by a 3-use invitation. */
  async function fixture (rules: AdmissionRules = {}): Promise<{ f: Fixture, token: string }> {
    let token = ''
    const f = await groupWithRogue({
      rules: { allow: [peerId(1), peerId(ROGUE)], ...rules },
      members: [1],
      rogue: ROGUE,
      nowMs: now,
      withEvidence: [{ who: 2, redemption: (owner) => { token = owner.createInvitation({ nowMs: now, maxUses: 3 }).text; return redeem(token, peerId(2)) } }],
    })
    return { f, token }
  }

  const ledgerWith = (f: Fixture, edit: (l: ReturnType<typeof rogueAdmission>['ledger']['ledger']) => Parameters<typeof encodeAdmissionLedger>[0]): Uint8Array =>
    encodeAdmissionLedger(edit(rogueAdmission(f).ledger.ledger))

  it('refuses a ledger entry whose evidence does not verify, even with the ledger computed as honest committers do', async () => {
    const { f } = await fixture()
    const dave = await generateKeyPackage(peer(3), { nowMs: now })
    const forged = withForgedSignature(redeem(f.owner.createInvitation({ nowMs: now }).text, peerId(3)))
    await expectRefusedByAll(f.honest, await rogueAdd(f, [dave.keyPackage], [evidenceOf(forged)]), ['NOT_ADMITTED'], now)
    // An entry for dave without adding him is a ledger change no admission explains.
    const ledger = nextLedger(rogueAdmission(f).ledger, new Set([...rogueMembers(f), peerId(3)]), [evidenceOf(redeem(f.owner.createInvitation({ nowMs: now }).text, peerId(3)))])
    await expectRefusedByAll(f.honest, (await f.rogue.commit([contextOf(rogueAdmission(f).policy.bytes, ledger)])).commit, ['NOT_ADMITTED'], now)
    await commitEverywhere(f, await resign(f, now), now)
  })

  it('refuses a ledger whose spent counts are inflated, reset or dropped, or whose survivors lose their entries', async () => {
    const { f, token } = await fixture()
    const state = rogueAdmission(f)
    expect([...state.ledger.uses.values()]).toEqual([1])
    const tampered = [
      ledgerWith(f, (l) => ({ ...l, spent: l.spent.map((s) => ({ ...s, uses: s.uses + 4 })) })),
      ledgerWith(f, (l) => ({ ...l, spent: [] })),
      ledgerWith(f, (l) => ({ ...l, admitted: [] })),
      ledgerWith(f, (l) => ({ admitted: l.admitted, spent: [...l.spent, { invitationId: new Uint8Array(16).fill(9), uses: 1 }] })),
    ]
    for (const ledger of tampered) {
      await expectRefusedByAll(f.honest, (await f.rogue.commit([contextOf(state.policy.bytes, ledger)])).commit, ['NOT_ADMITTED'], now)
    }
    // A reset count would let the invitation admit more than its 3: with the reset and
    // three more joiners, or with the count left and a fourth and a fifth.
    const kps = await Promise.all([3, 4, 5].map(async (n) => await generateKeyPackage(peer(n), { nowMs: now })))
    const ev = [3, 4, 5].map((n) => evidenceOf(redeem(token, peerId(n))))
    const reset = nextLedger(readAdmissionState(admissionExtensions(state.policy.bytes, ledgerWith(f, (l) => ({ ...l, spent: [] })))).ledger,
      new Set([...rogueMembers(f), ...ev.map((e) => e.admission.identity)]), ev)
    await expectRefusedByAll(f.honest, (await f.rogue.commit([...kps.map((k) => addOf(keyPackageOf(k.keyPackage))), contextOf(state.policy.bytes, reset)])).commit, ['NOT_ADMITTED'], now)
    await expectRefusedByAll(f.honest, await rogueAdd(f, kps.map((k) => k.keyPackage), ev), ['NOT_ADMITTED'], now)
    // Two uses are left: two of them pass, at the committer and at every member.
    const d3 = f.owner.decideJoin(peerId(3), redeem(token, peerId(3)), now)
    const d4 = f.owner.decideJoin(peerId(4), redeem(token, peerId(4)), now, new Map([[[...state.ledger.uses.keys()][0]!, 1]]))
    expect([d3.kind, d4.kind]).toEqual(['evidence', 'evidence'])
    const d5 = f.owner.decideJoin(peerId(5), redeem(token, peerId(5)), now, new Map([[[...state.ledger.uses.keys()][0]!, 2]]))
    expect(d5.kind).toBe('deny')
    const add = await f.owner.prepareAdd(kps.slice(0, 2).map((k) => k.keyPackage), { nowMs: now, admissions: [d3, d4].map((d) => (d as { admission: NewAdmission }).admission) })
    await commitEverywhere(f, add, now)
    expect([...rogueAdmission(f).ledger.uses.values()]).toEqual([3])
  })

  it('refuses a policy change the owner did not sign, one that names another owner, and a replayed older serial', async () => {
    const { f } = await fixture({ allow: [peerId(1), peerId(ROGUE), peerId(7)] })
    const state = rogueAdmission(f)
    const mallory = await generateKeyPackage(peer(8), { nowMs: now })
    // The rogue signs an open policy in the owner's name with its own key.
    const open = signPolicy(peer(0), STREAM, { admission: 'open' }, 1n)
    const unsigned = decodeSignedPolicy(open.bytes)
    const forged = encodeSignedPolicy({ policy: unsigned.policy, signature: Uint8Array.from(signWithDomain(peer(ROGUE).seed, 'fabric admission policy v1', unsigned.policy)) })
    for (const extra of [[], [addOf(keyPackageOf(mallory.keyPackage))]]) {
      await expectRefusedByAll(f.honest, (await f.rogue.commit([contextOf(forged, state.ledger.bytes), ...extra])).commit, ['AUTH_FAILED'], now)
    }
    // A policy the rogue signs as owner of the same stream name is another owner's: not a successor.
    const own = signPolicy(peer(ROGUE), STREAM, { admission: 'open' }, 1n)
    await expectRefusedByAll(f.honest, (await f.rogue.commit([contextOf(own.bytes, state.ledger.bytes)])).commit, ['NOT_ADMITTED'], now)
    // The owner's own statements, out of order: a second policy with the same serial 0,
    // and, once the owner moved to serial 1 (dropping peer 7), the serial 0 one again.
    const sameSerial = signPolicy(peer(0), STREAM, { admission: 'open' }, 0n)
    await expectRefusedByAll(f.honest, (await f.rogue.commit([contextOf(sameSerial.bytes, state.ledger.bytes)])).commit, ['NOT_ADMITTED'], now)
    await commitEverywhere(f, await f.owner.prepareUpdatePolicy({ allow: [peerId(1), peerId(ROGUE)] }, now), now)
    expect(f.owner.admission.serial).toBe(1n)
    const seven = await generateKeyPackage(peer(7), { nowMs: now })
    await expectRefusedByAll(f.honest, await rogueAdd(f, [seven.keyPackage]), ['NOT_ADMITTED'], now)
    const replay = (await f.rogue.commit([addOf(keyPackageOf(seven.keyPackage)), contextOf(state.policy.bytes, rogueAdmission(f).ledger.bytes)])).commit
    await expectRefusedByAll(f.honest, replay, ['NOT_ADMITTED'], now)
    for (const s of f.honest) expect(s.admission.serial).toBe(1n)
    await commitEverywhere(f, await resign(f, now), now)
  })

  it('refuses a policy change that strands a member, and a Commit that drops or adds GroupContext extensions', async () => {
    const { f } = await fixture()
    const state = rogueAdmission(f)
    // The owner's narrower policy without carol (admitted by the owner's invitation, still fine)
    // but also without bob: bob would stay in the group without standing.
    const narrower = signPolicy(peer(0), STREAM, { allow: [peerId(ROGUE)] }, 1n)
    await expectRefusedByAll(f.honest, (await f.rogue.commit([contextOf(narrower.bytes, state.ledger.bytes)])).commit, ['NOT_ADMITTED'], now)
    await expectCode(f.owner.prepareUpdatePolicy({ allow: [peerId(ROGUE)] }, now), 'NOT_ADMITTED')
    expect(f.owner.pending).toBeUndefined()
    const extra = { proposalType: 'group_context_extensions' as const, groupContextExtensions: { extensions: [...admissionExtensions(state.policy.bytes, state.ledger.bytes), { extensionType: 0xf0a2, extensionData: new Uint8Array(1) }] } }
    const none = { proposalType: 'group_context_extensions' as const, groupContextExtensions: { extensions: [] } }
    // (ts-mls reads the empty list as "keep the extensions", RFC 9420 as "drop them":
    // fabric refuses a GroupContextExtensions proposal that is not the admission state.)
    for (const p of [extra, none]) await expectRefusedByAll(f.honest, (await f.rogue.commit([p])).commit, ['MALFORMED'], now)
    // Removals cannot ride in the policy Commit (ts-mls 1.6.4 could not process it, see
    // prepareUpdatePolicy); removing bob first makes the narrower policy acceptable.
    const rm = await f.owner.prepareRemove([peerId(1)])
    await f.owner.applyPending(rm, now)
    expect((await f.honest[1]!.processCommit(wire(rm.commit), now)).removedSelf).toBe(true)
    await f.honest[2]!.processCommit(wire(rm.commit), now)
    await f.rogue.process(wire(rm.commit))
    const ok = await f.owner.prepareUpdatePolicy({ allow: [peerId(ROGUE)] }, now)
    expect(ok.policyChange).toBe(true)
    expect(ok.removedIdentities).toEqual([])
    await commitEverywhere({ ...f, honest: [f.owner, f.honest[2]!] }, ok, now)
    expect(f.honest[2]!.admission).toMatchObject({ allow: [peerId(ROGUE)], serial: 1n })
  })
})
