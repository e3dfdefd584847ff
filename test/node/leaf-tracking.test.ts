/**
 * The group core's leaf tracking against real MLS: the relay holds each
 * publisher to the tracks of its own MLS leaf (relay-node.ts
 * setPublisherLeaf), and learns that leaf from the group core
 * (GroupServiceCore.leafIndexOf), which never sees the ratchet tree. So the
 * core's answer must be the leaf the member really holds in the group, after
 * any sequence of Adds and Removes; otherwise one member could publish on
 * another's tracks, or be refused its own. Here a real AvSession commits, the
 * real inspectCommit (session/inspect.ts) reads each Commit for the core, and
 * after every accepted Commit the core and the session must agree on every
 * member's leaf.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GroupServiceCore, type GroupAction } from '../../src/node/group-core.js'
import { AvSession, type PendingCommit } from '../../src/session/av-session.js'
import { identityFromSeed, type MemberIdentity } from '../../src/session/identity.js'
import { inspectCommit } from '../../src/session/inspect.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import type { GroupClientMessage, SubmitCommit } from '../../src/wire/pb/group.js'
import { streamKey } from '../../src/wire/stream-tag.js'

const STREAM = 'leaves'

/** Deterministic identities: 0 is the owner, 1..7 the others (8 members at most). */
const IDS: MemberIdentity[] = Array.from({ length: 8 }, (_, i) => identityFromSeed(new Uint8Array(32).fill(0x40 + i)))
const OWNER = IDS[0]!
const KEY = streamKey(OWNER.peerId, STREAM)

/** The owner's session and a core hosting its stream, the owner's group stream on conn 1. */
async function setUp (nowMs: number): Promise<{ session: AvSession, core: GroupServiceCore, submit: (p: PendingCommit, change?: Partial<SubmitCommit>) => GroupAction[] }> {
  const session = await AvSession.create({ identity: OWNER, stream: STREAM, admission: { admission: 'open' }, nowMs })
  const core = new GroupServiceCore({ inspectCommit })
  core.handle({ kind: 'opened', conn: 1, peer: OWNER.peerId }, 0)
  const created = core.handle({ kind: 'message', conn: 1, message: { version: 1, requestId: 1n, create: { stream: STREAM, groupId: session.groupId as Uint8Array<ArrayBuffer> } } }, 0)
  expect(created.find((a) => a.kind === 'send')).toMatchObject({ kind: 'send', conn: 1, message: { ok: { epoch: 0n } } })
  let requestId = 2n
  const submit = (p: PendingCommit, change: Partial<SubmitCommit> = {}): GroupAction[] => {
    const commit: SubmitCommit = {
      epoch: p.fromEpoch,
      commit: Uint8Array.from(p.commit),
      welcome: p.welcome === undefined ? new Uint8Array() : Uint8Array.from(p.welcome),
      added: [...p.addedIdentities],
      removed: [...p.removedIdentities],
      ...change,
    }
    const message: GroupClientMessage = { version: 1, requestId: requestId++, commit }
    return core.handle({ kind: 'message', conn: 1, message }, 0)
  }
  return { session, core, submit }
}

async function keyPackageOf (id: MemberIdentity, nowMs: number): Promise<Uint8Array> {
  return (await generateKeyPackage(id, { nowMs })).keyPackage
}

function reply (actions: GroupAction[]): { ok?: { epoch: bigint }, error?: { code: string } } {
  const a = actions.find(x => x.kind === 'send' && x.conn === 1 && x.message.requestId !== 0n)
  expect(a?.kind).toBe('send')
  return a?.kind === 'send' ? a.message : {}
}

/** Every member's leaf as the session knows it (the ratchet tree), and as the core and its roster action say. */
function expectAgreement (session: AvSession, core: GroupServiceCore, actions: GroupAction[]): void {
  const leaves = new Map(session.members().map(m => [m.identity, m.leafIndex]))
  for (const id of IDS) {
    expect(core.leafIndexOf(KEY, id.peerId), `leaf of member ${IDS.indexOf(id)}`).toBe(session.leafIndexOf(id.peerId))
  }
  const roster = actions.find(a => a.kind === 'roster')
  expect(roster?.kind === 'roster' ? roster.leaves : undefined).toEqual(leaves)
  expect(new Set(core.roster(KEY)!.members)).toEqual(new Set(leaves.keys()))
  expect(core.roster(KEY)!.epoch).toBe(session.epoch)
}

