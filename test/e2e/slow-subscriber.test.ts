/**
 * A subscriber that stops reading costs the others nothing: separate
 * processes for the node and every member; one member pauses its media
 * stream while alice publishes. bob must get every frame alice sent, and the
 * node's memory for the stalled member stays within its queue bound, with
 * the excess dropped and counted.
 */
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, nodeStats, sleep, startMember, startNodeProcess, type MemberProc, type NodeProc } from '../../src/cli/processes.js'

type FrameLog = Array<[number, string, number, string]>

/** The node's per-subscriber queue bound in this test, bytes. */
const QUEUE_BYTES = 1024 * 1024

describe('slow subscriber', () => {
  let node: NodeProc | undefined
  const members: MemberProc[] = []
  afterAll(async () => {
    for (const m of members) await m.proc.stop()
    await node?.proc.stop()
  })

  it('a stalled subscriber does not cost the others a frame and its memory stays bounded', async () => {
    node = await startNodeProcess({ extra: ['--queue-bytes', String(QUEUE_BYTES)] })
    const clip = (n: string): string => join(REPO_ROOT, 'fixtures', 'media', `${n}.ivf`)
    // Admission is not what this test is about: the stream admits anyone.
    const alice = await startMember({ name: 'alice', node: node.addr, stream: 'slow', create: true, open: true, publish: clip('alice'), loop: true })
    members.push(alice)
    const owner = alice.identity
    const bob = await startMember({ name: 'bob', node: node.addr, stream: 'slow', owner })
    members.push(bob)
    const sloth = await startMember({ name: 'sloth', node: node.addr, stream: 'slow', owner })
    members.push(sloth)
    // Two more publishers, so the stalled link is offered ~2.5 Mbit/s.
    members.push(await startMember({ name: 'carol', node: node.addr, stream: 'slow', owner, publish: clip('carol'), loop: true }))
    members.push(await startMember({ name: 'dave', node: node.addr, stream: 'slow', owner, publish: clip('dave'), loop: true }))
    await sloth.proc.waitFor((e) => e.event === 'first-keyframe', 20_000, 'first keyframe')
    sloth.proc.send('pause')
    await sloth.proc.waitFor((e) => e.event === 'paused')

    // ~2.5 Mbit/s for 12 s (~3.7 MB): more than the stalled subscriber's
    // receive window (1 MiB), relay queue (1 MiB) and transport low-water
    // mark can hold, while 1 MiB (~3 s) of lag is ample for a healthy one.
    await sleep(12_000)
    const stats = await nodeStats(node)
    const slothSub = stats.relay.subscribers.find((s: { identity: string }) => s.identity === sloth.identity)
    const bobSub = stats.relay.subscribers.find((s: { identity: string }) => s.identity === bob.identity)
    const slothLive = stats.av.live.subscriptions.find((s: { identity: string }) => s.identity === sloth.identity)
    expect(slothSub, 'stalled subscription still admitted').toBeDefined()
    expect(slothSub.dropped).toBeGreaterThan(0)
    expect(slothSub.queuedBytes).toBeLessThanOrEqual(QUEUE_BYTES)
    // What the transport holds for it is bounded by one batch plus windows.
    expect(slothLive.transportBuffered).toBeLessThanOrEqual(4 * 1024 * 1024)
    const bobLive = stats.av.live.subscriptions.find((s: { identity: string }) => s.identity === bob.identity)
    expect(bobSub.dropped, `healthy subscriber dropped frames: relay ${JSON.stringify(bobSub)}, transport ${JSON.stringify(bobLive)}`).toBe(0)

    alice.proc.send('stop')
    bob.proc.send('stop')
    const aliceSummary = await alice.proc.waitFor((e) => e.event === 'summary')
    const bobSummary = await bob.proc.waitFor((e) => e.event === 'summary')
    const sent = aliceSummary.sent as FrameLog
    const got = (bobSummary.received as Record<string, FrameLog>)[`${alice.identity}/0`]
    const firstKey = got.find((f) => f[2] === 1)!
    const last = got[got.length - 1][0]
    const expected = sent.filter((f) => f[0] >= firstKey[0] && f[0] <= last)
    const hashes = new Map(got.map((f) => [f[0], f[1]]))
    expect(expected.length).toBeGreaterThan(200)
    expect(expected.filter((f) => hashes.get(f[0]) !== f[1]), 'frames bob missed or got altered').toEqual([])
  }, 120_000)
})
