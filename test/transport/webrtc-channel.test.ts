/**
 * The WebRTC transport end to end in one process, werift on both sides: an
 * offer through the listener, the binding handshake proving both identities,
 * framed channels per protocol with half-close, the quotas on connections
 * and channels, and a member that proves a key it does not hold refused.
 */
import { RTCPeerConnection } from 'werift'
import { afterEach, describe, expect, it } from 'vitest'
import { generateIdentity, type MemberIdentity } from '../../src/session/identity.js'
import { weriftAnsweringPeer, weriftOfferingPeer } from '../../src/platform/node/werift-peer.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { webrtcDialer } from '../../src/transport/webrtc/dialer.js'
import { WebRtcListener } from '../../src/transport/webrtc/listener.js'
import { SIGNAL_PATH } from '../../src/transport/webrtc/signal.js'
import { serveSignal } from '../../src/node/web-http.js'
import { isFabricError } from '../../src/errors.js'
import { BindingInitiator } from '../../src/transport/webrtc/binding.js'
import type { DataChannelPort } from '../../src/transport/webrtc/data-channel.js'
import type { OfferingPeer } from '../../src/transport/webrtc/peer-connection.js'
import { sha256Fingerprint } from '../../src/transport/webrtc/sdp.js'
import { WEBRTC_BINDING_LABEL } from '../../src/wire/protocol-ids.js'
import { within } from '../timing.js'

const ECHO = '/test/echo/1'
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

interface NodeOpts { maxConnections?: number, maxConnectionsPerAddress?: number, maxInbound?: number, bindingTimeoutMs?: number, livenessTimeoutMs?: number }

async function node (opts: NodeOpts = {}): Promise<{ url: string, base: string, listener: WebRtcListener, identity: MemberIdentity, accepted: FrameChannel[] }> {
  const identity = await generateIdentity()
  const { maxInbound: _, ...limits } = opts
  const listener = new WebRtcListener({ identity, newPeer: weriftAnsweringPeer({ hosts: ['127.0.0.1'] }), ...limits })
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
  return { url: `${server.url}${SIGNAL_PATH}`, base: server.url, listener, identity, accepted }
}

/**
 * A peer connection made by hand, as a hostile member would: the binding
 * channel open (and a second channel `early`, when asked, before any
 * binding), nothing sent yet.
 */
async function rawConnect (url: string, early?: string): Promise<{ peer: OfferingPeer, binding: DataChannelPort, earlyPort?: Promise<DataChannelPort>, fp: { offer: Uint8Array, answer: Uint8Array } }> {
  const peer = weriftOfferingPeer({ hosts: ['127.0.0.1'] })()
  cleanups.push(() => { peer.close() })
  const bindingOpen = peer.openDataChannel(WEBRTC_BINDING_LABEL)
  const earlyPort = early === undefined ? undefined : peer.openDataChannel(early)
  earlyPort?.catch(() => {})
  const offer = await peer.offer()
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer })
  const answer = await res.text()
  expect(res.status).toBe(201)
  await peer.accept(answer)
  return { peer, binding: await bindingOpen, earlyPort, fp: { offer: sha256Fingerprint(offer), answer: sha256Fingerprint(answer) } }
}

