/**
 * A Commit in doubt (protocol/survival.md section 3.1): a member whose group
 * stream broke while its Commit was submitted keeps it pending. When the
 * node's replay brings that same Commit, it is applied; when it brings
 * another Commit of the same epoch, the pending one lost and is discarded,
 * and the other is processed.
 */
import { describe, expect, it } from 'vitest'
import { AvSession } from '../../src/session/av-session.js'
import { identityFromSeed } from '../../src/session/identity.js'
import { generateKeyPackage } from '../../src/session/key-package.js'

const NOW = Date.now()
const [A, B, C] = [1, 2, 3].map((n) => identityFromSeed(new Uint8Array(32).fill(0x70 + n)))

async function threeMembers (): Promise<{ a: AvSession, b: AvSession, c: AvSession }> {
  const expect = { owner: A!.peerId, stream: 'doubt' }
  const a = await AvSession.create({ identity: A!, stream: 'doubt', admission: { admission: 'open' }, nowMs: NOW })
  const kb = await generateKeyPackage(B!, { nowMs: NOW })
  const kc = await generateKeyPackage(C!, { nowMs: NOW })
  const p = await a.prepareAdd([kb.keyPackage, kc.keyPackage], { nowMs: NOW })
  await a.applyPending(p, NOW)
  const b = await AvSession.joinFromWelcome({ welcome: p.welcome!, keyPackage: kb.keyPackage, privateState: kb.privateState, identity: B!.peerId, expect, nowMs: NOW })
  const c = await AvSession.joinFromWelcome({ welcome: p.welcome!, keyPackage: kc.keyPackage, privateState: kc.privateState, identity: C!.peerId, expect, nowMs: NOW })
  return { a, b, c }
}

describe('a Commit in doubt', () => {
  it('is applied when the replay brings it back', async () => {
    const { a, b } = await threeMembers()
    const mine = await b.prepareRemove([A!.peerId])
    // The stream broke; the node accepted it; the replay delivers it.
    const out = await b.processCommit(mine.commit, NOW)
    expect(out.epoch).toBe(2n)
    expect(b.pending).toBeUndefined()
    expect(b.leafIndexOf(A!.peerId)).toBeUndefined()
    expect(a.epoch).toBe(1n)
  })

  it('is discarded when another Commit of its epoch is replayed, which is processed instead', async () => {
    const { a, b, c } = await threeMembers()
    const mine = await b.prepareRemove([A!.peerId])
    // Meanwhile the role moved to c, whose Commit won epoch 1.
    const theirs = await c.prepareRemove([A!.peerId])
    await c.applyPending(theirs, NOW)
    const out = await b.processCommit(theirs.commit, NOW)
    expect(out.epoch).toBe(2n)
    expect(b.pending).toBeUndefined()
    expect(b.safetyCode()).toBe(c.safetyCode())
    // Its own Commit is no longer pending: bringing it now is a Commit from its own leaf of an old epoch.
    await expect(b.processCommit(mine.commit, NOW)).rejects.toThrow()
    expect(a.epoch).toBe(1n)
  })
})
