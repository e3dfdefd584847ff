/**
 * Streams that survive (protocol/survival.md), as users run them: one
 * `fabric-node` process and one `fabric join --json` process per member,
 * over libp2p TCP on 127.0.0.1, every member publishing a VP8 clip of
 * fixtures/media in a loop, so "decrypts" means real frames (counted by the
 * member's `stats` command on stdin). Each test starts its own node and
 * members and kills them all afterwards, even when it fails:
 *
 * 1. kill -9 of the creator (owner and committer): the committer role moves
 *    to another member, the two left decrypt each other on, the creator is
 *    removed after the grace period, and a new member still joins;
 * 2. SIGSTOP of the creator while a join is pending: the node's liveness
 *    check cuts the frozen committer, the role moves, and the join completes;
 * 3. kill -9 of a member and a restart with the same identity: with its
 *    --state file within the grace period it resumes in its own leaf at its
 *    epoch; after the grace period (it was removed) it joins again, with or
 *    without --state; without --state within the grace period it joins
 *    again too (its old leaf removed first);
 * 4. the node killed with SIGKILL, then stopped with SIGTERM (GoingAway),
 *    each time restarted on the same data directory and port: every member
 *    reconnects, resumes without rejoining, and decrypts the others again.
 *
 * Waits are bounded generously (this runs on small shared machines); no
 * duration is asserted. The in-process versions are in
 * test/client/survival.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  REPO_ROOT, nodeStats, spawnMember, startNodeProcess, tcpPort,
  type MemberSpec, type NodeProc, type Proc, type ProcEvent,
} from '../../src/cli/processes.js'
import type { MemberStats } from '../../src/client/stream-member.js'
import { sleep } from '../timing.js'

/** A bound on each wait: it turns a hang into a failure, it measures nothing. */
const WAIT_MS = 30_000
const STREAM = 'survive'
/** Frames a member must decrypt from a sender, beyond a baseline, to count as decrypting it (the clips run at 30 fps). */
const MORE = 15

const clip = (name: string): string => join(REPO_ROOT, 'fixtures', 'media', `${name}.ivf`)

/** Frames `stats` says were decrypted from `sender` (0 when none, or no stats). */
function decrypted (stats: MemberStats | undefined, sender: string): number {
  return stats?.bySender[sender]?.decrypted ?? 0
}

/** Asks a member for its `stats` and resolves with them. */
async function statsOf (p: Proc): Promise<MemberStats> {
  const earlier = new Set(p.events.filter((e) => e.event === 'stats'))
  p.send('stats')
  const ev = await p.waitFor((e) => e.event === 'stats' && !earlier.has(e), WAIT_MS, 'stats')
  return ev.stats as MemberStats
}

/**
 * Polls `p`'s stats until it has decrypted MORE frames from every one of
 * `senders` beyond the counts of `since` (an earlier stats of it; none:
 * from the start). Resolves with the last stats.
 */
async function decrypts (p: Proc, senders: string[], since: MemberStats | undefined, what: string): Promise<MemberStats> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const st = await statsOf(p)
    if (senders.every((s) => decrypted(st, s) >= decrypted(since, s) + MORE)) return st
    if (Date.now() > deadline) {
      throw new Error(`${p.name}: ${what} not within ${WAIT_MS} ms; decrypted ${JSON.stringify(Object.fromEntries(senders.map((s) => [s.slice(-6), [decrypted(since, s), decrypted(st, s)]])))}\n${p.stderr.slice(-2000)}`)
    }
    await sleep(300)
  }
}

/** Polls `p`'s stats until its roster is exactly `members` (any order). */
async function hasRoster (p: Proc, members: string[], what: string): Promise<void> {
  const want = [...members].sort().join()
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const st = await statsOf(p)
    if ([...st.members].sort().join() === want) return
    if (Date.now() > deadline) throw new Error(`${p.name}: ${what} not within ${WAIT_MS} ms; roster ${st.members.join(', ')}\n${p.stderr.slice(-2000)}`)
    await sleep(300)
  }
}

