/**
 * Attacks on the group service and the connection layer of a real node
 * (parked half-frames, stream-creation flood, pending-join flood, a frozen
 * peer), each beside a healthy stream; see attack-fixture.ts for what every
 * test asserts.
 */
import { randomBytes } from 'node:crypto'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import type { GroupChannel } from '../../src/client/group-channel.js'
import { nodeStats, type ProcEvent } from '../../src/cli/processes.js'
import { isFabricError } from '../../src/errors.js'
import { DEFAULT_BIND_TIMEOUT_MS, MAX_GROUP_REQUEST_FRAME, MAX_PENDING_JOINERS_PER_STREAM, MAX_PENDING_JOINS_PER_IDENTITY, MAX_STREAMS_PER_IDENTITY } from '../../src/node/group-core.js'
import { CONTROL_FRAME_DEADLINE_MS as FRAME_DEADLINE_MS } from '../../src/node/stream-deadlines.js'
import { NODE_LIVENESS_TIMEOUT_MS } from '../../src/transport/libp2p/host.js'
import { encodeFrame, FrameDecoder, framePrefix } from '../../src/wire/framing.js'
import { MAX_CONTROL_FRAME } from '../../src/wire/limits.js'
import { decodeGroupServerMessage, encodeGroupClientMessage } from '../../src/wire/messages.js'
import { GROUP_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { sleep, within } from '../timing.js'
import {
  attackerHost, channel, cleanUpAfterEachTest, codeOf, ending, finish, healthy, joiner, KIB, MIB, mib, range, sampler, unsolicitedError,
  type Ending, type Stats,
} from './attack-fixture.js'

cleanUpAfterEachTest()

describe('attacks on the group service, each beside a healthy stream', () => {
  it('1. parked half-frames from non-members: refused at once or held until the deadline and closed, the node stays small', async () => {
    const h = await healthy('parked')
    const addr = multiaddr(h.node.addr)
    const before = await nodeStats(h.node)
    const baseConns = before.group.load.conns as number
    const hosts = await Promise.all(range(8).map(async () => await attackerHost()))
    for (const host of hosts) await host.dial(addr)

    // Per identity and connection, 32 group streams (the per-connection
    // bound): 12 announce a frame of 2 MiB - 1 (the attack; a
    // non-committer's bound is 8 KiB), 14 announce 8 KiB - 1 and send half of
    // it, 4 send nothing at all. Unbound streams are closed by the bind
    // timeout, which runs as long as the frame deadline; so 2 more first bind
    // (create a stream of their own) and then park half a frame, which only
    // the frame deadline ends.
    type Kind = 'huge' | 'half' | 'bound' | 'silent'
    const kindOf = (i: number): Kind => i < 12 ? 'huge' : i < 26 ? 'half' : i < 28 ? 'bound' : 'silent'
    const halfFrame = (): Uint8ArrayList => {
      const length = MAX_GROUP_REQUEST_FRAME - 1
      return new Uint8ArrayList(framePrefix(length), new Uint8Array(Math.floor(length / 2)).fill(1))
    }
    const parked: Array<{ kind: Kind, stream: Stream, sentAt: number, end: Promise<Ending> }> = []
    await Promise.all(hosts.map(async (host) => {
      await Promise.all(range(32).map(async (i) => {
        // Read before the node can start the clock that ends the stream (the
        // bind timeout runs from the stream's open, the frame deadline from
        // the half frame's first byte), so no end may come sooner than its
        // deadline after it.
        let sentAt = Date.now()
        const stream = await host.dialProtocol(addr, GROUP_PROTOCOL)
        const kind = kindOf(i)
        const end = ending(stream)
        if (kind === 'huge') {
          stream.send(new Uint8ArrayList(framePrefix(MAX_CONTROL_FRAME - 1), new Uint8Array(64 * KIB)))
        } else if (kind === 'half') {
          stream.send(halfFrame())
        } else if (kind === 'bound') {
          stream.send(encodeFrame(encodeGroupClientMessage({ requestId: 1n, create: { stream: `parked-${i}`, groupId: randomBytes(32) } })))
          await sleep(500)
          sentAt = Date.now()
          stream.send(halfFrame())
        }
        parked.push({ kind, stream, sentAt, end })
      }))
    }))
    expect(parked.length).toBe(256)
    const startedAt = Math.min(...parked.map((p) => p.sentAt))

    // Sample once the huge ones are gone (reset at once); the half and silent
    // ones are held until their deadline, so at most 20 a host remain.
    await within(Promise.all(parked.filter((p) => p.kind === 'huge').map(async (p) => await p.end)), 30_000, 'the huge prefixes reset')
    const during = await nodeStats(h.node)
    const held = during.group.load.conns - baseConns
    const rssGrowth = during.memory.rss - before.memory.rss
    console.log(`  (a) parked: node RSS ${mib(before.memory.rss)} -> ${mib(during.memory.rss)} (+${mib(rssGrowth)}) with ${held} parked group streams held once the huge ones reset`)
    expect(rssGrowth).toBeLessThan(64 * MIB)
    expect(held).toBeLessThanOrEqual(8 * 20)

    const ends = await within(Promise.all(parked.map(async (p) => ({ ...p, ...(await p.end) }))), FRAME_DEADLINE_MS + 10_000, 'every parked stream ended')
    const lastEnd = Math.max(...ends.map((e) => e.at))
    const timesOf = (k: Kind): number[] => ends.filter((e) => e.kind === k).map((e) => e.at - e.sentAt)
    const huge = timesOf('huge')
    const half = timesOf('half')
    const silent = timesOf('silent')
    const bound = timesOf('bound')
    console.log(`  (b) 2 MiB-1 prefixes: ${huge.length} reset after at most ${Math.max(...huge)} ms; ` +
      `8 KiB-1 half-frames: ${half.length} unbound closed after ${Math.min(...half)}..${Math.max(...half)} ms, ${bound.length} bound reset after ${Math.min(...bound)}..${Math.max(...bound)} ms; ` +
      `silent: ${silent.length} closed after ${Math.min(...silent)}..${Math.max(...silent)} ms; all ${ends.length} ended ${lastEnd - startedAt} ms after the first`)
    // Upper bounds are the `within` above; here only what a loaded machine
    // cannot make false: order, causes, and that no deadline fired early
    // (a timer never fires before its time; 50 ms for clock granularity).
    // Too large: reset at once, whatever else the peer sends, before any
    // deadline ran out.
    expect(ends.filter((e) => e.kind === 'huge' && e.how !== 'reset')).toEqual([])
    expect(Math.max(...huge)).toBeLessThan(Math.min(...half, ...bound, ...silent))
    // Half a frame: held until the frame deadline (or the bind timeout, which runs as long).
    expect(Math.min(...half)).toBeGreaterThanOrEqual(FRAME_DEADLINE_MS - 50)
    expect(ends.filter((e) => e.kind === 'bound' && e.how !== 'reset')).toEqual([])
    expect(Math.min(...bound)).toBeGreaterThanOrEqual(FRAME_DEADLINE_MS - 50)
    // Nothing at all: the bind timeout answers TIMEOUT and closes.
    expect(Math.min(...silent)).toBeGreaterThanOrEqual(DEFAULT_BIND_TIMEOUT_MS - 50)
    for (const e of ends.filter((x) => x.kind === 'silent')) {
      expect(decodeGroupServerMessage(new FrameDecoder(MAX_CONTROL_FRAME).push(e.data)[0]!).error?.code).toBe('TIMEOUT')
    }

    // The node has let go of every one of them, though the attacker never closed its side.
    let after: Stats
    const deadline = Date.now() + 15_000
    for (;;) {
      after = await nodeStats(h.node)
      if (after.group.load.conns === baseConns || Date.now() > deadline) break
      await sleep(200)
    }
    console.log(`  (a) after: group streams held ${after.group.load.conns - baseConns}, node RSS ${mib(after.memory.rss)}; unbound closed ${after.group.counters.unboundClosed - before.group.counters.unboundClosed}`)
    expect(after.group.load.conns, 'group streams the node still holds').toBe(baseConns)
    expect(after.group.counters.unboundClosed - before.group.counters.unboundClosed).toBeGreaterThanOrEqual(8 * 4)
    expect(after.memory.rss - before.memory.rss).toBeLessThan(64 * MIB)

    await finish(h, { minFrames: 300 })
  }, 90_000)

  it('2. stream-creation flood: 8 streams per identity, then QUOTA_EXCEEDED; others still create; the node-wide bound holds', async () => {
    // --max-streams 20: alice's stream is the first. A stream whose members
    // are all gone ends after the grace period, here 1 s.
    const h = await healthy('lobby', { nodeExtra: ['--max-streams', '20', '--member-grace-ms', '1000'] })
    const addr = multiaddr(h.node.addr)
    const before = await nodeStats(h.node)
    const [a, b, c] = await Promise.all(range(3).map(async () => await attackerHost()))
    const create = async (host: Libp2p, name: string): Promise<{ code: string, message: string, ch: GroupChannel }> => {
      const ch = await channel(host, addr)
      try {
        await ch.request({ create: { stream: name, groupId: randomBytes(32) } })
        return { code: 'ok', message: '', ch }
      } catch (err) {
        await ch.close()
        return { code: isFabricError(err) ? err.code : String(err), message: (err as Error).message, ch }
      }
    }
    const started = Date.now()
    const byA = []
    for (const i of range(MAX_STREAMS_PER_IDENTITY + 1)) byA.push(await create(a!, `flood-${i}`))
    const tookMs = Date.now() - started
    expect(byA.slice(0, MAX_STREAMS_PER_IDENTITY).map((r) => r.code)).toEqual(range(MAX_STREAMS_PER_IDENTITY).map(() => 'ok'))
    expect(byA[MAX_STREAMS_PER_IDENTITY]!.code).toBe('QUOTA_EXCEEDED')
    expect(byA[MAX_STREAMS_PER_IDENTITY]!.message).toMatch(/owns 8 streams/)
    // Another identity is not locked out by the first one's flood.
    const byB = []
    for (const i of range(MAX_STREAMS_PER_IDENTITY)) byB.push(await create(b!, `flood-${i}`))
    expect(byB.every((r) => r.code === 'ok')).toBe(true)
    // 1 + 8 + 8 = 17 streams: a third identity gets 3 more, then the node's bound.
    const byC = []
    for (const i of range(4)) byC.push(await create(c!, `flood-${i}`))
    expect(byC.map((r) => r.code)).toEqual(['ok', 'ok', 'ok', 'QUOTA_EXCEEDED'])
    expect(byC[3]!.message).toMatch(/hosts 20 streams/)

    const after = await nodeStats(h.node)
    const refused = (after.group.counters.refused.QUOTA_EXCEEDED ?? 0) - (before.group.counters.refused.QUOTA_EXCEEDED ?? 0)
    console.log(`  (b) identity A: ${byA.filter((r) => r.code === 'ok').length} created in ${tookMs} ms, the 9th ${byA[8]!.code}; B: 8 created; C: 3 created, the 4th ${byC[3]!.code} (node-wide); refusals counted ${refused}`)
    console.log(`  (a) node RSS ${mib(before.memory.rss)} -> ${mib(after.memory.rss)}`)
    expect(after.group.streams.length).toBe(20)
    expect(refused).toBe(2)
    expect(after.memory.rss - before.memory.rss).toBeLessThan(32 * MIB)

    // A's streams end once its group streams have been gone past the grace period, and the slots are free again.
    await Promise.all(byA.map(async (r) => { await r.ch.close() }))
    let released = after
    for (let i = 0; i < 50 && released.group.streams.length !== 12; i++) { await sleep(100); released = await nodeStats(h.node) }
    expect(released.group.streams.length).toBe(12)
    expect((await create(a!, 'again')).code).toBe('ok')
    await finish(h)
  }, 60_000)

  it('3. pending-join flood: 300 identities denied NOT_ADMITTED at once, the pending bound holds, a legitimate joiner gets in; 17 joins of one identity', async () => {
    const h = await healthy('guarded', { prepare: ['carol'] })
    const addr = multiaddr(h.node.addr)
    const before = await nodeStats(h.node)
    const owner = h.alice.identity

    // 300 throwaway identities, each on its own connection. Connections are
    // opened at ~65/s: the node accepts up to 100 new ones per second per host.
    const hosts: Libp2p[] = []
    for (let i = 0; i < 300; i += 20) {
      hosts.push(...await Promise.all(range(20).map(async () => {
        const host = await attackerHost()
        await host.dial(addr)
        return host
      })))
      await sleep(300)
    }
    // Each of `joiners` asks to join alice's stream at the same moment; the
    // answer is the join's reply, or the unsolicited error after its ok.
    type Answer = { code: string, at: number, when: string }
    const askAll = async (joiners: Libp2p[]): Promise<{ answers: Answer[], latencies: number[] }> => {
      const channels = await Promise.all(joiners.map(async (host) => await channel(host, addr)))
      const sentAt = Date.now()
      const answers = await within(Promise.all(channels.map(async (ch): Promise<Answer> => {
        const answer = unsolicitedError(ch)
        try {
          await ch.request({ join: { stream: h.stream, owner, redemption: new Uint8Array(0) } })
        } catch (err) {
          return { code: isFabricError(err) ? err.code : String(err), at: Date.now(), when: 'reply' }
        }
        return { ...(await answer), when: 'after ok' }
      })), 30_000, `${joiners.length} joins answered`)
      return { answers, latencies: answers.map((a) => a.at - sentAt).sort((x, y) => x - y) }
    }
    const tally = (answers: Answer[]): Record<string, number> => {
      const codes: Record<string, number> = {}
      for (const a of answers) codes[`${a.code} (${a.when})`] = (codes[`${a.code} (${a.when})`] ?? 0) + 1
      return codes
    }
    const pending = sampler(h.node, (s) => s.group.load.pendingJoins as number, 20)
    // Three waves of 100 at once: each joiner is denied by the committer at once.
    const waves = []
    for (let w = 0; w < 3; w++) waves.push(await askAll(hosts.slice(w * 100, (w + 1) * 100)))
    const waveAnswers = waves.flatMap((x) => x.answers)
    const waveLatencies = waves.flatMap((x) => x.latencies).sort((x, y) => x - y)
    // All 300 at once, more than the stream's 256 slots: whoever arrives while
    // every slot waits for alice's denial is refused QUOTA_EXCEEDED instead.
    const burst = await askAll(hosts)
    await sleep(300)
    await pending.stop()
    const maxPending = Math.max(...pending.samples)
    const mid = await nodeStats(h.node)
    const burstQuota = burst.answers.filter((a) => a.code === 'QUOTA_EXCEEDED').length
    const burstDenied = burst.answers.filter((a) => a.code === 'NOT_ADMITTED').length
    console.log(`  (b) 3 waves of 100 joins: ${JSON.stringify(tally(waveAnswers))}, answered in ${waveLatencies[0]}..${waveLatencies[299]} ms (median ${waveLatencies[150]})`)
    console.log(`  (b) 300 joins at once: ${JSON.stringify(tally(burst.answers))}, answered in ${burst.latencies[0]}..${burst.latencies[299]} ms (median ${burst.latencies[150]}); ` +
      `max pending seen ${maxPending} (${pending.samples.length} samples); denied counted ${mid.group.counters.denied - before.group.counters.denied}, QUOTA_EXCEEDED ${(mid.group.counters.refused.QUOTA_EXCEEDED ?? 0) - (before.group.counters.refused.QUOTA_EXCEEDED ?? 0)}`)
    console.log(`  (a) node RSS ${mib(before.memory.rss)} -> ${mib(mid.memory.rss)} with 300 extra connections`)
    expect(waveAnswers.filter((a) => a.code !== 'NOT_ADMITTED')).toEqual([])
    expect(burst.answers.filter((a) => a.code !== 'NOT_ADMITTED' && !(a.code === 'QUOTA_EXCEEDED' && a.when === 'reply'))).toEqual([])
    // A refusal means 256 others were waiting, none of them refused.
    expect(burstQuota).toBeLessThanOrEqual(300 - MAX_PENDING_JOINERS_PER_STREAM)
    expect(mid.group.counters.denied - before.group.counters.denied).toBe(300 + burstDenied)
    expect((mid.group.counters.refused.QUOTA_EXCEEDED ?? 0) - (before.group.counters.refused.QUOTA_EXCEEDED ?? 0)).toBe(burstQuota)
    expect(maxPending).toBeLessThanOrEqual(MAX_PENDING_JOINERS_PER_STREAM)
    let settled = mid
    for (let i = 0; i < 20 && settled.group.load.pendingJoins !== 0; i++) { await sleep(100); settled = await nodeStats(h.node) }
    expect(settled.group.load.pendingJoins).toBe(0)
    expect(mid.memory.rss - before.memory.rss).toBeLessThan(96 * MIB)

    // The bound itself, on a stream whose owner never answers (the issue's
    // attack on a committer that did not deny): 256 wait, the 257th is refused.
    const idleOwner = await attackerHost()
    await (await channel(idleOwner, addr)).request({ create: { stream: 'idle', groupId: randomBytes(32) } })
    const idleCodes = await Promise.all(hosts.slice(0, MAX_PENDING_JOINERS_PER_STREAM + 1).map(async (host) =>
      await codeOf((await channel(host, addr)).request({ join: { stream: 'idle', owner: idleOwner.peerId.toString(), redemption: new Uint8Array(0) } }))))
    const full = await nodeStats(h.node)
    const idleStream = full.group.streams.find((x: { stream: string }) => x.stream === `${idleOwner.peerId.toString()}/idle`)
    console.log(`  (b) 257 joins to a stream whose owner never answers: ${idleCodes.filter((c) => c === 'resolved').length} pending, ${idleCodes.filter((c) => c === 'QUOTA_EXCEEDED').length} QUOTA_EXCEEDED; the stream holds ${idleStream.pendingJoins}`)
    expect(idleCodes.filter((c) => c === 'resolved').length).toBe(MAX_PENDING_JOINERS_PER_STREAM)
    expect(idleCodes.filter((c) => c === 'QUOTA_EXCEEDED').length).toBe(1)
    expect(idleStream.pendingJoins).toBe(MAX_PENDING_JOINERS_PER_STREAM)
    await Promise.all(hosts.map(async (host) => { await host.stop() }))
    await idleOwner.stop()

    // The legitimate joiner alice allows gets in and receives alice's video.
    const carol = await joiner(h, 'carol')
    await carol.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === owner, 20_000, 'carol\'s first keyframe')

    // One identity waiting on more than 16 streams at once: 17 streams of
    // owners that never answer (each owner holds at most 8).
    const owners = await Promise.all(range(3).map(async () => await attackerHost()))
    const targets: Array<{ owner: string, name: string }> = []
    for (const i of range(MAX_PENDING_JOINS_PER_IDENTITY + 1)) {
      const o = owners[Math.floor(i / MAX_STREAMS_PER_IDENTITY)]!
      const ch = await channel(o, addr)
      await ch.request({ create: { stream: `silent-${i}`, groupId: randomBytes(32) } })
      targets.push({ owner: o.peerId.toString(), name: `silent-${i}` })
    }
    const greedy = await attackerHost()
    const beforeGreedy = await nodeStats(h.node)
    const greedyCodes: string[] = []
    for (const t of targets) {
      const ch = await channel(greedy, addr)
      greedyCodes.push(await codeOf(ch.request({ join: { stream: t.name, owner: t.owner, redemption: new Uint8Array(0) } })))
    }
    const afterGreedy = await nodeStats(h.node)
    console.log(`  (b) one identity's 17 joins: ${greedyCodes.filter((c) => c === 'resolved').length} pending, the 17th ${greedyCodes[16]}; pending joins on the node ${afterGreedy.group.load.pendingJoins}`)
    expect(greedyCodes.slice(0, MAX_PENDING_JOINS_PER_IDENTITY).every((c) => c === 'resolved')).toBe(true)
    expect(greedyCodes[MAX_PENDING_JOINS_PER_IDENTITY]).toBe('QUOTA_EXCEEDED')
    expect(afterGreedy.group.load.pendingJoins).toBe(MAX_PENDING_JOINS_PER_IDENTITY)
    expect((afterGreedy.group.counters.refused.QUOTA_EXCEEDED ?? 0) - (beforeGreedy.group.counters.refused.QUOTA_EXCEEDED ?? 0)).toBe(1)
    await greedy.stop()

    await sleep(2_000)
    await finish(h, { receivers: [carol] })
  }, 120_000)

  it('8. frozen peer: a SIGSTOPped member is cut by the liveness timeout and removed when its grace runs out', async () => {
    const h = await healthy('frozen', { prepare: ['dave'] })
    const dave = await joiner(h, 'dave')
    await dave.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === h.alice.identity, 20_000, 'dave\'s first keyframe')
    const before = await nodeStats(h.node)
    const connsBefore = before.connections.open as number

    const stoppedAt = Date.now()
    dave.proc.child.kill('SIGSTOP')
    let removed: ProcEvent
    try {
      // Expected near liveness timeout + member grace (15 s); the wait is a
      // generous bound for a loaded machine, the figure is logged, not asserted.
      removed = await h.alice.proc.waitFor((e) => e.event === 'epoch' && (e.removed as string[]).includes(dave.identity), 45_000, 'alice commits dave\'s removal')
    } finally {
      dave.proc.child.kill('SIGCONT')
    }
    const detectedMs = (removed.t as number) - stoppedAt
    const after = await nodeStats(h.node)
    const stream = after.group.streams.find((s: { stream: string }) => s.stream === h.key)
    console.log(`  (b) frozen dave: removal committed by alice ${detectedMs} ms after SIGSTOP (liveness timeout ${NODE_LIVENESS_TIMEOUT_MS} ms; 36 600 ms before); connections ${connsBefore} -> ${after.connections.open}; roster ${stream.members.length} members`)
    console.log(`  (a) node RSS ${mib(before.memory.rss)} -> ${mib(after.memory.rss)}`)
    expect(stream.members).not.toContain(dave.identity)
    // The removal came from the grace period running out, not from dave leaving.
    expect(after.group.counters.graceExpired).toBeGreaterThan(before.group.counters.graceExpired)
    expect(after.connections.open).toBeLessThan(connsBefore)
    // The cut is counted as a liveness timeout.
    expect(after.connections.aborted.TimeoutError ?? 0).toBeGreaterThan(before.connections.aborted.TimeoutError ?? 0)
    expect(after.memory.rss - before.memory.rss).toBeLessThan(32 * MIB)
    await dave.proc.stop('SIGKILL')
    await finish(h)
  }, 120_000)
})
