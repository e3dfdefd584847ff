/**
 * GroupService, the I/O shell around GroupServiceCore, over real libp2p
 * streams in this process: a bare node host running only the group service,
 * and raw clients that speak the framed protobuf protocol with the codecs of
 * src/wire/messages.ts (no GroupChannel, so every byte on the wire is the
 * test's). Covers what the shell itself decides: malformed frames, the
 * membership and committer events, per-stream frame bounds, stop() with its
 * GoingAway notice, and streams stored in a GroupStore and restored by the
 * next service.
 */
import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import type { Libp2p } from '@libp2p/interface'
import { MemoryDatastore } from 'datastore-core'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { GOING_AWAY_RETRY_MS, GroupService, type CommitterEvent, type RosterEvent, type StreamClosedEvent } from '../../src/node/group-service.js'
import { MAX_GROUP_REQUEST_FRAME } from '../../src/node/group-core.js'
import { GroupStore } from '../../src/node/group-store.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { generateIdentity, privateKeyOfIdentity, type MemberIdentity } from '../../src/session/identity.js'
import { framePrefix } from '../../src/wire/framing.js'
import { MAX_CONTROL_FRAME } from '../../src/wire/limits.js'
import { decodeGroupServerMessage, encodeGroupClientMessage, GROUP_PROTOCOL } from '../../src/wire/messages.js'
import { GroupClientMessage, type GroupServerMessage } from '../../src/wire/pb/group.js'
import { streamKey } from '../../src/wire/stream-tag.js'
import type { GroupRequestBody } from '../../src/client/group-channel.js'
import { until, within } from '../timing.js'

const READ_MS = 5_000

/** A dial-only host running as a fresh identity. */
interface Peer { host: Libp2p, id: MemberIdentity, peer: string }

async function newPeer (): Promise<Peer> {
  const id = await generateIdentity()
  return { host: await createHost({ listen: [], privateKey: privateKeyOfIdentity(id) }), id, peer: id.peerId }
}

/** One raw /fabric/group/1 stream: framed bytes out, decoded server messages in. */
class Raw {
  readonly framed: Libp2pChannel
  private nextId = 1n
  private constructor (framed: Libp2pChannel) { this.framed = framed }

  static async open (from: Peer, to: Multiaddr): Promise<Raw> {
    return new Raw(new Libp2pChannel(await within(from.host.dialProtocol(to, GROUP_PROTOCOL), READ_MS, 'dial'), MAX_CONTROL_FRAME))
  }

  async read (): Promise<GroupServerMessage> {
    return decodeGroupServerMessage(await this.framed.next(READ_MS))
  }

  /** Sends `body` with a fresh request id and returns the reply to it, skipping unsolicited messages. */
  async request (body: GroupRequestBody): Promise<GroupServerMessage> {
    const requestId = this.nextId++
    await this.framed.send(encodeGroupClientMessage({ ...body, requestId }))
    for (;;) {
      const m = await this.read()
      if (m.requestId === requestId) return m
    }
  }

  /** A create of `name` (any non-empty group id will do for the service). */
  async create (name: string): Promise<GroupServerMessage> {
    return await this.request({ create: { stream: name, groupId: new Uint8Array(32).fill(7) } })
  }
}