describe('group core leaf tracking against real MLS', () => {
  it('after every accepted Commit of a random sequence of adds and removes, leafIndexOf is the member\'s MLS leaf', async () => {
    const op = fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) })
    let commits = 0
    let reusedLeaves = 0
    await fc.assert(fc.asyncProperty(fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), fc.array(op, { minLength: 2, maxLength: 8 }), async (first, ops) => {
      const nowMs = Date.now()
      const { session, core, submit } = await setUp(nowMs)
      // Start with 2..8 members, then add and remove at random (never the owner, never past 8).
      for (const o of [{ kind: 'add' as const, picks: first }, ...ops]) {
        const members = new Set(session.members().map(m => m.identity))
        const pool = o.kind === 'add' ? IDS.slice(1).filter(id => !members.has(id.peerId)) : IDS.slice(1).filter(id => members.has(id.peerId))
        if (pool.length === 0) continue
        const picked = [...new Set(o.picks.map(n => pool[n % pool.length]!))]
        // A removal keeps at least one member beside the owner.
        const chosen = o.kind === 'remove' ? picked.slice(0, pool.length - 1) : picked
        if (chosen.length === 0) continue
        let pending: PendingCommit
        if (o.kind === 'add') {
          const blanks = Math.max(...session.members().map(m => m.leafIndex)) + 1 - session.members().length
          if (blanks > 0) reusedLeaves++
          const kps = await Promise.all(chosen.map(async id => await keyPackageOf(id, nowMs)))
          pending = await session.prepareAdd(kps, { nowMs, expectedIdentities: chosen.map(id => id.peerId) })
        } else {
          pending = await session.prepareRemove(chosen.map(id => id.peerId))
        }
        const actions = submit(pending)
        expect(reply(actions).ok).toEqual({ epoch: pending.epoch })
        await session.applyPending(pending, nowMs)
        commits++
        expectAgreement(session, core, actions)
        expect(session.members().length).toBeGreaterThanOrEqual(2)
        expect(session.members().length).toBeLessThanOrEqual(8)
      }
    }), { numRuns: 15 })
    expect(commits).toBeGreaterThan(30)
    // Adds into leaves freed by earlier Removes are the case that matters: they must happen.
    expect(reusedLeaves).toBeGreaterThan(3)
  }, 120_000)

  it('refuses a real Commit whose SubmitCommit names other Adds or Removes than the Commit makes', async () => {
    const nowMs = Date.now()
    const { session, core, submit } = await setUp(nowMs)
    const [, a, b, c] = IDS as [MemberIdentity, MemberIdentity, MemberIdentity, MemberIdentity]
    const add = await session.prepareAdd([await keyPackageOf(a, nowMs), await keyPackageOf(b, nowMs)], { nowMs })
    for (const added of [[b.peerId, a.peerId], [a.peerId], [a.peerId, c.peerId], [a.peerId, b.peerId, c.peerId]]) {
      expect(reply(submit(add, { added })).error?.code, added.join()).toBe('MALFORMED')
    }
    // Told the truth, the core takes it, and the leaves are the tree's.
    const accepted = submit(add)
    expect(reply(accepted).ok).toEqual({ epoch: 1n })
    await session.applyPending(add, nowMs)
    expectAgreement(session, core, accepted)

    const remove = await session.prepareRemove([a.peerId])
    for (const removed of [[b.peerId], [a.peerId, b.peerId], []]) {
      expect(reply(submit(remove, { removed })).error?.code, removed.join()).toBe('MALFORMED')
    }
    // A removal passed off as nothing but an Add of someone else is refused too.
    expect(reply(submit(remove, { removed: [], added: [c.peerId], welcome: new Uint8Array([1]) })).error?.code).toBe('MALFORMED')
    const removed = submit(remove)
    expect(reply(removed).ok).toEqual({ epoch: 2n })
    await session.applyPending(remove, nowMs)
    expectAgreement(session, core, removed)
    expect(core.leafIndexOf(KEY, b.peerId)).toBe(2)

    // c goes into a's old leaf 1, as the tree puts it.
    const again = await session.prepareAdd([await keyPackageOf(c, nowMs)], { nowMs })
    const readded = submit(again)
    expect(reply(readded).ok).toEqual({ epoch: 3n })
    await session.applyPending(again, nowMs)
    expectAgreement(session, core, readded)
    expect(core.leafIndexOf(KEY, c.peerId)).toBe(1)
  }, 60_000)
})
