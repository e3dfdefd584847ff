/**
 * A joiner accepts the ratchet tree of a group whose leaves were reused
 * (a member removed, another added in its leaf, then one more added): the
 * shape a call has after its creator leaves and people keep joining. ts-mls
 * 1.6.4 refused such a Welcome ("non-blank intermediate node must list leaf
 * node in its unmerged_leaves"): it demanded that every non-blank node on an
 * unmerged leaf's path hold the same list, where RFC 9420 section 7.9 asks
 * only that nodes between the leaf and the listing node list the leaf. The
 * repository applies patches/ts-mls+1.6.4.patch at install (scripts/postinstall.mjs).
 */
import { describe, expect, it } from 'vitest'
import { AvSession } from '../../src/session/av-session.js'
import { identityFromSeed, type MemberIdentity } from '../../src/session/identity.js'
import { generateKeyPackage } from '../../src/session/key-package.js'

const NOW = Date.now()
const ids: MemberIdentity[] = Array.from({ length: 8 }, (_, i) => identityFromSeed(new Uint8Array(32).fill(0x60 + i)))
const NAMES = 'ABCDEFGH'

describe('leaf reuse', () => {
  it('every member, old and new, follows add, add, add, add, remove the creator, add into its leaf, add again', async () => {
    const owner = ids[0]!
    const expectGroup = { owner: owner.peerId, stream: 'reuse' }
    const members = new Map<string, AvSession>([['A', await AvSession.create({ identity: owner, stream: 'reuse', admission: { admission: 'open' }, nowMs: NOW })]])
    const add = async (committer: string, joiner: string): Promise<void> => {
      const id = ids[NAMES.indexOf(joiner)]!
      const kp = await generateKeyPackage(id, { nowMs: NOW })
      const c = members.get(committer)!
      const p = await c.prepareAdd([kp.keyPackage], { nowMs: NOW })
      await c.applyPending(p, NOW)
      for (const [n, m] of members) if (n !== committer) await m.processCommit(p.commit, NOW)
      members.set(joiner, await AvSession.joinFromWelcome({ welcome: p.welcome!, keyPackage: kp.keyPackage, privateState: kp.privateState, identity: id.peerId, expect: expectGroup, nowMs: NOW }))
    }
    const remove = async (committer: string, gone: string): Promise<void> => {
      const c = members.get(committer)!
      const p = await c.prepareRemove([ids[NAMES.indexOf(gone)]!.peerId])
      await c.applyPending(p, NOW)
      members.delete(gone)
      for (const [n, m] of members) if (n !== committer) await m.processCommit(p.commit, NOW)
    }
    await add('A', 'B')
    await add('A', 'C')
    await add('B', 'D')
    await add('C', 'E')
    await remove('D', 'A')
    await add('D', 'F')
    expect(members.get('F')!.ownLeafIndex).toBe(0)
    await add('F', 'G')
    const codes = new Set([...members.values()].map((m) => m.safetyCode()))
    expect(codes.size).toBe(1)
    expect([...members.values()].every((m) => m.epoch === 7n)).toBe(true)
  })
})