describe('GroupService over libp2p (raw clients)', () => {
  let node: Libp2p
  let service: GroupService
  let addr: Multiaddr
  let alice: Peer
  let bob: Peer
  const rosters: RosterEvent[] = []
  const closed: StreamClosedEvent[] = []
  const committers: CommitterEvent[] = []

  beforeAll(async () => {
    [node, alice, bob] = await Promise.all([createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] }), newPeer(), newPeer()])
    service = new GroupService(libp2pListener(node))
    service.on('roster', (e) => { rosters.push(e) })
    service.on('streamClosed', (e) => { closed.push(e) })
    service.on('committer', (e) => { committers.push(e) })
    await service.start()
    addr = node.getMultiaddrs()[0]!
  })

  afterAll(async () => {
    await service?.stop()
    await Promise.all([node, alice?.host, bob?.host].map(async (h) => { await h?.stop() }))
  })

  it('answers an undecodable frame with an error and keeps the stream usable; malformed counts each', async () => {
    const raw = await Raw.open(alice, addr)
    const before = service.malformed
    // Not protobuf at all.
    await raw.framed.send(new Uint8Array([0xff, 0xff, 0xff, 0xff]))
    const garbage = await raw.read()
    expect(garbage.requestId).toBe(0n)
    expect(garbage.error?.code).toBe('MALFORMED')
    // Valid protobuf, but no body.
    await raw.framed.send(GroupClientMessage.encode({ version: 1, requestId: 9n }))
    expect((await raw.read()).error?.code).toBe('MALFORMED')
    // A version this node does not speak.
    await raw.framed.send(GroupClientMessage.encode({ version: 2, requestId: 10n, leave: {} }))
    expect((await raw.read()).error?.code).toBe('UNSUPPORTED_VERSION')
    expect(service.malformed).toBe(before + 3)

    // Framing is intact: the same stream still takes a request and answers it.
    const ok = await raw.create('after-garbage')
    expect(ok.error).toBeUndefined()
    expect(ok.ok?.epoch).toBe(0n)
    expect(service.isMember(streamKey(alice.peer, 'after-garbage'), alice.peer)).toBe(true)
    expect(service.malformed).toBe(before + 3)
    await raw.request({ leave: {} })
    await raw.framed.close()
  })

  it('emits roster and committer on create, and streamClosed when the last member leaves or the owner ends the stream, with the documented fields', async () => {
    const keyA = streamKey(alice.peer, 'events-a')
    const keyB = streamKey(alice.peer, 'events-b')
    const keyC = streamKey(alice.peer, 'events-c')
    const a = await Raw.open(alice, addr)
    const b = await Raw.open(alice, addr)
    const c = await Raw.open(alice, addr)

    expect((await a.create('events-a')).ok?.epoch).toBe(0n)
    // The events are emitted in the same turn as the reply is written: they are there once the reply is.
    const created = rosters.filter((e) => e.stream === keyA)
    expect(created).toHaveLength(1)
    expect(created[0]).toEqual({
      stream: keyA, epoch: 0n, members: [alice.peer], added: [alice.peer], removed: [], leaves: new Map([[alice.peer, 0]]),
    })
    expect(committers.filter((e) => e.stream === keyA)).toEqual([{ stream: keyA, epoch: 0n, committer: alice.peer }])
    // The client sees the same roster.
    const roster = await a.read()
    expect(roster.roster?.members).toEqual([alice.peer])
    expect(roster.roster?.committer).toBe(alice.peer)
    expect(service.leafIndexOf(keyA, alice.peer)).toBe(0)

    expect((await b.create('events-b')).ok?.epoch).toBe(0n)
    expect((await c.create('events-c')).ok?.epoch).toBe(0n)
    expect(rosters.filter((e) => e.stream === keyB)).toHaveLength(1)
    expect(closed.filter((e) => [keyA, keyB, keyC].includes(e.stream))).toEqual([])

    // The last (only) member leaves: the stream ends.
    expect((await a.request({ leave: {} })).ok).toBeDefined()
    expect(closed.filter((e) => e.stream === keyA)).toEqual([{ stream: keyA }])
    const ended = await a.read()
    expect(ended.error?.code).toBe('NOT_FOUND')
    expect(service.isMember(keyA, alice.peer)).toBe(false)

    // The owner ends a stream on purpose.
    expect((await b.request({ end: {} })).ok?.epoch).toBe(0n)
    expect(closed.filter((e) => e.stream === keyB)).toEqual([{ stream: keyB }])
    expect((await b.read()).error?.code).toBe('NOT_FOUND')

    // Its only member's stream closing does not end a stream: the member is away, may resume within the grace period.
    await c.framed.close()
    await until(() => service.core.roster(keyC)?.away.length === 1, READ_MS, 'alice away from events-c')
    expect(closed.some((e) => e.stream === keyC)).toBe(false)
    expect(committers.filter((e) => e.stream === keyC).at(-1)).toEqual({ stream: keyC, epoch: 0n, committer: undefined })
    const back = await Raw.open(alice, addr)
    expect((await back.request({ resume: { stream: 'events-c', owner: alice.peer, epoch: 0n } })).ok?.epoch).toBe(0n)
    expect((await back.read()).roster).toEqual({ epoch: 0n, members: [alice.peer], committer: alice.peer })
    expect(committers.filter((e) => e.stream === keyC).at(-1)).toEqual({ stream: keyC, epoch: 0n, committer: alice.peer })
    expect((await back.request({ end: {} })).ok).toBeDefined()
    expect(closed.filter((e) => e.stream === keyC)).toEqual([{ stream: keyC }])
    // One roster per create, nothing more.
    expect(rosters.filter((e) => [keyA, keyB, keyC].includes(e.stream))).toHaveLength(3)
    await Promise.all([a, b, back].map(async (r) => { await r.framed.close() }))
  })

  it('resets only the stream whose frame passes its bound; the bound is per role', async () => {
    // bob's committer stream, bound before the bad frame arrives elsewhere.
    const committer = await Raw.open(bob, addr)
    expect((await committer.create('bounds')).ok?.epoch).toBe(0n)
    await committer.read() // roster
    // A committer may send frames above the request bound (Commits): a
    // 9 KiB frame is read whole and refused as undecodable, not a framing error.
    const malformed = service.malformed
    await committer.framed.send(new Uint8Array(MAX_GROUP_REQUEST_FRAME + 1024).fill(0xff))
    expect((await committer.read()).error?.code).toBeDefined()
    expect(service.malformed).toBe(malformed + 1)

    // An unbound stream of the same peer, on the same connection, announces a frame one byte over its bound.
    const victim = await Raw.open(bob, addr)
    const spare = await Raw.open(bob, addr)
    victim.framed.stream.send(framePrefix(MAX_GROUP_REQUEST_FRAME + 1))
    await expect(victim.framed.next(READ_MS)).rejects.toThrow()
    expect(victim.framed.stream.status).not.toBe('open')

    // Every other stream carries on: the committer's (an ack is answered) and a fresh one.
    const ack = await committer.request({ ack: { epoch: 0n } })
    expect(ack.error).toBeUndefined()
    expect(ack.ok?.epoch).toBe(0n)
    expect((await spare.create('bounds-2')).ok?.epoch).toBe(0n)
    expect(service.isMember(streamKey(bob.peer, 'bounds'), bob.peer)).toBe(true)
    expect(closed.some((e) => e.stream === streamKey(bob.peer, 'bounds'))).toBe(false)
    // The refused frame's bytes were never held.
    expect(service.frameBudget.inFlight).toBe(0)

    await committer.request({ leave: {} })
    await spare.request({ leave: {} })
    await committer.framed.close()
    await spare.framed.close()
  })
})

