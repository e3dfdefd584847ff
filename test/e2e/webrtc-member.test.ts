/**
 * A Node member over WebRTC: `fabric join --node http://HOST:PORT` joins
 * through the node's web endpoint (werift on both sides, the binding
 * handshake proving it) next to a member over libp2p TCP, and each decrypts
 * the other's clip: the same stream, the same chunks, two transports. The
 * node's stats count one bound WebRTC connection. Processes are stopped in
 * afterAll.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixtureClip } from '../../src/cli/browser-call.js'
import { inviteToken, memberIdentity, nodeStats, startMember, startNodeProcess, type MemberProc, type NodeProc } from '../../src/cli/processes.js'

const WAIT_MS = 60_000

describe('a Node member over WebRTC', () => {
  const stops: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {})
  }, 60_000)

  it('joins through the web endpoint and exchanges decrypted video with a libp2p member', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabric-webrtc-member-'))
    stops.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const node: NodeProc = await startNodeProcess({ extra: ['--web', '127.0.0.1:0', '--no-web-page'] })
    stops.push(async () => { await node.proc.stop('SIGKILL') })
    const ownerKey = join(dir, 'alice.key')
    await memberIdentity(ownerKey)
    const alice: MemberProc = await startMember({ name: 'alice', node: node.addr, stream: 'lobby', create: true, identity: ownerKey, publish: fixtureClip('alice'), loop: true })
    stops.push(async () => { await alice.proc.stop('SIGKILL') })
    const token = await inviteToken({ identity: ownerKey, stream: 'lobby', uses: 1 })
    const bob: MemberProc = await startMember({ name: 'bob', node: node.webUrl!, invite: token, publish: fixtureClip('bob'), loop: true })
    stops.push(async () => { await bob.proc.stop('SIGKILL') })

    const bobSees = await bob.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === alice.identity, WAIT_MS, 'bob (WebRTC) decrypts alice')
    const aliceSees = await alice.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === bob.identity, WAIT_MS, 'alice (TCP) decrypts bob')
    console.log(`  bob over WebRTC: joined in ${String(bob.ready.joinMs)} ms; first keyframe of alice ${String(bobSees.ms)} ms after bob's join request, alice's first of bob ${String(aliceSees.ms)} ms after hers`)
    const stats = await nodeStats(node)
    expect(stats.webrtc).toMatchObject({ bound: 1, bindingFailed: 0 })
    const stream = stats.group.streams.find((s: { stream: string }) => s.stream.endsWith('/lobby'))
    expect(new Set(stream.members)).toEqual(new Set([alice.identity, bob.identity]))
  }, 4 * WAIT_MS)
})
