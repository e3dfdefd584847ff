/**
 * Admission end to end, in separate OS processes over libp2p TCP on
 * 127.0.0.1: a `fabric-node`, members as `fabric join` processes with
 * identity files, and (for the rogue committer) this test process speaking
 * the group protocol with a ts-mls group of its own. Only the people a
 * stream's owner admits get in, every member enforces that, and no identity
 * can take a stream's name over.
 */
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchKeyPackage } from '../../src/client/directory-client.js'
import { GroupChannel } from '../../src/client/group-channel.js'
import { loadOrCreateIdentity } from '../../src/cli/identity-file.js'
import {
  REPO_ROOT, inviteToken, nodeStats, sleep, startMember, startNodeProcess, startRefusedMember, type MemberProc, type NodeProc, type Proc, type ProcEvent,
} from '../../src/cli/processes.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { privateKeyOfIdentity, type MemberIdentity } from '../../src/session/identity.js'
import type { GroupServerMessage } from '../../src/wire/pb/group.js'
import { addOf, keyPackageOf, RawMember } from '../session/admission/raw.js'

const CLIP = join(REPO_ROOT, 'fixtures', 'media', 'alice.ivf')

describe('admission, end to end', () => {
  let node: NodeProc
  let dir: string
  const procs: Proc[] = []
  const ids = new Map<string, MemberIdentity>()
  const idFile = (name: string): string => join(dir, `${name}.id`)
  const peer = (name: string): string => ids.get(name)!.peerId
  const member = async (spec: Parameters<typeof startMember>[0]): Promise<MemberProc> => {
    const m = await startMember(spec)
    procs.push(m.proc)
    return m
  }
  const refused = async (spec: Parameters<typeof startRefusedMember>[0]): Promise<{ code: string, message: string, exitCode: number | null }> => {
    const r = await startRefusedMember(spec)
    procs.push(r.proc)
    return r
  }
  /** Counters of `m` now (its `stats` command), once it answers. */
  const statsOf = async (m: MemberProc): Promise<{ epoch: string, refusedCommits: number, bySender: Record<string, { decrypted: number, failures: number }> }> => {
    const asked = m.proc.events.length
    m.proc.send('stats')
    const ev = await m.proc.waitFor((e) => e.event === 'stats' && m.proc.events.indexOf(e) >= asked, 10_000, 'stats')
    return ev.stats as never
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-admission-'))
    for (const name of ['alice', 'bob', 'carol', 'dave', 'eve', 'frank', 'grace', 'mallory', 'owner']) {
      ids.set(name, (await loadOrCreateIdentity(idFile(name))).identity)
    }
    node = await startNodeProcess()
  }, 60_000)

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop()
    await node?.proc.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('an outsider who knows the name and the owner is refused NOT_ADMITTED at once and receives nothing', async () => {
    await member({ name: 'alice', node: node.addr, stream: 'closed', create: true, identity: idFile('alice'), publish: CLIP, loop: true })
    const eve = await refused({ name: 'eve', node: node.addr, stream: 'closed', owner: peer('alice'), identity: idFile('eve') })
    expect(eve.code).toBe('NOT_ADMITTED')
    expect(eve.exitCode).toBe(3)
    const stats = await nodeStats(node)
    expect(stats.relay.subscribers.filter((s: { identity: string }) => s.identity === peer('eve'))).toEqual([])
    expect(stats.group.streams.flatMap((s: { members: string[] }) => s.members)).not.toContain(peer('eve'))
  }, 60_000)

  it('invitations: a forged, an expired, a spent and someone else\'s are refused; a valid one admits', async () => {
    await member({ name: 'alice', node: node.addr, stream: 'invites', create: true, identity: idFile('alice') })
    const base = { node: node.addr }

    // Forged: eve signs an invitation to alice's stream herself.
    const forged = await inviteToken({ identity: idFile('eve'), owner: peer('alice'), stream: 'invites' })
    expect((await refused({ ...base, name: 'eve', identity: idFile('eve'), invite: forged })).code).toBe('NOT_ADMITTED')

    // Expired: alice's, with a one-second lifetime, used after it ran out.
    const shortLived = await inviteToken({ identity: idFile('alice'), stream: 'invites', expires: '1s' })
    await sleep(2_200)
    expect((await refused({ ...base, name: 'frank', identity: idFile('frank'), invite: shortLived })).code).toBe('NOT_ADMITTED')

    // Spent: a one-use invitation admits dave, then nobody else.
    const once = await inviteToken({ identity: idFile('alice'), stream: 'invites', uses: 1 })
    const dave = await member({ ...base, name: 'dave', identity: idFile('dave'), invite: once })
    expect(dave.ready.owner).toBe(peer('alice'))
    expect((await refused({ ...base, name: 'frank', identity: idFile('frank'), invite: once })).code).toBe('NOT_ADMITTED')

    // Someone else's: an invitation naming grace admits grace and nobody else.
    const forGrace = await inviteToken({ identity: idFile('alice'), stream: 'invites', for: peer('grace') })
    expect((await refused({ ...base, name: 'frank', identity: idFile('frank'), invite: forGrace })).code).toBe('NOT_ADMITTED')
    const grace = await member({ ...base, name: 'grace', identity: idFile('grace'), invite: forGrace })
    expect(grace.ready.stream).toBe('invites')
  }, 120_000)

  it('knock: the owner\'s app approves one request and denies another', async () => {
    const alice = await member({ name: 'alice', node: node.addr, stream: 'knocks', create: true, knock: true, identity: idFile('alice') })
    const bobStarted = member({ name: 'bob', node: node.addr, stream: 'knocks', owner: peer('alice'), identity: idFile('bob') })
    const knock = await alice.proc.waitFor((e) => e.event === 'knock' && e.identity === peer('bob'), 30_000, 'knock')
    expect(String(knock.fingerprint)).toMatch(/^(\d{5} ){3}\d{5}$/)
    alice.proc.send(`approve ${peer('bob')}`)
    const bob = await bobStarted
    expect(bob.ready.epoch).toBe('1')

    const carolRefused = refused({ name: 'carol', node: node.addr, stream: 'knocks', owner: peer('alice'), identity: idFile('carol') })
    await alice.proc.waitFor((e) => e.event === 'knock' && e.identity === peer('carol'), 30_000, 'knock')
    alice.proc.send(`deny ${peer('carol')} not today`)
    const carol = await carolRefused
    expect(carol.code).toBe('NOT_ADMITTED')
    expect(carol.message).toContain('not today')
  }, 90_000)

  it('after the owner ends the stream, another identity cannot capture a member that rejoins by name', async () => {
    const alice = await member({ name: 'alice', node: node.addr, stream: 'lobby', create: true, allow: [peer('bob')], identity: idFile('alice') })
    const bob = await member({ name: 'bob', node: node.addr, stream: 'lobby', owner: peer('alice'), identity: idFile('bob'), publish: CLIP, loop: true })
    alice.proc.send('end')
    await bob.proc.waitFor((e) => e.event === 'closed', 30_000, 'closed')
    await bob.proc.stop()

    // Mallory creates a stream of the same name at once, open to anyone.
    const mallory = await member({ name: 'mallory', node: node.addr, stream: 'lobby', create: true, open: true, identity: idFile('mallory') })
    // Bob asks for alice's lobby again: it is gone, and mallory's is another address.
    const rejoin = await refused({ name: 'bob', node: node.addr, stream: 'lobby', owner: peer('alice'), identity: idFile('bob') })
    expect(rejoin.code).toBe('NOT_FOUND')
    const stats = await nodeStats(node)
    const malloryStream = stats.group.streams.find((s: { stream: string }) => s.stream === `${peer('mallory')}/lobby`)
    expect(malloryStream.members).toEqual([peer('mallory')])
    mallory.proc.send('stop')
    const summary = await mallory.proc.waitFor((e) => e.event === 'summary', 30_000, 'summary')
    expect(Object.keys(summary.received as Record<string, unknown>)).toEqual([])
  }, 90_000)

  it('a rogue committer\'s Add for an identity the policy excludes is refused by every honest member, who keep decrypting their epoch', async () => {
    // The owner is this process: a ts-mls group of its own, committing by
    // hand, so it can make a Commit an honest session never would.
    const owner = ids.get('owner')!
    const host = await createHost({ listen: [], privateKey: privateKeyOfIdentity(owner) })
    const addr = multiaddr(node.addr)
    const stream = 'rogue'
    const raw = await RawMember.createGroup(owner, stream, { allow: [peer('bob'), peer('carol')] }, Date.now())
    const channel = await GroupChannel.open(libp2pDialer(host, addr))
    const joins: string[] = []
    const waiting: Array<() => void> = []
    channel.onMessage((msg: GroupServerMessage) => {
      if (msg.joinRequested !== undefined) {
        joins.push(msg.joinRequested.identity)
        for (const w of waiting.splice(0)) w()
      }
    })
    const nextJoin = async (): Promise<string> => {
      while (joins.length === 0) await new Promise<void>((resolve) => { waiting.push(resolve) })
      return joins.shift()!
    }
    /** Fetches the joiner's KeyPackage and commits its Add, whatever the policy says. */
    const add = async (identity: string): Promise<void> => {
      const kp = (await fetchKeyPackage(libp2pDialer(host, addr), identity)).keyPackage
      const c = await raw.commit([addOf(keyPackageOf(kp))])
      await channel.request({ commit: { epoch: raw.epoch, commit: c.commit as Uint8Array<ArrayBuffer>, welcome: c.welcome! as Uint8Array<ArrayBuffer>, added: [identity], removed: [] } })
      raw.adopt(c)
    }
    try {
      await channel.request({ create: { stream, groupId: raw.state.groupContext.groupId as Uint8Array<ArrayBuffer> } })
      const bobStarted = member({ name: 'bob', node: node.addr, stream, owner: owner.peerId, identity: idFile('bob'), publish: CLIP, loop: true })
      await add(await nextJoin())
      const bob = await bobStarted
      const carolStarted = member({ name: 'carol', node: node.addr, stream, owner: owner.peerId, identity: idFile('carol') })
      await add(await nextJoin())
      const carol = await carolStarted
      await carol.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === peer('bob'), 30_000, 'bob\'s first keyframe')

      // Eve is on no list. The rogue committer adds her anyway; the node,
      // which does not judge admission, accepts its committer's Commit.
      const eveRefused = refused({ name: 'eve', node: node.addr, stream, owner: owner.peerId, identity: idFile('eve') })
      const eve = await nextJoin()
      expect(eve).toBe(peer('eve'))
      await add(eve)
      const onBob = await bob.proc.waitFor((e) => e.event === 'commit-refused', 30_000, 'commit-refused')
      const onCarol = await carol.proc.waitFor((e) => e.event === 'commit-refused', 30_000, 'commit-refused')
      for (const ev of [onBob, onCarol] as ProcEvent[]) {
        expect(ev.code).toBe('NOT_ADMITTED')
        expect(ev.epoch).toBe('2')
      }
      // Even eve's own client refuses a group in which she has no standing.
      expect((await eveRefused).code).toBe('NOT_ADMITTED')

      // Both stay in epoch 2 and carol keeps decrypting bob's frames.
      const before = await statsOf(carol)
      await sleep(1_500)
      const after = await statsOf(carol)
      expect(after.epoch).toBe('2')
      expect((await statsOf(bob)).epoch).toBe('2')
      expect(after.refusedCommits).toBe(1)
      expect(after.bySender[peer('bob')]!.decrypted).toBeGreaterThan(before.bySender[peer('bob')]!.decrypted + 20)
      expect(after.bySender[peer('bob')]!.failures).toBe(0)
    } finally {
      await channel.close()
      await host.stop()
    }
  }, 120_000)
})
