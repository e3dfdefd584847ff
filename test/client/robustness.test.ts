/**
 * What an app sees when things go wrong: a refused join rejects the call
 * with its code and leaves nothing behind (no unhandled rejection, no open
 * stream), transport failures are FabricError codes, and a frame too large
 * for a chunk is refused before anything is spent. A real node and real
 * members over libp2p, in this process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { FabricError } from '../../src/errors.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'
import { MAX_CHUNK_PAYLOAD } from '../../src/wire/limits.js'
import { codeOf } from '../codes.js'
import { sleep } from '../timing.js'

describe('client robustness', () => {
  let node: NodeHandle
  const clients: FabricClient[] = []
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  const connect = async (): Promise<FabricClient> => {
    const c = await FabricClient.connect({ node: node.multiaddrs[0]! })
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled)
    node = await startNode({ admin: false })
  })

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled)
    for (const c of clients) await c.close()
    await node?.stop()
  })

  it('a refused join rejects with NOT_ADMITTED and nothing else: no stray rejection, no group stream left', async () => {
    const owner = await connect()
    await owner.createStream('closed')
    const outsider = await connect()
    const before = node.stats().group.load.conns
    expect(await codeOf(outsider.joinStream('closed', { owner: owner.identity }))).toBe('NOT_ADMITTED')
    // The refusal closes the joiner's group stream; give any stray promise time to surface.
    await sleep(300)
    expect(unhandled).toEqual([])
    expect(node.stats().group.load.conns).toBe(before)
    expect(node.stats().group.load.pendingJoins).toBe(0)
  })

  it('other refusals are typed too: no such stream, an owner that is not a peer id, no owner named', async () => {
    const c = await connect()
    expect(await codeOf(c.joinStream('nowhere', { owner: c.identity }))).toBe('NOT_FOUND')
    expect(await codeOf(c.joinStream('closed', { owner: 'not-a-peer-id' }))).toBe('MALFORMED')
    expect(await codeOf(c.joinStream('closed', {}))).toBe('INVALID_STATE')
    expect(await codeOf(c.joinStream(undefined, { invitation: 'fabric-invite-1.AAAA' }))).toBe('MALFORMED')
    await sleep(100)
    expect(unhandled).toEqual([])
  })

  it('transport failures are FabricError codes: a node that is not there is UNREACHABLE', async () => {
    // A multiaddr of a port nothing listens on, with the node's peer id.
    const dead = node.multiaddrs[0]!.replace(/\/tcp\/\d+\//, '/tcp/1/')
    expect(await codeOf(FabricClient.connect({ node: dead }))).toBe('UNREACHABLE')
    expect(await codeOf(FabricClient.connect({ node: '127.0.0.1:4100' }))).toBe('MALFORMED')
  })

  it('a frame too large for a chunk is refused TOO_LARGE before any counter is spent, and the track goes on', async () => {
    const c = await connect()
    const member = await c.createStream('big-frames')
    const video = member.publishTrack(0)
    await video.sendFrame(new Uint8Array(1000), { keyframe: true })
    expect(await codeOf(video.sendFrame(new Uint8Array(MAX_CHUNK_PAYLOAD), { keyframe: false }))).toBe('TOO_LARGE')
    expect(video.refused).toBe(1)
    expect(video.sent).toBe(1)
    await video.sendFrame(new Uint8Array(1000), { keyframe: false })
    expect(video.sent).toBe(2)
    await sleep(200)
    const relay = node.stats().relay.streams.find((s) => s.stream === member.key)
    expect(relay?.chunksIn).toBe(2)
    expect(relay?.rejected).toBe(0)
  })

  it('a node that goes away for good: the member tries to reconnect, then closes typed, and later calls fail with a code, not a crash', async () => {
    const own = await startNode({ admin: false })
    const c = await FabricClient.connect({ node: own.multiaddrs[0]! })
    clients.push(c)
    const member = await c.createStream('doomed', { reconnectTimeoutMs: 1_500 })
    const attempts: number[] = []
    member.on('reconnecting', (p) => { attempts.push(p.attempt) })
    const closed = new Promise<Error | undefined>((resolve) => { member.once('closed', resolve) })
    await own.stop()
    const why = await closed
    expect(why).toBeInstanceOf(FabricError)
    expect(['CONNECTION_LOST', 'UNREACHABLE']).toContain((why as FabricError).code)
    expect(attempts[0]).toBe(1)
    expect(await codeOf(member.publishTrack(0).sendFrame(new Uint8Array(10), { keyframe: true }))).toBe('INVALID_STATE')
    await sleep(100)
    expect(unhandled).toEqual([])
  })
})