describe('GroupService.stop', () => {
  it('tells every member it is going away, then closes every group stream and removes the protocol handler', async () => {
    const [node, carol] = await Promise.all([createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] }), newPeer()])
    const service = new GroupService(libp2pListener(node))
    try {
      await service.start()
      const addr = node.getMultiaddrs()[0]!
      expect(node.getProtocols()).toContain(GROUP_PROTOCOL)
      const raw = await Raw.open(carol, addr)
      expect((await raw.create('doomed')).ok?.epoch).toBe(0n)
      await raw.read() // roster
      const idle = await Raw.open(carol, addr)
      expect((await idle.create('doomed-2')).ok?.epoch).toBe(0n)
      await idle.read() // roster

      await service.stop()
      expect(node.getProtocols()).not.toContain(GROUP_PROTOCOL)
      // Both streams get the GoingAway notice first, then end (reset by the node), not by the read timing out.
      for (const s of [raw, idle]) {
        expect((await s.read()).goingAway).toEqual({ reason: 'the node is stopping', addresses: [], retryAfterMs: GOING_AWAY_RETRY_MS })
        const err = await s.framed.next(READ_MS).then(() => undefined, (e: unknown) => e as { code?: string })
        expect(err).toBeDefined()
        expect(err?.code).not.toBe('TIMEOUT')
      }
      await until(() => node.getConnections().every((c) => c.streams.every((s) => s.protocol !== GROUP_PROTOCOL)), READ_MS, 'no group stream left at the node')
      // A new group stream is refused: the node no longer speaks the protocol.
      const again = await (async () => {
        const r = await Raw.open(carol, addr)
        await r.framed.send(encodeGroupClientMessage({ requestId: 1n, create: { stream: 'late', groupId: new Uint8Array(32) } }))
        return await r.framed.next(READ_MS)
      })().then(() => 'answered', (e: unknown) => (e as { code?: string }).code ?? 'refused')
      expect(again).not.toBe('answered')
      expect(again).not.toBe('TIMEOUT')
    } finally {
      await service.stop().catch(() => {})
      await Promise.all([node.stop(), carol.host.stop()])
    }
  })
})

