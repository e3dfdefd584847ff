/**
 * MemberCore, the member's sans-IO core, driven directly: real MLS groups
 * built in this process from bytes (AvSession.create, prepareAdd,
 * joinFromWelcome), group-service messages and media chunks as inputs,
 * explicit times, and the actions and deadlines it returns checked. No
 * network, no timers: a deadline passes when a test feeds a tick at it.
 */
import { describe, expect, it } from 'vitest'
import { HELD_CHUNK_TTL_MS } from '../../src/client/frame-decryptor.js'
import type { CoreEventName, EmitAction, MemberAction, MemberInput, MemberOutput, StreamMemberEvents } from '../../src/client/member-actions.js'
import { DEFAULT_SEND_SWITCH_TIMEOUT_MS, MemberCore } from '../../src/client/member-core.js'
import { TrackPublisher } from '../../src/client/track-publisher.js'
import { FabricError } from '../../src/errors.js'
import type { AvSession } from '../../src/session/av-session.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import type { GroupServerMessage } from '../../src/wire/pb/group.js'
import { streamKey, streamTag } from '../../src/wire/stream-tag.js'
import { toHex } from '../../src/wire/text.js'
import { makeTrack, TrackContext } from '../../src/wire/track.js'
import { groupWithRogue, rogueAdd, snapshot } from '../session/admission/fixture.js'
import { peer as sessionPeer, peerId as sessionPeerId, STREAM as SESSION_STREAM } from '../session/helpers.js'
import { capturingTrack, copy, groupOf, makeJoiner, peer, TAG } from './helpers.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** An input carrying one group-service message with the given body. */
function server (body: Partial<GroupServerMessage>): MemberInput {
  return { kind: 'server', message: { version: 1, requestId: 0n, ...body } }
}

/** The CommitDelivery of `commit`, as the group service sends it to every member but the committer. */
function commitOf (commit: Uint8Array, epoch: bigint): MemberInput {
  return server({ commit: { epoch, commit: copy(commit) as Uint8Array<ArrayBuffer> } })
}

/** One short word per action, for comparing a whole output at a glance. */
function summary (out: MemberOutput): string[] {
  return out.actions.map((a) => {
    switch (a.kind) {
      case 'emit': return `emit:${a.event}`
      case 'ack': return `ack:${a.epoch}`
      case 'keyframe-needed': return `keyframe-needed:${a.context}`
      case 'shutdown': return `shutdown:${a.error.code}`
      default: return a.kind
    }
  })
}

/** The arguments of the one action emitting `event`. */
function emitted<K extends CoreEventName> (out: MemberOutput, event: K): StreamMemberEvents[K] {
  const found = out.actions.filter((a): a is EmitAction => a.kind === 'emit' && a.event === event)
  expect(found, `one '${event}' event`).toHaveLength(1)
  return found[0]!.args as StreamMemberEvents[K]
}

/** A track sending with `core`'s send epoch, its chunks captured. */
function coreTrack (core: MemberCore, context: number, nowMs: number): { track: TrackPublisher, sent: Uint8Array[] } {
  const sent: Uint8Array[] = []
  const track = new TrackPublisher({
    session: core.session,
    streamTag: core.streamTag,
    get sendEpoch () { return core.sendEpoch },
    sendChunk: async (chunk) => { sent.push(copy(chunk)) },
    now: () => nowMs,
  }, context)
  return { track, sent }
}

/** Alice (the committer, epoch 1 -> 2) adds a new member; returns the Commit's bytes. */
async function aliceAdds (alice: AvSession, who: number, nowMs: number): Promise<Uint8Array> {
  const add = await alice.prepareAdd([(await makeJoiner(who)).keyPackage], { nowMs })
  await alice.applyPending(add, nowMs)
  return add.commit
}

