/**
 * Streams that survive (protocol/survival.md), in this process with a real
 * node and real members over libp2p: the creator's connection dies without
 * a leave and the others go on, with the committer role handed over and a
 * new member still admitted; the node stops (GoingAway) and starts again on
 * the same data directory and port, and every member resumes decrypting
 * without rejoining. The separate-process versions (kill -9, SIGSTOP) are in
 * test/e2e/survival.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'
import { until, within } from '../timing.js'

/** Sends one small frame from each member and waits until every other member decrypted a frame of it after `mark`. */
async function everyoneHearsEveryone (members: StreamMember[], what: string): Promise<void> {
  const heard = new Map<StreamMember, Set<string>>()
  const stops: Array<() => void> = []
  for (const m of members) {
    const seen = new Set<string>()
    heard.set(m, seen)
    const on = (f: { sender: string }): void => { seen.add(f.sender) }
    m.on('frame', on)
    stops.push(() => { m.off('frame', on) })
  }
  try {
    await until(() => {
      for (const m of members) void m.publishTrack(0).sendFrame(new Uint8Array(64).fill(7), { keyframe: true }).catch(() => {})
      return members.every((m) => members.every((o) => o === m || heard.get(m)!.has(o.identity)))
    }, 20_000, what)
  } finally {
    for (const s of stops) s()
  }
}

describe('streams that survive (one process)', () => {
  const clients: FabricClient[] = []
  let node: NodeHandle | undefined
  let dir: string | undefined

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {})
    await node?.stop()
    node = undefined
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  const connect = async (): Promise<FabricClient> => {
    const c = await FabricClient.connect({ node: node!.multiaddrs[0]! })
    clients.push(c)
    return c
  }

  it('the creator\'s connection dies: the role moves to the next member, the others keep decrypting each other, and a new member joins', async () => {
    node = await startNode({ admin: false, group: { memberGraceMs: 1_000 } })
    const a = await connect()
    const owner = await a.createStream('call', { admission: { admission: 'open' } })
    const b = await connect()
    const c = await connect()
    const mb = await b.joinStream('call', { owner: a.identity })
    const mc = await c.joinStream('call', { owner: a.identity })
    await within(owner.settled(), 10_000, 'joins committed')
    await everyoneHearsEveryone([owner, mb, mc], 'three members hear each other')

    const roles: string[] = []
    mb.on('committer', (e) => { if (e.self) roles.push('b') })
    mc.on('committer', (e) => { if (e.self) roles.push('c') })
    // No leave: the connection just goes, as with kill -9.
    await a.libp2p.stop()
    await until(() => roles.length > 0, 10_000, 'a member takes the committer role')
    expect(roles).toHaveLength(1)
    const next = roles[0] === 'b' ? mb : mc
    expect(next.isCommitter).toBe(true)
    // After the grace period the new committer removes the creator.
    await until(() => mb.roster.length === 2 && mc.roster.length === 2, 15_000, 'the creator removed')
    expect(mb.roster).not.toContain(a.identity)
    await everyoneHearsEveryone([mb, mc], 'the two left hear each other')

    const d = await connect()
    const md = await within(d.joinStream('call', { owner: a.identity }), 20_000, 'a new member joins')
    await everyoneHearsEveryone([mb, mc, md], 'with the new member')
    expect(node.stats().group.counters.handovers).toBeGreaterThanOrEqual(1)
  })

  it('the node stops and starts again on the same data directory and port: members resume without rejoining', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-survival-'))
    node = await startNode({ admin: false, dataDir: dir })
    const addr = node.multiaddrs[0]!
    const port = /\/tcp\/(\d+)/.exec(addr)![1]!
    const a = await connect()
    const owner = await a.createStream('call', { admission: { admission: 'open' } })
    const b = await connect()
    const mb = await b.joinStream('call', { owner: a.identity })
    await within(owner.settled(), 10_000, 'join committed')
    await everyoneHearsEveryone([owner, mb], 'before the restart')
    const epoch = mb.epoch

    const resumed: Array<{ rejoined: boolean }> = []
    for (const m of [owner, mb]) m.on('resumed', (r) => { resumed.push(r) })
    await node.stop()
    node = await startNode({ admin: false, dataDir: dir, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    expect(node.multiaddrs[0]).toBe(addr)
    await until(() => resumed.length === 2, 20_000, 'both members resumed')
    expect(resumed.map((r) => r.rejoined)).toEqual([false, false])
    expect(mb.epoch).toBe(epoch)
    await everyoneHearsEveryone([owner, mb], 'after the restart')
  })

  it('a member\'s process dies and restarts from its saved state: it resumes when current, CTRs continue above the reservation; it rejoins once removed', async () => {
    node = await startNode({ admin: false, group: { memberGraceMs: 1_000 } })
    const a = await connect()
    const owner = await a.createStream('call', { admission: { admission: 'open' } })
    const b = await connect()
    let record: Uint8Array | undefined
    const state = { save: (r: Uint8Array) => { record = Uint8Array.from(r) } }
    const mb = await b.joinStream('call', { owner: a.identity, state })
    await within(owner.settled(), 10_000, 'join committed')
    await everyoneHearsEveryone([owner, mb], 'before the crash')
    expect(record).toBeDefined()

    // The process dies: no leave, no state written after this point.
    await b.libp2p.stop()
    const b2 = await FabricClient.connect({ node: node.multiaddrs[0]!, identity: b.memberIdentity })
    clients.push(b2)
    const back = await within(b2.restoreStream(record!, { state }), 20_000, 'restored')
    expect(back.restoredAs?.rejoined).toBe(false)
    expect(back.epoch).toBe(mb.epoch)
    await everyoneHearsEveryone([owner, back], 'after the restart')
    // The CTRs it used before the crash were not used again: the owner dropped nothing as a replay.
    expect(owner.stats().bySender[b.identity]?.duplicates ?? 0).toBe(0)

    // Dies again and stays away past the grace period: it is removed, so a restart rejoins.
    const saved = record!
    await b2.libp2p.stop()
    await until(() => owner.roster.length === 1, 15_000, 'the member removed after the grace period')
    const b3 = await FabricClient.connect({ node: node.multiaddrs[0]!, identity: b.memberIdentity })
    clients.push(b3)
    const again = await within(b3.restoreStream(saved, { state }), 20_000, 'rejoined')
    expect(again.restoredAs?.rejoined).toBe(true)
    await everyoneHearsEveryone([owner, again], 'after the rejoin')
  })
})
