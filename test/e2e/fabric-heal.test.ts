/**
 * A stream's relay tree heals around a dead relay and a frozen one. Seven
 * `fabric-node` processes (fixtures/topologies/tree-7.json), each feeding
 * at most two children, so the home's tree has relays in the middle; a
 * member on every node, Alice on the home publishing without pause. Then:
 *
 * 1. kill -9 of a middle relay: the members below it decrypt Alice again
 *    (their nodes move to their standby at once, then where the home's
 *    planner puts them);
 * 2. SIGSTOP of another relay with children: the home's planner fails it
 *    when its heartbeats stop, and the members below it decrypt again.
 *
 * After the kill, a member below the dead relay publishes: Alice and a
 * member elsewhere decrypt it (media goes up the healed tree too). Nothing
 * decrypts twice: each (sender, track, sequence) reaches each member at
 * most once. The heal times are printed, not asserted (shared machines
 * are noisy: bench/heal.ts measures them).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { locateStream } from '../../src/client/directory-client.js'
import type { ReceivedFrame } from '../../src/client/frame-decryptor.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import { REPO_ROOT } from '../../src/cli/processes.js'
import { loadTopology, startFabric, type Fabric, type FabricNode } from '../../src/fixture/fabric-fixture.js'
import { relayTree, shortId } from '../../src/fixture/heal-probe.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { throughRelay } from '../../src/transport/libp2p/relay.js'
import { sleep, until } from '../timing.js'

const WAIT_MS = 30_000
const STREAM = 'heal'
/** Alice's frame interval, ms (25 frames per second). */
const FRAME_MS = 40