describe('MemberCore', () => {
  it('processes a Commit: the epoch event (who came, who left, the safety code), a keyframe per track, then the ack', async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(2)
    const core = new MemberCore(bob, TAG)
    expect(summary(await core.handle({ kind: 'track', context: TrackContext.video }, t0))).toEqual([])
    const commit = await aliceAdds(alice, 3, t0)

    const out = await core.handle(commitOf(commit, 1n), t0 + 10)
    expect(summary(out)).toEqual(['emit:epoch', 'keyframe-needed:0', 'ack:2'])
    const [change] = emitted(out, 'epoch')
    expect(change).toEqual({ epoch: 2n, added: [peer(3)], removed: [], safetyCode: alice.safetyCode() })
    expect(core.sendEpoch).toBe(2n)
    expect(out.deadline).toBeUndefined()
    expect(bob.epoch).toBe(2n)
  })

  it("'ready' keeps the old send epoch until EpochReady, and nothing is armed after it", async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(2)
    const core = new MemberCore(bob, TAG, { sendSwitch: 'ready' })
    await core.handle({ kind: 'track', context: TrackContext.video }, t0)
    const out = await core.handle(commitOf(await aliceAdds(alice, 3, t0), 1n), t0)
    expect(summary(out)).toEqual(['emit:epoch', 'ack:2'])
    expect(core.sendEpoch).toBe(1n)
    expect(out.deadline).toBe(t0 + DEFAULT_SEND_SWITCH_TIMEOUT_MS)

    // EpochReady for an epoch this member is not in changes nothing.
    expect(summary(await core.handle(server({ epochReady: { epoch: 3n } }), t0 + 5))).toEqual([])
    expect(core.sendEpoch).toBe(1n)
    const ready = await core.handle(server({ epochReady: { epoch: 2n } }), t0 + 50)
    expect(summary(ready)).toEqual(['keyframe-needed:0'])
    expect(core.sendEpoch).toBe(2n)
    expect(ready.deadline).toBeUndefined()
    expect(summary(await core.handle({ kind: 'tick' }, t0 + DEFAULT_SEND_SWITCH_TIMEOUT_MS))).toEqual([])
  })

  it("'ready' switches at the returned deadline without EpochReady; frames until then go under the old key", async () => {
    const t0 = Date.now()
    const [alice, bob, carol] = await groupOf(2)
    const core = new MemberCore(bob, TAG, { sendSwitch: 'ready' })
    await core.handle({ kind: 'track', context: TrackContext.audio }, t0)
    const commit = await aliceAdds(alice, 3, t0)
    const { deadline } = await core.handle(commitOf(commit, 1n), t0)
    expect(deadline).toBe(t0 + DEFAULT_SEND_SWITCH_TIMEOUT_MS)

    // Carol has not processed the Commit yet and still reads Bob's frames.
    const audio = coreTrack(core, TrackContext.audio, t0 + 1)
    await audio.track.sendFrame(text('old key'), { keyframe: true })
    const carolCore = new MemberCore(carol, TAG)
    const [frame] = emitted(await carolCore.handle({ kind: 'chunk', chunk: audio.sent[0]! }, t0 + 2), 'frame')
    expect(frame.epoch).toBe(1n)
    expect(new TextDecoder().decode(frame.payload)).toBe('old key')

    const early = await core.handle({ kind: 'tick' }, deadline! - 1)
    expect(summary(early)).toEqual([])
    expect(early.deadline).toBe(deadline)
    expect(core.sendEpoch).toBe(1n)
    const due = await core.handle({ kind: 'tick' }, deadline!)
    expect(summary(due)).toEqual(['keyframe-needed:1'])
    expect(core.sendEpoch).toBe(2n)
    expect(due.deadline).toBeUndefined()
  })

  it("a removal switches the send epoch at once, even in 'ready' mode", async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(2)
    const core = new MemberCore(bob, TAG, { sendSwitch: 'ready' })
    await core.handle({ kind: 'track', context: TrackContext.video }, t0)
    const remove = await alice.prepareRemove([peer(2)])
    await alice.applyPending(remove, t0)
    const out = await core.handle(commitOf(remove.commit, 1n), t0)
    expect(summary(out)).toEqual(['emit:epoch', 'keyframe-needed:0', 'ack:2'])
    expect(emitted(out, 'epoch')[0]).toMatchObject({ epoch: 2n, added: [], removed: [peer(2)] })
    expect(core.sendEpoch).toBe(2n)
    expect(out.deadline).toBeUndefined()
  })

  it('refuses a Commit that is garbage: commit-refused, no ack, the epoch and key kept, later Commits still taken', async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(1)
    const core = new MemberCore(bob, TAG)
    const key = toHex(bob.keyRing.current()!.baseKey)
    const out = await core.handle(commitOf(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]), 1n), t0)
    expect(summary(out)).toEqual(['emit:commit-refused'])
    const [refusal] = emitted(out, 'commit-refused')
    expect(refusal.epoch).toBe(1n)
    expect(refusal.error).toBeInstanceOf(Error)
    expect(core.refusedCommits).toBe(1)
    expect(bob.epoch).toBe(1n)
    expect(toHex(bob.keyRing.current()!.baseKey)).toBe(key)

    expect(summary(await core.handle(commitOf(await aliceAdds(alice, 3, t0), 1n), t0))).toEqual(['emit:epoch', 'ack:2'])
    expect(core.refusedCommits).toBe(1)
  })

  it('refuses a Commit that breaks the admission policy (a member adds someone the rules do not admit)', async () => {
    const t0 = Date.now()
    const f = await groupWithRogue({ rules: { allow: [sessionPeerId(1), sessionPeerId(10)] }, members: [1], rogue: 10, nowMs: t0 })
    const member = f.honest[1]!
    const core = new MemberCore(member, streamTag(streamKey(sessionPeerId(0), SESSION_STREAM)))
    const before = snapshot([member])
    const stranger = await generateKeyPackage(sessionPeer(7), { nowMs: t0 })
    const out = await core.handle(commitOf(await rogueAdd(f, [stranger.keyPackage]), member.epoch), t0)
    expect(summary(out)).toEqual(['emit:commit-refused'])
    const [refusal] = emitted(out, 'commit-refused')
    expect((refusal.error as FabricError).code).toBe('NOT_ADMITTED')
    expect(refusal.epoch).toBe(member.epoch)
    expect(snapshot([member])).toEqual(before)
    expect(core.refusedCommits).toBe(1)
  })

  it("the group service's error shuts the member down with the error's code, and nothing is handled after", async () => {
    const t0 = Date.now()
    const [, bob] = await groupOf(1)
    const core = new MemberCore(bob, TAG)
    const out = await core.handle(server({ error: { code: 'NOT_FOUND', message: 'stream closed', currentEpoch: 0n } }), t0)
    expect(summary(out)).toEqual(['shutdown:NOT_FOUND'])
    const action = out.actions[0] as Extract<MemberAction, { kind: 'shutdown' }>
    expect(action.error).toBeInstanceOf(FabricError)
    expect(action.error.message).toContain('stream closed')
    expect(summary(await core.handle(server({ roster: { epoch: 1n, members: [peer(0)], committer: peer(0) } }), t0))).toEqual([])
  })

  it("its own removal: 'removed', then shutdown REMOVED; chunks after it do nothing", async () => {
    const t0 = Date.now()
    const [alice, bob, carol] = await groupOf(2)
    const core = new MemberCore(carol, TAG)
    const remove = await alice.prepareRemove([peer(2)])
    await alice.applyPending(remove, t0)
    await bob.processCommit(copy(remove.commit), t0)
    const out = await core.handle(commitOf(remove.commit, 1n), t0)
    expect(summary(out)).toEqual(['emit:removed', 'shutdown:REMOVED'])
    expect(out.deadline).toBeUndefined()
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('after'), { keyframe: true })
    expect(await core.handle({ kind: 'chunk', chunk: v.sent[0]! }, t0)).toEqual({ actions: [], deadline: undefined })
  })

  it("holds a chunk of the next epoch and delivers it, before the 'epoch' event, once that epoch's Commit is processed", async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(2)
    const core = new MemberCore(bob, TAG)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('epoch 1'), { keyframe: true })
    expect(emitted(await core.handle({ kind: 'chunk', chunk: v.sent[0]! }, t0), 'frame')[0].epoch).toBe(1n)

    const commit = await aliceAdds(alice, 3, t0)
    await v.track.sendFrame(text('epoch 2'), { keyframe: true })
    const held = await core.handle({ kind: 'chunk', chunk: v.sent[1]! }, t0 + 20)
    expect(summary(held)).toEqual([])
    expect(held.deadline).toBe(t0 + 20 + HELD_CHUNK_TTL_MS + 1)

    const out = await core.handle(commitOf(commit, 1n), t0 + 500)
    expect(summary(out)).toEqual(['emit:frame', 'emit:epoch', 'ack:2'])
    const [frame] = emitted(out, 'frame')
    expect(new TextDecoder().decode(frame.payload)).toBe('epoch 2')
    expect(frame).toMatchObject({ epoch: 2n, sender: peer(0), senderLeafIndex: 0, sequence: 1 })
    expect(out.deadline).toBeUndefined()
    expect(core.decryptor.bySender.get(0)).toMatchObject({ received: 2, decrypted: 2, failures: 0 })
  })

  it('a held chunk whose epoch never comes expires at the deadline it returned, counted and not delivered', async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(1)
    const core = new MemberCore(bob, TAG)
    await aliceAdds(alice, 5, t0) // never reaches Bob
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('orphan'), { keyframe: true })
    const held = await core.handle({ kind: 'chunk', chunk: v.sent[0]! }, t0)
    const deadline = held.deadline!
    expect(deadline).toBe(t0 + HELD_CHUNK_TTL_MS + 1)

    const early = await core.handle({ kind: 'tick' }, deadline - 1)
    expect(summary(early)).toEqual([])
    expect(early.deadline).toBe(deadline)
    expect(core.decryptor.bySender.get(0)).toMatchObject({ received: 0 })
    const due = await core.handle({ kind: 'tick' }, deadline)
    expect(summary(due)).toEqual([])
    expect(due.deadline).toBeUndefined()
    expect(core.decryptor.bySender.get(0)).toMatchObject({ received: 1, decrypted: 0, beforeKeys: 1 })
  })

  it('the earlier of a held chunk and a pending send switch is the deadline', async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(2)
    const core = new MemberCore(bob, TAG, { sendSwitch: 'ready' })
    const first = await aliceAdds(alice, 3, t0)
    expect((await core.handle(commitOf(first, 1n), t0)).deadline).toBe(t0 + DEFAULT_SEND_SWITCH_TIMEOUT_MS)
    await aliceAdds(alice, 4, t0)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('epoch 3'), { keyframe: true })
    expect((await core.handle({ kind: 'chunk', chunk: v.sent[0]! }, t0 + 10)).deadline).toBe(t0 + 10 + HELD_CHUNK_TTL_MS + 1)
  })

  it("a keyframe request for one of this member's tracks asks that track for a keyframe; another's track, nothing", async () => {
    const t0 = Date.now()
    const [, bob] = await groupOf(1)
    const core = new MemberCore(bob, TAG)
    await core.handle({ kind: 'track', context: TrackContext.video }, t0)
    await core.handle({ kind: 'track', context: TrackContext.screen }, t0)
    const own = makeTrack(bob.ownLeafIndex, TrackContext.screen)
    expect(summary(await core.handle({ kind: 'keyframe-request', track: own }, t0))).toEqual(['keyframe-needed:2'])
    expect(summary(await core.handle({ kind: 'keyframe-request', track: makeTrack(0, TrackContext.screen) }, t0))).toEqual([])
    expect(summary(await core.handle({ kind: 'keyframe-request', track: makeTrack(bob.ownLeafIndex, TrackContext.audio) }, t0))).toEqual([])
  })

  it('the roster is kept and emitted; join and leave requests go to the committer as actions', async () => {
    const t0 = Date.now()
    const [alice] = await groupOf(1)
    const core = new MemberCore(alice, TAG)
    const roster = await core.handle(server({ roster: { epoch: 1n, members: [peer(0), peer(1)], committer: peer(0) } }), t0)
    expect(emitted(roster, 'roster')[0]).toEqual([peer(0), peer(1)])
    expect(core.roster).toEqual([peer(0), peer(1)])

    const redemption = new Uint8Array([9, 8, 7])
    expect((await core.handle(server({ joinRequested: { identity: peer(4), redemption } }), t0)).actions)
      .toEqual([{ kind: 'join-requested', identity: peer(4), redemption }])
    expect((await core.handle(server({ joinWithdrawn: { identity: peer(4) } }), t0)).actions)
      .toEqual([{ kind: 'join-withdrawn', identity: peer(4) }])
    expect((await core.handle(server({ leaveRequested: { identity: peer(1) } }), t0)).actions)
      .toEqual([{ kind: 'leave-requested', identity: peer(1) }])
  })

  it("its own applied Commit (the committer's) moves it like a delivered one, without an ack", async () => {
    const t0 = Date.now()
    const [alice] = await groupOf(2)
    const core = new MemberCore(alice, TAG, { sendSwitch: 'ready' })
    await core.handle({ kind: 'track', context: TrackContext.video }, t0)
    const remove = await alice.prepareRemove([peer(1)])
    const outcome = await alice.applyPending(remove, t0)
    const out = await core.handle({ kind: 'applied', outcome }, t0)
    expect(summary(out)).toEqual(['emit:epoch', 'keyframe-needed:0'])
    expect(emitted(out, 'epoch')[0]).toEqual({ epoch: 2n, added: [], removed: [peer(1)], safetyCode: alice.safetyCode() })
  })

  it('logs every epoch key when asked: at start and on each new epoch, before anything else of that epoch', async () => {
    const t0 = Date.now()
    const [alice, bob] = await groupOf(1)
    const core = new MemberCore(bob, TAG, { keyLog: true })
    const line = (): string => `${bob.identity} ${bob.epoch} ${toHex(bob.keyRing.current()!.baseKey)}\n`
    expect((await core.handle({ kind: 'start' }, t0)).actions).toEqual([{ kind: 'key-log', line: line() }])
    const out = await core.handle(commitOf(await aliceAdds(alice, 3, t0), 1n), t0)
    expect(out.actions[0]).toEqual({ kind: 'key-log', line: line() })
    expect(line()).toContain(' 2 ')
    expect((await new MemberCore(bob, TAG).handle({ kind: 'start' }, t0)).actions).toEqual([])
  })

  it('two members fed the same inputs at the same times act alike', async () => {
    const t0 = Date.now()
    const [alice, bob, carol] = await groupOf(2)
    const commit = await aliceAdds(alice, 3, t0)
    const v = capturingTrack(alice, TrackContext.video)
    await v.track.sendFrame(text('ahead'), { keyframe: true })
    const run = async (session: AvSession): Promise<string[][]> => {
      const core = new MemberCore(session, TAG, { sendSwitch: 'ready' })
      const inputs: Array<[MemberInput, number]> = [
        [{ kind: 'track', context: 0 }, t0],
        [{ kind: 'chunk', chunk: v.sent[0]! }, t0 + 1],
        [commitOf(commit, 1n), t0 + 2],
        [{ kind: 'tick' }, t0 + 2 + DEFAULT_SEND_SWITCH_TIMEOUT_MS],
      ]
      const outs: string[][] = []
      for (const [input, now] of inputs) {
        const out = await core.handle(input, now)
        outs.push([...summary(out), `deadline:${out.deadline === undefined ? '-' : out.deadline - t0}`])
      }
      return outs
    }
    const bobRun = await run(bob)
    expect(bobRun).toEqual([
      ['deadline:-'],
      [`deadline:${1 + HELD_CHUNK_TTL_MS + 1}`],
      ['emit:frame', 'emit:epoch', 'ack:2', `deadline:${2 + DEFAULT_SEND_SWITCH_TIMEOUT_MS}`],
      ['keyframe-needed:0', 'deadline:-'],
    ])
    expect(await run(carol)).toEqual(bobRun)
  })
})
