/**
 * GroupService, the I/O shell around GroupServiceCore, over real libp2p
 * streams in this process: a bare node host running only the group service,
 * and raw clients that speak the framed protobuf protocol with the codecs of
 * src/wire/messages.ts (no GroupChannel, so every byte on the wire is the
 * test's). Covers what the shell itself decides: malformed frames, the
 * membership events, per-stream frame bounds, stop().
 */
import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { GroupService, type RosterEvent, type StreamClosedEvent } from '../../src/node/group-service.js'
import { MAX_GROUP_REQUEST_FRAME } from '../../src/node/group-core.js'
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

  beforeAll(async () => {
    [node, alice, bob] = await Promise.all([createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] }), newPeer(), newPeer()])
    service = new GroupService(libp2pListener(node))
    service.on('roster', (e) => { rosters.push(e) })
    service.on('streamClosed', (e) => { closed.push(e) })
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

  it('emits roster on create and streamClosed when the committer leaves or its stream closes, with the documented fields', async () => {
    const keyA = streamKey(alice.peer, 'events-a')
    const keyB = streamKey(alice.peer, 'events-b')
    const a = await Raw.open(alice, addr)
    const b = await Raw.open(alice, addr)

    expect((await a.create('events-a')).ok?.epoch).toBe(0n)
    // The event is emitted in the same turn as the reply is written: it is there once the reply is.
    const created = rosters.filter((e) => e.stream === keyA)
    expect(created).toHaveLength(1)
    expect(created[0]).toEqual({
      stream: keyA, epoch: 0n, members: [alice.peer], added: [alice.peer], removed: [], leaves: new Map([[alice.peer, 0]]),
    })
    // The client sees the same roster.
    const roster = await a.read()
    expect(roster.roster?.members).toEqual([alice.peer])
    expect(roster.roster?.committer).toBe(alice.peer)
    expect(service.leafIndexOf(keyA, alice.peer)).toBe(0)

    expect((await b.create('events-b')).ok?.epoch).toBe(0n)
    expect(rosters.filter((e) => e.stream === keyB)).toHaveLength(1)
    expect(closed.filter((e) => e.stream === keyA || e.stream === keyB)).toEqual([])

    // The last (only) member, the committer, leaves: the stream ends.
    expect((await a.request({ leave: {} })).ok).toBeDefined()
    expect(closed.filter((e) => e.stream === keyA)).toEqual([{ stream: keyA }])
    const ended = await a.read()
    expect(ended.error?.code).toBe('NOT_FOUND')
    expect(service.isMember(keyA, alice.peer)).toBe(false)

    // The committer's stream closes without a leave: the stream ends too.
    await b.framed.close()
    await until(() => closed.some((e) => e.stream === keyB), READ_MS, 'streamClosed of events-b')
    expect(closed.filter((e) => e.stream === keyB)).toEqual([{ stream: keyB }])
    expect(service.isMember(keyB, alice.peer)).toBe(false)
    // One roster per create, nothing more.
    expect(rosters.filter((e) => e.stream === keyA || e.stream === keyB)).toHaveLength(2)
    await a.framed.close()
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
  it('closes every group stream and removes the protocol handler', async () => {
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
      // Both streams end (reset by the node), not by the read timing out.
      for (const s of [raw, idle]) {
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
