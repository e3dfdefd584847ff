/**
 * Members on different nodes of one fabric, as an operator and users run
 * them: three `fabric-node start` processes share a fabric key (A creates
 * the key file on first start; B and C bootstrap from A), and three
 * `fabric join` processes over libp2p TCP on 127.0.0.1. Alice, on A,
 * creates a stream admitting bob and carol; bob, on B, and carol, on C, join
 * it by owner and name: their nodes locate its home through the fabric's
 * DHT and they reach A through their own node by circuit relay. Each
 * publishes a VP8 clip and records the others. Every member gets every
 * frame of every other member byte-identical from its first keyframe on,
 * and every recording decodes with ffmpeg (PATH's, else the npm-shipped one).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { locateStream } from '../../src/client/directory-client.js'
import { loadOrCreateIdentity } from '../../src/cli/identity-file.js'
import {
  REPO_ROOT, nodeStats, startMember, startNodeProcess, type MemberProc, type MemberSpec, type NodeProc, type ProcEvent,
} from '../../src/cli/processes.js'
import { checkDecodes } from '../../src/media/ffmpeg-check.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { throughRelay } from '../../src/transport/libp2p/relay.js'
import { sleep } from '../timing.js'

/** Frames a sender sent or a receiver got, as `fabric join --json` summarises them: [sequence, hash, keyframe 0/1, epoch]. */
type FrameLog = Array<[number, string, number, string]>
interface Summary extends ProcEvent {
  stats: { bySender: Record<string, { received: number, decrypted: number, failures: number }> }
  sent: FrameLog
  received: Record<string, FrameLog>
  recordings: Array<{ path: string, frames: number }>
}

const NAMES = ['alice', 'bob', 'carol'] as const
type Name = typeof NAMES[number]
const STREAM = 'across'
/** A bound on each wait; the whole file stays well under 90 s when nothing hangs. */
const WAIT_MS = 20_000
/** Media everyone exchanges once all three are in. */
const MEDIA_MS = 4_000

