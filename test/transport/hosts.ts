/**
 * Two in-process libp2p hosts (TCP + noise + yamux, as nodes run them) and
 * a test protocol, so dispatch code runs over real streams.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createHost, type HostOptions } from '../../src/transport/libp2p/host.js'
import { within } from '../timing.js'

export const TEST_PROTOCOL = '/fabric/test/dispatch/1'

export interface StreamPair {
  /** The dialer's end. */
  client: Stream
  /** The listener's end, as the protocol handler got it. */
  server: Stream
}

export interface HostPair {
  server: Libp2p
  client: Libp2p
  addr: Multiaddr
  /**
   * Opens one stream of the test protocol; call it one at a time (inbound
   * streams are paired with dials in order). `onServer` runs synchronously in
   * the handler, before any data is read (e.g. to pause it).
   */
  open: (onServer?: (s: Stream) => void) => Promise<StreamPair>
  stop: () => Promise<void>
}

/** Starts the pair; `opts` (e.g. gatherWrites) apply to both hosts. */
export async function startHosts (opts: Omit<HostOptions, 'listen'> = {}): Promise<HostPair> {
  const [server, client] = await Promise.all([
    createHost({ ...opts, listen: ['/ip4/127.0.0.1/tcp/0'] }),
    createHost({ ...opts, listen: [] }),
  ])
  const waiting: Array<{ resolve: (s: Stream) => void, onServer?: (s: Stream) => void }> = []
  await server.handle(TEST_PROTOCOL, (stream) => {
    const w = waiting.shift()
    if (w === undefined) {
      stream.abort(new Error('unexpected stream'))
      return
    }
    w.onServer?.(stream)
    w.resolve(stream)
  }, { maxInboundStreams: 256 })
  const addr = server.getMultiaddrs()[0]
  return {
    server,
    client,
    addr,
    open: async (onServer) => {
      const incoming = new Promise<Stream>((resolve) => { waiting.push({ resolve, onServer }) })
      const clientStream = await within(client.dialProtocol(addr, TEST_PROTOCOL, { maxOutboundStreams: 256 }), 10_000, 'dial')
      // Protocol negotiation may be lazy: the listener sees the stream once bytes flow.
      const serverStream = await within(incoming, 10_000, 'inbound stream')
      return { client: clientStream, server: serverStream }
    },
    stop: async () => {
      await Promise.all([server.stop(), client.stop()])
    },
  }
}
