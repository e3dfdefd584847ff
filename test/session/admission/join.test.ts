/**
 * joinFromWelcome's admission checks: the joiner lands only in the group it
 * asked for (the owner's, under that stream name, with a policy the owner
 * signed), and only when every member there has standing under that policy.
 * The bad groups are built with ts-mls directly by a raw owner.
 */
import { describe, expect, it } from 'vitest'
import { AvSession } from '../../../src/session/av-session.js'
import { admissionExtensions, createInvitation, emptyLedger, nextLedger, readLedger, signPolicy } from '../../../src/session/admission/index.js'
import { signWithDomain } from '../../../src/session/identity.js'
import { decodeRedemption, decodeSignedPolicy, encodeRedemption, encodeSignedPolicy } from '../../../src/wire/admission-messages.js'
import { expectCode, makeJoiner, peer, peerId, STREAM, wire } from '../helpers.js'
import { evidenceOf, redeem } from './fixture.js'
import { addOf, contextOf, keyPackageOf, RawMember } from './raw.js'

const now = Date.now()
const nowSeconds = BigInt(Math.floor(now / 1000))
const BOB = 1
const MALLORY = 9

describe('joinFromWelcome: the group asked for', () => {
  it('refuses a Welcome into a group of another owner under the same stream name (OWNER_MISMATCH)', async () => {
    const other = await AvSession.create({ identity: peer(5), stream: STREAM, admission: { admission: 'open' }, nowMs: now })
    const bob = await makeJoiner(BOB, now) // expects peer(0)'s STREAM
    const add = await other.prepareAdd([wire(bob.keyPackage)], { nowMs: now })
    await expectCode(bob.join(add.welcome!, now), 'OWNER_MISMATCH')
    // Expecting that owner, a Welcome into that group is fine.
    other.discardPending(add)
    const willing = await makeJoiner(BOB, now, { expect: { owner: peerId(5), stream: STREAM } })
    const add2 = await other.prepareAdd([wire(willing.keyPackage)], { nowMs: now })
    expect((await willing.join(add2.welcome!, now)).owner).toBe(peerId(5))
  })

  it('refuses a Welcome into another stream of the same owner (OWNER_MISMATCH)', async () => {
    const other = await AvSession.create({ identity: peer(0), stream: 'room2', admission: { admission: 'open' }, nowMs: now })
    const bob = await makeJoiner(BOB, now)
    await expectCode(bob.join((await other.prepareAdd([wire(bob.keyPackage)], { nowMs: now })).welcome!, now), 'OWNER_MISMATCH')
  })

  it('refuses a group with the owner\'s group id whose policy the owner did not sign, is another stream\'s, or is missing (OWNER_MISMATCH)', async () => {
    const open = signPolicy(peer(0), STREAM, { admission: 'open' }, 0n)
    const body = decodeSignedPolicy(open.bytes).policy
    const forgedByMallory = encodeSignedPolicy({ policy: body, signature: Uint8Array.from(signWithDomain(peer(MALLORY).seed, 'fabric admission policy v1', body)) })
    const otherStream = signPolicy(peer(0), 'room2', { admission: 'open' }, 0n).bytes
    const malloryOwns = signPolicy(peer(MALLORY), STREAM, { admission: 'open' }, 0n).bytes
    for (const policy of [forgedByMallory, otherStream, malloryOwns]) {
      // A raw creator: leaf 0 is the owner's (it holds the seed here), the group id is peer 0's STREAM.
      const raw = await RawMember.createGroup(peer(0), STREAM, {}, now, admissionExtensions(policy, emptyLedger().bytes))
      const bob = await makeJoiner(BOB, now)
      await expectCode(bob.join((await raw.commit([addOf(keyPackageOf(bob.keyPackage))])).welcome!, now), 'OWNER_MISMATCH')
    }
    const bare = await RawMember.createGroup(peer(0), STREAM, {}, now, [])
    const bob = await makeJoiner(BOB, now)
    await expectCode(bob.join((await bare.commit([addOf(keyPackageOf(bob.keyPackage))])).welcome!, now), 'OWNER_MISMATCH')
    // The owner's own policy in the same raw group is accepted.
    const good = await RawMember.createGroup(peer(0), STREAM, {}, now, admissionExtensions(open.bytes, emptyLedger().bytes))
    const s = await bob.join((await good.commit([addOf(keyPackageOf(bob.keyPackage))])).welcome!, now)
    expect(s.admission.admission).toBe('open')
  })
})

describe('joinFromWelcome: every member has standing', () => {
  it('refuses a group whose tree holds a member the policy does not admit (NOT_ADMITTED), at every joiner', async () => {
    // The owner's policy allows only bob; the raw committer (the owner's client, gone rogue) adds mallory too.
    const raw = await RawMember.createGroup(peer(0), STREAM, { allow: [peerId(BOB)] }, now)
    const bob = await makeJoiner(BOB, now)
    const mallory = await makeJoiner(MALLORY, now)
    const c = await raw.commit([addOf(keyPackageOf(bob.keyPackage)), addOf(keyPackageOf(mallory.keyPackage))])
    await expectCode(bob.join(c.welcome!, now), 'NOT_ADMITTED')
    await expectCode(mallory.join(c.welcome!, now), 'NOT_ADMITTED')
    // Bob alone is fine.
    const ok = await raw.commit([addOf(keyPackageOf(bob.keyPackage))])
    expect((await bob.join(ok.welcome!, now)).members().map((m) => m.identity)).toEqual([peerId(0), peerId(BOB)])
  })

  it('takes a member admitted on valid evidence in the ledger, and refuses one whose evidence does not verify', async () => {
    const policy = signPolicy(peer(0), STREAM, { allow: [peerId(BOB)] }, 0n)
    const token = createInvitation(peer(0), peerId(0), STREAM, { expiresAtSeconds: nowSeconds + 3600n })
    const valid = evidenceOf(redeem(token.text, peerId(MALLORY)))
    const r = decodeRedemption(redeem(token.text, peerId(MALLORY)))
    const sig = Uint8Array.from(r.signature)
    sig[3]! ^= 4
    const forged = evidenceOf(encodeRedemption({ ...r, signature: sig }))
    // An inviter the policy does not list.
    const foreign = evidenceOf(redeem(createInvitation(peer(8), peerId(0), STREAM, { expiresAtSeconds: nowSeconds + 3600n }).text, peerId(MALLORY)))
    const members = new Set([peerId(0), peerId(BOB), peerId(MALLORY)])
    for (const [evidence, ok] of [[valid, true], [forged, false], [foreign, false]] as const) {
      const raw = await RawMember.createGroup(peer(0), STREAM, { allow: [peerId(BOB)] }, now)
      const bob = await makeJoiner(BOB, now)
      const mallory = await makeJoiner(MALLORY, now)
      const ledger = nextLedger(readLedger(emptyLedger().bytes), members, [evidence])
      const c = await raw.commit([addOf(keyPackageOf(bob.keyPackage)), addOf(keyPackageOf(mallory.keyPackage)), contextOf(policy.bytes, ledger)])
      if (ok) {
        const [b, m] = [await bob.join(c.welcome!, now), await mallory.join(c.welcome!, now)]
        expect(b.safetyCode()).toBe(m.safetyCode())
      } else {
        await expectCode(bob.join(c.welcome!, now), 'NOT_ADMITTED')
      }
    }
  })
})