describe('a relay tree that heals', () => {
  let fabric: Fabric | undefined
  const clients: FabricClient[] = []

  afterAll(async () => {
    for (const n of fabric?.nodes ?? []) { try { n.process?.child.kill('SIGCONT') } catch {} }
    await Promise.allSettled(clients.map(async (c) => { await c.close() }))
    await fabric?.stop()
  }, 60_000)

  it('routes around a relay killed with SIGKILL and one frozen with SIGSTOP; nothing decrypts twice', async () => {
    fabric = await startFabric({ topology: await loadTopology(join(REPO_ROOT, 'fixtures', 'topologies', 'tree-7.json')), mode: 'processes', tree: { maxChildren: 2, capacity: 2 } })
    const f = fabric
    await f.waitConnected(WAIT_MS)
    const home = f.byName('root')
    const relays = f.nodes.filter((n) => n !== home)
    const byShort = (s: string): FabricNode => f.nodes.find((n) => shortId(n) === s)!

    const alice = await FabricClient.connect({ node: home.multiaddr })
    clients.push(alice)
    const others = new Map<FabricNode, FabricClient>()
    for (const n of relays) {
      const c = await FabricClient.connect({ node: n.multiaddr })
      clients.push(c)
      others.set(n, c)
    }
    const owner = await alice.createStream(STREAM, { admission: { allow: [...others.values()].map((c) => c.identity) } })
    const members = new Map<FabricNode, StreamMember>()
    for (const [n, c] of others) {
      // The member's node locates the stream, and the home answers through that node (its relay slot there).
      const deadline = Date.now() + WAIT_MS
      for (;;) {
        const found = await locateStream(libp2pDialer(c.libp2p, c.node), alice.identity, STREAM, { timeoutMs: 3_000 }).catch(() => undefined)
        if (found === home.peerId && await locateStream(libp2pDialer(c.libp2p, throughRelay(c.node, home.peerId)), alice.identity, STREAM, { timeoutMs: 3_000 }).catch(() => undefined) === home.peerId) break
        if (Date.now() > deadline) throw new Error(`the home not reachable through ${n.name} within ${WAIT_MS} ms`)
        await sleep(200)
      }
      members.set(n, await c.joinStream(STREAM, { owner: alice.identity }))
    }
    await until(() => [...members.values()].every((m) => m.epoch === owner.epoch && m.roster.length === 7), WAIT_MS, 'one epoch, seven members')

    const got = new Map<FabricNode, ReceivedFrame[]>()
    for (const [n, m] of members) {
      const frames: ReceivedFrame[] = []
      got.set(n, frames)
      m.on('frame', (fr) => { if (fr.sender === alice.identity) frames.push(fr) })
    }
    let publishing = true
    const track = owner.publishTrack(0)
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        await track.sendFrame(new Uint8Array(randomBytes(600)), { keyframe: i % 25 === 0 })
        await sleep(FRAME_MS)
      }
    })()

    try {
      await until(() => [...got.values()].every((frames) => frames.length > 10), WAIT_MS, 'every member decrypts alice')
      // Every relay is placed: six relays, at most two children each, so two of them feed others.
      await until(() => relayTree(home).size === 6, WAIT_MS, 'six relays placed')

      /** Stops `victim` with `signal`; resolves with the ms until every member below it decrypts a frame sent after it stopped. */
      const disrupt = async (victim: FabricNode, signal: 'SIGKILL' | 'SIGSTOP'): Promise<number[]> => {
        const below = [...relayTree(home)].filter(([, p]) => p.parent === shortId(victim)).map(([s]) => byShort(s))
        expect(below.length, `${victim.name} feeds someone`).toBeGreaterThan(0)
        const mark = new Map(below.map((n) => [n, got.get(n)!.length]))
        const t0 = Date.now()
        victim.process!.child.kill(signal)
        const healed = new Map<FabricNode, number>()
        await until(() => {
          for (const n of below) if (!healed.has(n) && got.get(n)!.length > mark.get(n)! + 3) healed.set(n, Date.now() - t0)
          return healed.size === below.length
        }, WAIT_MS, `the members below ${victim.name} decrypt again after ${signal}`)
        console.log(`${signal} ${victim.name}: ${below.map((n) => `${n.name} ${healed.get(n)} ms`).join(', ')}`)
        return [...healed.values()]
      }

      /** `from` sends frames once its node has moved: Alice and a member on `other` decrypt them all (media up the healed tree). */
      const publishesUp = async (from: FabricNode, other: FabricNode): Promise<void> => {
        const sender = members.get(from)!
        const seen = new Map<string, number[]>([['alice', []], [other.name, []]])
        const onAlice = (fr: ReceivedFrame): void => { if (fr.sender === sender.identity) seen.get('alice')!.push(fr.sequence) }
        const onOther = (fr: ReceivedFrame): void => { if (fr.sender === sender.identity) seen.get(other.name)!.push(fr.sequence) }
        owner.on('frame', onAlice)
        members.get(other)!.on('frame', onOther)
        try {
          const t = sender.publishTrack(0)
          // Its first frames may meet the old way's tracks still held (a relay takes a track once its old source was silent 500 ms): send until both see 5 in a row.
          const deadline = Date.now() + WAIT_MS
          for (let i = 0; [...seen.values()].some((seqs) => seqs.length < 5); i++) {
            if (Date.now() > deadline) throw new Error(`${from.name}'s frames do not reach alice and ${other.name} after the move: ${JSON.stringify([...seen])}`)
            await t.sendFrame(new Uint8Array(randomBytes(300)), { keyframe: i === 0 })
            await sleep(FRAME_MS)
          }
        } finally {
          owner.off('frame', onAlice)
          members.get(other)!.off('frame', onOther)
        }
      }

      const middle = () => relays.filter((n) => [...relayTree(home).values()].some((p) => p.parent === shortId(n)))
      const killed = middle()[0]!
      const orphans = [...relayTree(home)].filter(([, p]) => p.parent === shortId(killed)).map(([s]) => byShort(s))
      await disrupt(killed, 'SIGKILL')
      await publishesUp(orphans[0]!, relays.find((n) => n !== killed && !orphans.includes(n))!)
      // The home re-places the orphans; then another relay that feeds someone is frozen.
      await until(() => middle().some((n) => n !== killed), WAIT_MS, 'another relay with children')
      await sleep(500)
      const frozen = middle().find((n) => n !== killed)!
      await disrupt(frozen, 'SIGSTOP')

      const survivors = relays.filter((n) => n !== killed && n !== frozen)
      const marks = new Map(survivors.map((n) => [n, got.get(n)!.length]))
      await until(() => survivors.every((n) => got.get(n)!.length > marks.get(n)! + 10), WAIT_MS, 'every surviving member keeps decrypting')
    } finally {
      publishing = false
      await publisher.catch(() => {})
    }

    // Nothing decrypted twice, anywhere.
    for (const [n, frames] of got) {
      const seen = new Set(frames.map((fr) => `${fr.track}/${fr.sequence}`))
      expect(seen.size, `${n.name} decrypted a frame twice`).toBe(frames.length)
    }
  }, 240_000)
})