/** Resolves when `port` closes; rejects after `ms`. */
async function closedWithin (port: DataChannelPort, ms: number, what: string): Promise<void> {
  await within(new Promise<void>((resolve) => { port.listen({ message: () => {}, close: resolve, low: () => {} }) }), ms, what)
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

  it('closes a connection whose member never binds, and one that binds with garbage; a channel before the binding is refused', async () => {
    const n = await node({ bindingTimeoutMs: 2_000 })
    const silent = await rawConnect(n.url)
    await closedWithin(silent.binding, 10_000, 'the node closes a connection that never binds')
    const garbage = await rawConnect(n.url)
    garbage.binding.send(new Uint8Array([1, 2, 3]))
    await closedWithin(garbage.binding, 10_000, 'the node closes a connection that binds with garbage')
    const early = await rawConnect(n.url, ECHO)
    // Refused: it fails to open, or opens and is reset at once.
    await early.earlyPort!.then(async (p) => { await closedWithin(p, 10_000, 'the node refuses a channel opened before the binding') }, () => {})
    expect(n.accepted).toEqual([])
    expect(n.listener.stats()).toMatchObject({ connections: 1, bound: 0, bindingFailed: 2 })
    expect(n.listener.stats().channelsRefused).toBeGreaterThanOrEqual(1)
    // A member who binds properly on the same node is served.
    const dialer = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    cleanups.push(() => { dialer.close() })
    const ch = await dialer.open(ECHO, { maxFrameLength: 1024 })
    await ch.send(new Uint8Array([7]))
    expect(Array.from(await ch.next(10_000))).toEqual([7])
  }, 30_000)

  it('cuts a bound member that stops answering Pings, and keeps one that answers', async () => {
    const n = await node({ livenessTimeoutMs: 2_000 })
    const mute = await rawConnect(n.url)
    const init = new BindingInitiator(await generateIdentity(), mute.fp)
    const bound = new Promise<void>((resolve, reject) => {
      mute.binding.listen({
        message: (m) => {
          try {
            const out = init.receive(m)
            if (out === 'done') resolve()
            else if (out instanceof Uint8Array) mute.binding.send(out)
          } catch (err) { reject(err) }
        },
        close: () => {},
        low: () => {},
      })
    })
    mute.binding.send(init.hello())
    await within(bound, 10_000, 'the hand-made member binds')
    const healthy = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    cleanups.push(() => { healthy.close() })
    const ch = await healthy.open(ECHO, { maxFrameLength: 1024 })
    // The mute one ignores the Pings from here on (its handler swallows them).
    mute.binding.listen({ message: () => {}, close: () => {}, low: () => {} })
    await closedWithin(mute.binding, 10_000, 'the node cuts the member that stopped answering')
    expect(n.listener.stats().livenessTimeouts).toBe(1)
    await ch.send(new Uint8Array([9]))
    expect(Array.from(await ch.next(10_000))).toEqual([9])
    expect(n.listener.stats()).toMatchObject({ connections: 1, bound: 1 })
  }, 30_000)

  it('holds each protocol to its channel bound per connection, and each address to its connection bound', async () => {
    const n = await node({ maxInbound: 2, maxConnectionsPerAddress: 2 })
    const dialer = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    cleanups.push(() => { dialer.close() })
    const chans = [await dialer.open(ECHO, { maxFrameLength: 1024 }), await dialer.open(ECHO, { maxFrameLength: 1024 })]
    // The node resets the third at once: it fails to open, or opens and is reset.
    const err = await within(dialer.open(ECHO, { maxFrameLength: 1024 }).then(
      async (third) => await new Promise<Error | undefined>((resolve) => { third.onClose(resolve) }),
      (e: unknown) => e as Error), 10_000, 'the third channel is refused')
    expect(isFabricError(err) && ['INVALID_STATE', 'UNREACHABLE'].includes(err.code)).toBe(true)
    for (const [i, ch] of chans.entries()) {
      await ch.send(new Uint8Array([i]))
      expect(Array.from(await ch.next(10_000))).toEqual([i])
    }
    expect(n.listener.stats().channelsRefused).toBe(1)
    const second = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    const third2 = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    cleanups.push(() => { second.close(); third2.close() })
    await second.connect()
    const refused = await third2.connect().then(() => undefined, (e: unknown) => e)
    expect(isFabricError(refused) && refused.code).toBe('QUOTA_EXCEEDED')
  }, 30_000)

  it('answers a malformed, oversized or mistyped offer with a typed refusal, and unknown paths with 404', async () => {
    const n = await node()
    const post = async (body: string, type = 'application/sdp'): Promise<{ status: number, body: string }> => {
      const res = await fetch(n.url, { method: 'POST', headers: { 'content-type': type }, body })
      return { status: res.status, body: await res.text() }
    }
    const big = await post('v=0\r\n' + 'a=x\r\n'.repeat(10_000))
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body).code).toBe('TOO_LARGE')
    const noFingerprint = await post('v=0\r\n')
    expect([noFingerprint.status, JSON.parse(noFingerprint.body).code]).toEqual([400, 'MALFORMED'])
    const json = await post('{}', 'application/json')
    expect([json.status, JSON.parse(json.body).code]).toEqual([400, 'MALFORMED'])
    expect((await fetch(`${n.base}/nothing`)).status).toBe(404)
    expect(n.listener.stats().connections).toBe(0)
  }, 30_000)

  it('survives SCTP a hostile peer crafts: an unknown PPID, an ACK for a channel it never opened, a garbage packet (patched werift)', async () => {
    const n = await node()
    // werift's own peer connection, to reach below the data-channel API.
    const pc = new RTCPeerConnection({ iceServers: [], iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'] })
    cleanups.push(async () => { await pc.close() })
    const dc = pc.createDataChannel(WEBRTC_BINDING_LABEL)
    await pc.setLocalDescription(await pc.createOffer())
    await within(new Promise<void>((resolve) => { if (pc.iceGatheringState === 'complete') resolve(); else pc.iceGatheringStateChange.subscribe((st) => { if (st === 'complete') resolve() }) }), 10_000, 'ICE gathering')
    const res = await fetch(n.url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp })
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() })
    await within(new Promise<void>((resolve) => { if (dc.readyState === 'open') resolve(); else dc.stateChanged.subscribe((st) => { if (st === 'open') resolve() }) }), 10_000, 'the binding channel opens')
    const sctp = (pc as unknown as { sctpTransport: { sctp: { send: (id: number, ppid: number, data: Buffer) => Promise<void>, transport: { send: (b: Buffer) => Promise<void> } } } }).sctpTransport.sctp
    await sctp.send(dc.id, 77, Buffer.from([1, 2])) // a PPID no data channel uses
    await sctp.send(998, 50, Buffer.from([2])) // DCEP ACK for a stream the node never opened
    await sctp.transport.send(Buffer.from('not an SCTP packet at all'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    // An unhandled rejection would have failed this test; the node still serves others.
    const dialer = webrtcDialer({ signalUrl: n.url, identity: await generateIdentity() }, weriftOfferingPeer())
    cleanups.push(() => { dialer.close() })
    const ch = await dialer.open(ECHO, { maxFrameLength: 1024 })
    await ch.send(new Uint8Array([3]))
    expect(Array.from(await ch.next(10_000))).toEqual([3])
  }, 30_000)
})
