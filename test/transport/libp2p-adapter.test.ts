/**
 * The libp2p adapter of the transport seam (src/transport/libp2p) over two
 * real in-process hosts (TCP + noise + yamux): the listener and the dialer
 * hand out FrameChannels that carry the peer noise authenticated, a dial
 * that cannot succeed is UNREACHABLE, the listener's per-connection bound
 * holds, and close, abort and back-pressure read the same through the
 * interface as on the stream underneath.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Libp2p } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createHost } from '../../src/transport/libp2p/host.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import { FabricError } from '../../src/errors.js'
import { until, within } from '../timing.js'

const ECHO = '/fabric/test/echo/1'
const SINK = '/fabric/test/sink/1'
const BOUNDED = '/fabric/test/bounded/1'

describe('libp2p adapter of the transport seam', () => {
  let server: Libp2p
  let client: Libp2p
  const accepted: FrameChannel[] = []

  beforeAll(async () => {
    [server, client] = await Promise.all([
      createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] }),
      createHost({ listen: [] }),
    ])
    const listener = libp2pListener(server)
    await listener.listen(ECHO, (channel) => {
      accepted.push(channel)
      void (async () => {
        try {
          for await (const frame of channel.frames()) channel.write(frame)
          await channel.close()
        } catch {
          // The echo's peer reset it: nothing to answer.
        }
      })()
    }, { maxFrameLength: 1024 }, { maxInboundChannels: 2 })
    // Holds every channel open, answering one frame each.
    await listener.listen(BOUNDED, (channel) => {
      void channel.next(10_000).then((frame) => channel.write(frame), () => {})
    }, { maxFrameLength: 16 }, { maxInboundChannels: 2 })
    // A sink that never reads, to fill the dialer's buffers.
    await listener.listen(SINK, (channel) => { accepted.push(channel); channel.pause() }, { maxFrameLength: 1 << 20 }, { maxInboundChannels: 4 })
  })

  afterAll(async () => {
    await Promise.all([server?.stop(), client?.stop()])
  })

  it('gives both ends the peer the connection authenticated, and frames go both ways', async () => {
    const dialer = libp2pDialer(client, server.getMultiaddrs()[0]!)
    expect(dialer.target).toBe(server.getMultiaddrs()[0]!.toString())
    const channel = await dialer.open(ECHO, { maxFrameLength: 1024 })
    expect(channel.remotePeer).toBe(server.peerId.toString())
    expect(channel.protocol).toBe(ECHO)
    expect(channel.isOpen).toBe(true)
    await channel.send(new Uint8Array([1, 2, 3]))
    expect([...await channel.next(5_000)]).toEqual([1, 2, 3])
    const inbound = accepted.at(-1)!
    expect(inbound.remotePeer).toBe(client.peerId.toString())
    expect(inbound.connectionId).not.toBe('')
    const closed = new Promise<Error | undefined>((resolve) => { channel.onClose(resolve) })
    await channel.close()
    expect(await within(closed, 5_000, 'close')).toBeUndefined()
    expect(channel.isOpen).toBe(false)
  })

  it('maps a protocol the peer does not serve, and an address nobody listens on, to UNREACHABLE', async () => {
    const dialer = libp2pDialer(client, server.getMultiaddrs()[0]!)
    await expect(dialer.open('/fabric/test/none/1', { maxFrameLength: 16 })).rejects.toMatchObject({ code: 'UNREACHABLE' })
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const nowhere = libp2pDialer(client, multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${nobody.toString()}`))
    const err = await nowhere.open(ECHO, { maxFrameLength: 16 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FabricError)
    expect((err as FabricError).code).toBe('UNREACHABLE')
  })

  it('holds the listener to its per-connection bound of open channels', async () => {
    const dialer = libp2pDialer(client, server.getMultiaddrs()[0]!)
    const open = [await dialer.open(BOUNDED, { maxFrameLength: 16 }), await dialer.open(BOUNDED, { maxFrameLength: 16 })]
    for (const c of open) {
      await c.send(new Uint8Array([9]))
      expect([...await c.next(5_000)]).toEqual([9])
    }
    // The third is reset by the listener once negotiated; it never echoes.
    const third: FrameChannel | Error = await dialer.open(BOUNDED, { maxFrameLength: 16 }).catch((e: unknown) => e as Error)
    if (!(third instanceof Error)) {
      const echoed = await (async () => {
        try {
          third.write(new Uint8Array([7]))
          return await third.next(5_000)
        } catch (e) {
          return e
        }
      })()
      expect(echoed).toBeInstanceOf(Error)
    }
    for (const c of open) c.abort(new Error('done'))
  })

  it('reports back-pressure through bufferedBytes and needsDrain, and an abort reaches drained()', async () => {
    const channel = await libp2pDialer(client, server.getMultiaddrs()[0]!).open(SINK, { maxFrameLength: 16 })
    const chunk = new Uint8Array(64 * 1024)
    let writes = 0
    while (channel.write(chunk) && writes < 256) writes++
    expect(writes).toBeLessThan(256)
    expect(channel.needsDrain).toBe(true)
    await until(() => channel.bufferedBytes > 0, 5_000, 'bytes buffered')
    const waiting = channel.drained(0)
    channel.abort(new Error('stop'))
    await expect(waiting).rejects.toMatchObject({ code: 'INVALID_STATE' })
    expect(channel.isOpen).toBe(false)
  })
})
