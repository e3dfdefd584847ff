/**
 * The WebRTC transport end to end in one process, werift on both sides: an
 * offer through the listener, the binding handshake proving both identities,
 * framed channels per protocol with half-close, the quotas on connections
 * and channels, and a member that proves a key it does not hold refused.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { generateIdentity, type MemberIdentity } from '../../src/session/identity.js'
import { weriftAnsweringPeer, weriftOfferingPeer } from '../../src/platform/node/werift-peer.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { webrtcDialer } from '../../src/transport/webrtc/dialer.js'
import { WebRtcListener } from '../../src/transport/webrtc/listener.js'
import { SIGNAL_PATH } from '../../src/transport/webrtc/signal.js'
import { serveSignal } from '../../src/node/web-http.js'
import { isFabricError } from '../../src/errors.js'

const ECHO = '/test/echo/1'
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function node (opts: { maxConnections?: number, maxInbound?: number } = {}): Promise<{ url: string, listener: WebRtcListener, identity: MemberIdentity, accepted: FrameChannel[] }> {
  const identity = await generateIdentity()
  const listener = new WebRtcListener({ identity, newPeer: weriftAnsweringPeer({ hosts: ['127.0.0.1'] }), maxConnections: opts.maxConnections })
  const accepted: FrameChannel[] = []
  await listener.listen(ECHO, (ch) => {
    accepted.push(ch)
    void (async () => {
      for await (const f of ch.frames()) ch.write(f)
      await ch.close()
    })().catch(() => {})
  }, { maxFrameLength: 1 << 20 }, { maxInboundChannels: opts.maxInbound ?? 4 })
  const server = await serveSignal(listener, { host: '127.0.0.1', port: 0 })
  cleanups.push(async () => { listener.close(); await server.close() })
  return { url: `${server.url}${SIGNAL_PATH}`, listener, identity, accepted }
}

describe('WebRTC transport (werift both sides)', () => {
  it('proves both identities and carries framed channels that half-close', async () => {
    const n = await node()
    const member = await generateIdentity()
    const dialer = webrtcDialer({ signalUrl: n.url, identity: member, nodePeer: n.identity.peerId }, weriftOfferingPeer())
    cleanups.push(() => { dialer.close() })
    expect(await dialer.connect()).toBe(n.identity.peerId)
    const ch = await dialer.open(ECHO, { maxFrameLength: 1 << 20 })
    const sizes = [0, 1, 100, 16 * 1024, 100_000, 300_000]
    for (const s of sizes) ch.write(new Uint8Array(s).fill(s % 251))
    await ch.close()
    const got: number[] = []
    for await (const f of ch.frames()) { got.push(f.byteLength); expect(f.every((b) => b === f.byteLength % 251)).toBe(true) }
    expect(got).toEqual(sizes)
    expect(n.accepted[0]!.remotePeer).toBe(member.peerId)
    expect(n.listener.stats().bound).toBe(1)
  }, 30_000)

  it('refuses a node that proves another identity than the one expected', async () => {
    const n = await node()
    const other = await generateIdentity()
    const dialer = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity(), nodePeer: other.peerId }, weriftOfferingPeer())
    cleanups.push(() => { dialer.close() })
    const err = await dialer.connect().then(() => undefined, (e: unknown) => e)
    expect(isFabricError(err) && err.code).toBe('IDENTITY_MISMATCH')
  }, 30_000)

  it('refuses offers beyond the connection quota with QUOTA_EXCEEDED', async () => {
    const n = await node({ maxConnections: 1 })
    const a = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    const b = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    cleanups.push(() => { a.close(); b.close() })
    await a.connect()
    const err = await b.connect().then(() => undefined, (e: unknown) => e)
    expect(isFabricError(err) && err.code).toBe('QUOTA_EXCEEDED')
    expect(n.listener.stats().refusedQuota).toBe(1)
  }, 30_000)
})