describe('GroupService with a GroupStore', () => {
  it('stores a stream before answering; a new service on the same datastore restores it and its member resumes', async () => {
    const [node, dave] = await Promise.all([createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] }), newPeer()])
    const datastore = new MemoryDatastore()
    const store = new GroupStore(datastore)
    const first = new GroupService(libp2pListener(node), { store })
    let second: GroupService | undefined
    try {
      await first.start()
      const addr = node.getMultiaddrs()[0]!
      const key = streamKey(dave.peer, 'kept')
      const raw = await Raw.open(dave, addr)
      expect((await raw.create('kept')).ok?.epoch).toBe(0n)
      // Written before the reply went out.
      expect((await store.load()).snapshots.map((s) => s.key)).toEqual([key])
      await raw.read() // roster
      await first.stop()
      expect((await raw.read()).goingAway).toBeDefined()

      // A new service on the same datastore: the stream is back, its member away, nobody committing yet.
      second = new GroupService(libp2pListener(node), { store: new GroupStore(datastore) })
      const rosters: RosterEvent[] = []
      const committers: CommitterEvent[] = []
      second.on('roster', (e) => { rosters.push(e) })
      second.on('committer', (e) => { committers.push(e) })
      await second.start()
      expect(rosters).toEqual([{ stream: key, epoch: 0n, members: [dave.peer], added: [dave.peer], removed: [], leaves: new Map([[dave.peer, 0]]), restored: true }])
      expect(second.core.roster(key)).toMatchObject({ epoch: 0n, committer: '', away: [dave.peer] })
      expect(second.isMember(key, dave.peer)).toBe(true)

      // Dave comes back on a new group stream and resumes: he is the committer again.
      const back = await Raw.open(dave, addr)
      expect((await back.request({ resume: { stream: 'kept', owner: dave.peer, epoch: 0n } })).ok?.epoch).toBe(0n)
      expect((await back.read()).roster).toEqual({ epoch: 0n, members: [dave.peer], committer: dave.peer })
      expect(committers).toEqual([{ stream: key, epoch: 0n, committer: dave.peer }])
      expect(second.core.roster(key)?.away).toEqual([])

      // The owner ends it, and its record goes.
      expect((await back.request({ end: {} })).ok).toBeDefined()
      const deadline = Date.now() + READ_MS
      while ((await store.load()).snapshots.length > 0) {
        if (Date.now() > deadline) throw new Error('the ended stream\'s record is still stored')
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      expect(second.storeFailures).toBe(0)
      await back.framed.close()
    } finally {
      await first.stop().catch(() => {})
      await second?.stop().catch(() => {})
      await Promise.all([node.stop(), dave.host.stop()])
    }
  })
})