describe('members on three node processes of one fabric', () => {
  let dir: string
  const nodes = new Map<Name, NodeProc>()
  const members = new Map<Name, MemberProc>()
  const summaries = new Map<Name, Summary>()
  let probe: FabricClient | undefined
  let groupOnA: { stream: string, members: string[] } | undefined
  const groupsElsewhere: string[] = []

  const identity = (n: Name): string => members.get(n)!.identity
  const others = (n: Name): Name[] => NAMES.filter((x) => x !== n)

  /**
   * Polls until `node` locates the stream at A and A answers through `node`
   * by circuit relay: A's provider record is stored and A holds a relay slot
   * on `node`, so a member of `node` can join. Neither shows in any node's
   * admin stats, hence the probe from this process.
   */
  const reachable = async (client: FabricClient, node: NodeProc, owner: string): Promise<void> => {
    const a = nodes.get('alice')!
    const edge = multiaddr(node.addr)
    const deadline = Date.now() + WAIT_MS
    let last = ''
    for (;;) {
      try {
        const home = await locateStream(libp2pDialer(client.libp2p, edge), owner, STREAM, { timeoutMs: 3_000 })
        // A's own directory names itself: the circuit through `node` carries.
        if (home === a.peerId && await locateStream(libp2pDialer(client.libp2p, throughRelay(edge, a.peerId)), owner, STREAM, { timeoutMs: 3_000 }) === a.peerId) return
        last = `located at ${home}`
      } catch (err) {
        last = (err as Error).message
      }
      if (Date.now() > deadline) throw new Error(`${owner}/${STREAM} not reachable at A through ${node.addr} within ${WAIT_MS} ms: ${last}`)
      await sleep(200)
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-processes-'))
    const keyFile = join(dir, 'fabric.key')
    const a = await startNodeProcess({ extra: ['--fabric-key', keyFile] })
    nodes.set('alice', a)
    // A wrote the key on its first start; the others read the same file.
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
    const joinFabric = ['--fabric-key', keyFile, '--bootstrap', a.addr]
    const [b, c] = await Promise.all([startNodeProcess({ extra: joinFabric }), startNodeProcess({ extra: joinFabric })])
    nodes.set('bob', b)
    nodes.set('carol', c)

    const ids = new Map<Name, string>()
    for (const n of NAMES) ids.set(n, (await loadOrCreateIdentity(join(dir, `${n}.id`))).identity.peerId)
    const spec = (n: Name): MemberSpec => ({
      name: n, node: nodes.get(n)!.addr, stream: STREAM, identity: join(dir, `${n}.id`),
      publish: join(REPO_ROOT, 'fixtures', 'media', `${n}.ivf`), loop: true, record: join(dir, 'rec', n),
    })
    members.set('alice', await startMember({ ...spec('alice'), create: true, allow: [ids.get('bob')!, ids.get('carol')!] }, WAIT_MS))

    probe = await FabricClient.connect({ node: b.addr })
    await Promise.all([reachable(probe, b, ids.get('alice')!), reachable(probe, c, ids.get('alice')!)])
    const [bob, carol] = await Promise.all([
      startMember({ ...spec('bob'), owner: ids.get('alice')! }, WAIT_MS),
      startMember({ ...spec('carol'), owner: ids.get('alice')! }, WAIT_MS),
    ])
    members.set('bob', bob)
    members.set('carol', carol)

    // Everyone has a keyframe of both others, then media flows for a while.
    for (const [n, m] of members) {
      for (const s of others(n)) await m.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === identity(s), WAIT_MS, `a keyframe of ${s}`)
    }
    const stream = `${ids.get('alice')!}/${STREAM}`
    groupOnA = ((await nodeStats(a)).group.streams as Array<{ stream: string, members: string[] }>).find((s) => s.stream === stream)
    for (const n of [b, c]) {
      groupsElsewhere.push(...((await nodeStats(n)).group.streams as Array<{ stream: string }>).map((s) => s.stream))
    }
    await sleep(MEDIA_MS)
    for (const m of members.values()) m.proc.send('stop')
    for (const [n, m] of members) summaries.set(n, await m.proc.waitFor((e) => e.event === 'summary', WAIT_MS, 'summary') as Summary)
  }, 80_000)

  afterAll(async () => {
    await probe?.close().catch(() => {})
    // Members first, so none is left talking to a stopped node; each is killed after a grace period.
    await Promise.allSettled([...members.values()].map(async (m) => await m.proc.stop('SIGTERM', 5_000)))
    await Promise.allSettled([...nodes.values()].map(async (n) => await n.proc.stop('SIGTERM', 5_000)))
    await rm(dir, { recursive: true, force: true })
  }, 30_000)

  it('holds the stream\'s group on A, with all three members, and on neither B nor C', () => {
    expect(groupOnA?.members.slice().sort()).toEqual(NAMES.map(identity).sort())
    expect(groupsElsewhere).not.toContain(groupOnA?.stream)
  })

  it('every member decrypts both others, with no decrypt failure', () => {
    for (const r of NAMES) {
      const bySender = summaries.get(r)!.stats.bySender
      for (const s of others(r)) expect(bySender[identity(s)]?.decrypted ?? 0, `${r} from ${s}`).toBeGreaterThan(0)
      for (const [sender, st] of Object.entries(bySender)) expect(st.failures, `${r}'s failures from ${sender}`).toBe(0)
    }
  })

  it('after its first keyframe from a sender, a member gets every frame that sender sent, byte-identical', () => {
    for (const r of NAMES) {
      for (const s of others(r)) {
        const got = summaries.get(r)!.received[`${identity(s)}/0`] ?? []
        const firstKey = got.find((f) => f[2] === 1)
        expect(firstKey, `${r} got a keyframe from ${s}`).toBeDefined()
        const last = got[got.length - 1]![0]
        const hashes = new Map(got.map((f) => [f[0], f[1]]))
        const expected = summaries.get(s)!.sent.filter((f) => f[0] >= firstKey![0] && f[0] <= last)
        // A few seconds of 30 fps video, not a trickle.
        expect(expected.length, `${r} from ${s}`).toBeGreaterThan(30)
        expect(expected.filter((f) => hashes.get(f[0]) !== f[1]).map((f) => f[0]), `${r}: frames of ${s} missing or different`).toEqual([])
      }
    }
  })

  it('every recording of another member decodes with ffmpeg, every frame of it', async () => {
    for (const r of NAMES) {
      const recordings = summaries.get(r)!.recordings
      expect(recordings.map((x) => x.path).sort()).toEqual(others(r).map((s) => join(dir, 'rec', r, `${identity(s)}-0.ivf`)).sort())
      for (const rec of recordings) {
        const d = await checkDecodes(rec.path)
        expect(d.errors, rec.path).toBe('')
        expect(d.ok).toBe(true)
        expect(d.frames, rec.path).toBe(rec.frames)
        expect(rec.frames).toBeGreaterThan(30)
      }
    }
  }, 30_000)
})