/** Whether `e` is a `roster` event whose members are exactly `members` (any order). */
const rosterIs = (members: string[]) => (e: ProcEvent): boolean =>
  e.event === 'roster' && [...(e.members as string[])].sort().join() === [...members].sort().join()

/** The events of one kind a process printed, in order. */
const eventsOf = (p: Proc, event: string): ProcEvent[] => p.events.filter((e) => e.event === event)

describe('streams that survive (separate processes)', () => {
  const memberProcs: Proc[] = []
  const nodeProcs: Proc[] = []
  const dirs: string[] = []

  afterEach(async () => {
    // SIGKILL ends a stopped (SIGSTOP) process too.
    await Promise.allSettled(memberProcs.splice(0).map(async (p) => await p.stop('SIGKILL')))
    // Nodes stop cleanly (an ephemeral one removes its admin token file), or are killed after 5 s.
    await Promise.allSettled(nodeProcs.splice(0).map(async (p) => await p.stop('SIGTERM', 5_000)))
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
  })

  const tempDir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'fabric-survival-'))
    dirs.push(d)
    return d
  }

  const startNode = async (opts: Parameters<typeof startNodeProcess>[0] = {}): Promise<NodeProc> => {
    const n = await startNodeProcess(opts)
    nodeProcs.push(n.proc)
    return n
  }

  /** Starts a member process publishing its name's clip (default alice.ivf for other names) in a loop; cleaned up after the test. */
  const spawn = (spec: MemberSpec): Proc => {
    const p = spawnMember({ publish: clip(['alice', 'bob', 'carol', 'dave'].includes(spec.name) ? spec.name : 'alice'), loop: true, ...spec })
    memberProcs.push(p)
    return p
  }

  /** Waits for a member's `ready`; a refusal fails with the `error` event it printed. */
  const ready = async (p: Proc): Promise<ProcEvent> => {
    try {
      return await p.waitFor((e) => e.event === 'ready', WAIT_MS, 'ready')
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(eventsOf(p, 'error'))}`)
    }
  }

  interface Three { alice: Proc, bob: Proc, carol: Proc, ids: { alice: string, bob: string, carol: string } }

  /**
   * Alice creates an open stream on `node`; Bob and Carol join it. Resolves
   * once each decrypts both others.
   */
  const threeMembers = async (node: NodeProc, bobSpec: Partial<MemberSpec> = {}): Promise<Three> => {
    const alice = spawn({ name: 'alice', node: node.addr, stream: STREAM, create: true, open: true })
    const owner = (await ready(alice)).identity as string
    const bob = spawn({ name: 'bob', node: node.addr, stream: STREAM, owner, ...bobSpec })
    const carol = spawn({ name: 'carol', node: node.addr, stream: STREAM, owner })
    const [b, c] = await Promise.all([ready(bob), ready(carol)])
    const ids = { alice: owner, bob: b.identity as string, carol: c.identity as string }
    const all = [ids.alice, ids.bob, ids.carol]
    await Promise.all([alice, bob, carol].map(async (p) => {
      await hasRoster(p, all, 'a roster of three')
      await decrypts(p, all.filter((id) => id !== ids[p.name as keyof typeof ids]), undefined, 'decrypting both others')
    }))
    return { alice, bob, carol, ids }
  }

  it('kill -9 of the creator: another member commits, the two left decrypt each other on, and a fourth joins', async () => {
    // A short grace period, so the new committer also removes the dead creator within the test.
    const node = await startNode({ extra: ['--member-grace-ms', '1500'] })
    const { alice, bob, carol, ids } = await threeMembers(node)
    const [bobBefore, carolBefore] = await Promise.all([statsOf(bob), statsOf(carol)])

    alice.signal('SIGKILL')
    const took = await Promise.race([bob, carol].map(async (p) => await p.waitFor((e) => e.event === 'committer' && e.self === true, WAIT_MS, 'the committer role').then(() => p)))
    // The creator is removed after the grace period, by the new committer.
    await Promise.all([bob, carol].map(async (p) => await p.waitFor(rosterIs([ids.bob, ids.carol]), WAIT_MS, 'a roster without alice')))
    await decrypts(bob, [ids.carol], bobBefore, 'decrypting carol after the kill')
    await decrypts(carol, [ids.bob], carolBefore, 'decrypting bob after the kill')

    const dave = spawn({ name: 'dave', node: node.addr, stream: STREAM, owner: ids.alice })
    const daveId = (await ready(dave)).identity as string
    const four = [ids.bob, ids.carol, daveId]
    for (const p of [bob, carol]) await p.waitFor(rosterIs(four), WAIT_MS, 'a roster with dave')
    await decrypts(dave, [ids.bob, ids.carol], undefined, 'dave decrypting bob and carol')
    await decrypts(took, [daveId], undefined, 'the new committer decrypting dave')

    // One member took the role, and only one.
    const selves = [bob, carol].flatMap((p) => eventsOf(p, 'committer').filter((e) => e.self === true).map(() => p.name))
    expect(selves).toEqual([took.name])
    for (const p of [bob, carol]) expect(eventsOf(p, 'closed'), `${p.name} stayed connected`).toEqual([])
  }, 120_000)

  it('SIGSTOP of the committer while a join is pending: the node cuts it, the role moves, and the join completes', async () => {
    const node = await startNode({ extra: ['--liveness-timeout-ms', '2000'] })
    const { alice, bob, carol, ids } = await threeMembers(node)
    const key = `${ids.alice}/${STREAM}`
    const [bobBefore, carolBefore] = await Promise.all([statsOf(bob), statsOf(carol)])

    // Dave starts first, and Alice is frozen once his connection is up:
    // starting a process takes longer than the liveness timeout, but his
    // join follows his connection within moments, so it reaches the node
    // while the frozen Alice still holds the role.
    const connections = async (): Promise<number> => (await nodeStats(node)).connections.open as number
    const before = await connections()
    const dave = spawn({ name: 'dave', node: node.addr, stream: STREAM, owner: ids.alice })
    const deadline = Date.now() + WAIT_MS
    while (await connections() <= before) {
      if (Date.now() > deadline) throw new Error(`dave not connected within ${WAIT_MS} ms\n${dave.stderr.slice(-2000)}`)
      await sleep(20)
    }
    alice.signal('SIGSTOP')
    // Watch the node meanwhile: was dave's join pending while the frozen creator still held the role?
    let pendingWithFrozen = false
    let watching = true
    const watcher = (async () => {
      while (watching) {
        const s = (await nodeStats(node).catch(() => undefined))?.group?.streams?.find((x: { stream: string }) => x.stream === key)
        if (s !== undefined && s.committer === ids.alice && s.pendingJoins > 0) pendingWithFrozen = true
        await sleep(50)
      }
    })()
    let daveId: string
    try {
      daveId = (await ready(dave)).identity as string
    } finally {
      watching = false
      await watcher
    }
    expect(pendingWithFrozen, 'dave\'s join was pending while the frozen alice was the committer').toBe(true)
    const took = [bob, carol].filter((p) => eventsOf(p, 'committer').some((e) => e.self === true))
    expect(took.map((p) => p.name), 'bob or carol took the committer role').toHaveLength(1)
    const stream = (await nodeStats(node)).group.streams.find((x: { stream: string }) => x.stream === key)
    expect(stream.committer).toBe(ids[took[0]!.name as 'bob' | 'carol'])
    for (const p of [bob, carol]) await p.waitFor((e) => e.event === 'roster' && (e.members as string[]).includes(daveId), WAIT_MS, 'a roster with dave')
    await decrypts(dave, [ids.bob, ids.carol], undefined, 'dave decrypting bob and carol')
    await decrypts(bob, [ids.carol, daveId], bobBefore, 'bob decrypting carol and dave')
    await decrypts(carol, [ids.bob, daveId], carolBefore, 'carol decrypting bob and dave')
    alice.signal('SIGCONT')
  }, 120_000)

  it('kill -9 of a member, restarted with its identity and --state within the grace period: it resumes without rejoining', async () => {
    const dir = await tempDir()
    const node = await startNode()
    const bobFiles = { identity: join(dir, 'bob.id'), state: join(dir, 'bob.state') }
    const { alice, bob, carol, ids } = await threeMembers(node, bobFiles)
    const epoch = (await statsOf(alice)).epoch
    const [aliceBefore, carolBefore] = await Promise.all([statsOf(alice), statsOf(carol)])

    bob.signal('SIGKILL')
    await bob.exited
    const bob2 = spawn({ name: 'bob', node: node.addr, stream: STREAM, owner: ids.alice, ...bobFiles })
    // Back at its epoch, in its own leaf: no Commit was needed.
    const resumed = await bob2.waitFor((e) => e.event === 'resumed', WAIT_MS, 'resumed')
    expect(resumed).toMatchObject({ rejoined: false, restarted: true, epoch })
    expect((await ready(bob2)).identity).toBe(ids.bob)
    await decrypts(bob2, [ids.alice, ids.carol], undefined, 'the restarted bob decrypting alice and carol')
    await decrypts(alice, [ids.bob], aliceBefore, 'alice decrypting the restarted bob')
    await decrypts(carol, [ids.bob], carolBefore, 'carol decrypting the restarted bob')
    for (const p of [alice, carol, bob2]) {
      await hasRoster(p, [ids.alice, ids.bob, ids.carol], 'the same three members')
      expect((await statsOf(p)).epoch, `${p.name} in the same epoch`).toBe(epoch)
    }
  }, 120_000)

  it('kill -9 of a member, restarted after the grace period (it was removed): with --state it rejoins, without it joins again', async () => {
    const dir = await tempDir()
    const node = await startNode({ extra: ['--member-grace-ms', '1500'] })
    const bobFiles = { identity: join(dir, 'bob.id'), state: join(dir, 'bob.state') }
    const { alice, bob, carol, ids } = await threeMembers(node, bobFiles)
    const three = [ids.alice, ids.bob, ids.carol]

    /** Kills `p`, waits until alice (the committer) has removed bob once his grace period is over, and restarts him with `files`. */
    const killAndRestartAfterGrace = async (p: Proc, files: Partial<MemberSpec>): Promise<Proc> => {
      p.signal('SIGKILL')
      await p.exited
      for (const m of [alice, carol]) await hasRoster(m, [ids.alice, ids.carol], 'bob removed')
      return spawn({ name: 'bob', node: node.addr, stream: STREAM, owner: ids.alice, ...files })
    }

    // With its state: the node answers NOT_MEMBER, and it joins again.
    let before = await Promise.all([statsOf(alice), statsOf(carol)])
    const bob2 = await killAndRestartAfterGrace(bob, bobFiles)
    expect(await bob2.waitFor((e) => e.event === 'resumed', WAIT_MS, 'resumed')).toMatchObject({ rejoined: true, restarted: true })
    expect((await ready(bob2)).identity).toBe(ids.bob)
    for (const p of [alice, carol]) await p.waitFor(rosterIs(three), WAIT_MS, 'a roster with bob again')
    await decrypts(bob2, [ids.alice, ids.carol], undefined, 'bob, joined again, decrypting alice and carol')
    await decrypts(alice, [ids.bob], before[0], 'alice decrypting bob joined again')
    await decrypts(carol, [ids.bob], before[1], 'carol decrypting bob joined again')

    // Without a state file: a plain join.
    before = await Promise.all([statsOf(alice), statsOf(carol)])
    const rostersBefore = new Set([...eventsOf(alice, 'roster'), ...eventsOf(carol, 'roster')])
    const bob3 = await killAndRestartAfterGrace(bob2, { identity: bobFiles.identity })
    expect((await ready(bob3)).identity).toBe(ids.bob)
    expect(eventsOf(bob3, 'resumed')).toEqual([])
    for (const p of [alice, carol]) await p.waitFor((e) => rosterIs(three)(e) && !rostersBefore.has(e), WAIT_MS, 'a roster with bob once more')
    await decrypts(bob3, [ids.alice, ids.carol], undefined, 'bob, joined once more, decrypting alice and carol')
    await decrypts(alice, [ids.bob], before[0], 'alice decrypting bob joined once more')
    await decrypts(carol, [ids.bob], before[1], 'carol decrypting bob joined once more')
  }, 120_000)

  // A member that is away (its connection broke, its grace period not over)
  // and asks to join again with a fresh KeyPackage has its old leaf removed
  // and is added anew (src/node/group-core.ts, join).
  it('kill -9 of a member, restarted without --state within the grace period: it joins again', async () => {
    const dir = await tempDir()
    const node = await startNode()
    const identity = join(dir, 'bob.id')
    const alice = spawn({ name: 'alice', node: node.addr, stream: STREAM, create: true, open: true })
    const owner = (await ready(alice)).identity as string
    const bob = spawn({ name: 'bob', node: node.addr, stream: STREAM, owner, identity, publish: undefined })
    const bobId = (await ready(bob)).identity as string
    bob.signal('SIGKILL')
    await bob.exited
    const bob2 = spawn({ name: 'bob', node: node.addr, stream: STREAM, owner, identity, publish: undefined })
    expect((await ready(bob2)).identity).toBe(bobId)
    await decrypts(bob2, [owner], undefined, 'bob, joined again, decrypting alice')
  }, 120_000)

  it('the node restarts on its data directory and port, after kill -9 and after SIGTERM (GoingAway): every member reconnects, resumes without rejoining and decrypts the others again', async () => {
    const dataDir = await tempDir()
    const first = await startNode({ dataDir })
    let node = first
    const { alice, bob, carol, ids } = await threeMembers(node)
    const members = [alice, bob, carol]
    const epoch = (await statsOf(alice)).epoch
    const othersOf = (p: Proc): string[] => Object.entries(ids).filter(([name]) => name !== p.name).map(([, id]) => id)

    /** Stops the node with `signal`, starts it again on the same directory and port, and waits until every member resumed and decrypts both others again. */
    const restart = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
      const befores = await Promise.all(members.map(statsOf))
      const earlier = new Set(members.flatMap((p) => [...eventsOf(p, 'reconnecting'), ...eventsOf(p, 'resumed')]))
      if (signal === 'SIGKILL') {
        node.proc.signal('SIGKILL')
        await node.proc.exited
      } else {
        // A clean stop: every member is sent GoingAway before the node closes its streams.
        expect(await node.proc.stop('SIGTERM')).toBe(0)
        expect(eventsOf(node.proc, 'stopped')).toMatchObject([{ signal: 'SIGTERM' }])
      }
      const reconnecting = await Promise.all(members.map(async (p) => await p.waitFor((e) => e.event === 'reconnecting' && !earlier.has(e), WAIT_MS, `reconnecting after ${signal}`)))
      console.log(`${signal}: first reconnect waits ${reconnecting.map((e) => `${String(e.delayMs)} ms (${String(e.reason)})`).join('; ')}`)
      node = await startNode({ dataDir, listen: `/ip4/127.0.0.1/tcp/${tcpPort(first.addr)}` })
      expect(node.peerId).toBe(first.peerId)
      expect(node.addr).toBe(first.addr)
      await Promise.all(members.map(async (p, i) => {
        const resumed = await p.waitFor((e) => e.event === 'resumed' && !earlier.has(e), WAIT_MS, `resumed after ${signal}`)
        expect(resumed, `${p.name} resumed without rejoining after ${signal}`).toMatchObject({ rejoined: false, epoch })
        await decrypts(p, othersOf(p), befores[i], `decrypting both others after ${signal}`)
      }))
    }

    await restart('SIGKILL')
    await restart('SIGTERM')
    for (const p of members) {
      expect(eventsOf(p, 'resumed'), `${p.name} resumed once per restart`).toHaveLength(2)
      expect(eventsOf(p, 'closed'), `${p.name} stayed in`).toEqual([])
      expect((await statsOf(p)).epoch, `${p.name} in the epoch it had`).toBe(epoch)
    }
  }, 120_000)
})
