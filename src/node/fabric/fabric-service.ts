/**
 * A node's membership of a fabric (protocol/fabric.md): the node-auth
 * handshake, the fabric's private DHT gated by it, discovery over that DHT,
 * and the bootstrap dials. Made before the libp2p host (the DHT is one of
 * its services), attached to it after, started as one of the node's
 * Startables.
 */
import { passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import type { ChannelListener } from '../../transport/channel.js'
import { libp2pDialer } from '../../transport/libp2p/dialer.js'
import { FABRIC_KAD_PROTOCOL, NODE_AUTH_PROTOCOL } from '../../wire/protocol-ids.js'
import type { Logger } from '../log.js'
import type { Startable } from '../startable.js'
import { gatedKadDHT } from './dht-gate.js'
import { FabricDiscovery } from './discovery.js'
import { NodeAuthService, type NodeAuthCounters } from './node-auth-service.js'

/** How long provider records stay valid on the nodes that hold them, ms (kad-dht's default is 48 h). */
export const PROVIDER_VALIDITY_MS = 30 * 60_000
/** How often this node re-announces the streams it serves, ms. */
export const REPROVIDE_INTERVAL_MS = 5 * 60_000
/** Ping streams one connection may hold at once, each way (the liveness monitor's and the DHT's). */
export const PING_STREAMS = 4
/** Bound of one bootstrap dial, ms. */
export const BOOTSTRAP_DIAL_TIMEOUT_MS = 10_000

/** Options of FabricService. */
export interface FabricServiceOptions {
  /** The fabric key, 32 bytes. */
  key: Uint8Array
  /** Node peer ids admitted; empty or absent: every holder of the key. */
  allow?: readonly string[]
  /** Multiaddrs (with /p2p/) of nodes of the fabric to dial at start. */
  bootstrap?: readonly string[]
  log: Logger
}

interface Attached {
  libp2p: Libp2p
  auth: NodeAuthService
  onIdentify: (evt: CustomEvent<{ peerId: { toString: () => string }, protocols: string[], connection: { direction: string } }>) => void
  onDisconnect: (evt: CustomEvent<{ toString: () => string }>) => void
}

/** The node's fabric membership and discovery. */
export class FabricService implements Startable {
  readonly discovery: FabricDiscovery
  private readonly opts: FabricServiceOptions
  private dht: KadDHT | undefined
  private readonly fabricPeerListeners: Array<(peer: string) => void> = []
  private attached: Attached | undefined

  constructor (opts: FabricServiceOptions) {
    this.opts = opts
    this.discovery = new FabricDiscovery({
      dht: () => {
        if (this.dht === undefined) throw new Error('the fabric DHT is not created')
        return this.dht
      },
      selfId: () => this.attached?.libp2p.peerId.toString() ?? '',
      authenticate: async (peer) => await this.gate(peer),
      log: opts.log,
    })
  }

  /**
   * The libp2p services a fabric node adds to its host (HostOptions.services):
   * ping, which kad-dht needs, and the gated DHT in server mode on the
   * fabric's own protocol. passthroughMapper keeps private and loopback
   * addresses: kad-dht's default drops them, which would leave a fabric on
   * a private network (or 127.0.0.1 in tests) with an empty routing table;
   * who may enter the table is decided by node-auth, not by address.
   */
  hostServices (): Record<string, (components: any) => unknown> {
    return {
      // libp2p's connection monitor and the DHT's contact checks both ping,
      // on the same connection at times: the default of one outbound ping
      // stream made the second fail, and the monitor then closed the
      // connection (TooManyOutboundProtocolStreamsError) under a live tree.
      ping: ping({ maxOutboundStreams: PING_STREAMS, maxInboundStreams: PING_STREAMS }),
      dht: gatedKadDHT({
        protocol: FABRIC_KAD_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        logPrefix: 'libp2p:fabric-dht',
        datastorePrefix: '/fabric-dht',
        metricsPrefix: 'libp2p_fabric_dht',
        providers: { provideValidity: PROVIDER_VALIDITY_MS },
        reprovide: { interval: REPROVIDE_INTERVAL_MS, validity: PROVIDER_VALIDITY_MS, threshold: PROVIDER_VALIDITY_MS / 2 },
      }, async (peer) => await this.gate(peer), (dht) => { this.dht = dht }),
    }
  }

  /** Binds the service to the host made with `hostServices` and to its listener; before `start`. */
  attach (libp2p: Libp2p, listener: ChannelListener): void {
    const selfId = libp2p.peerId.toString()
    const auth = new NodeAuthService({
      key: this.opts.key,
      allow: this.opts.allow,
      selfId,
      listener,
      dialerFor: (peer) => libp2pDialer(libp2p, peerIdFromString(peer)),
      onFabricPeer: (peer) => { for (const l of this.fabricPeerListeners) l(peer) },
      log: this.opts.log,
    })
    this.attached = {
      libp2p,
      auth,
      // The dialling side proves first; the other answers (and asks itself only when its DHT needs the peer before that).
      onIdentify: (evt) => {
        if (evt.detail.connection.direction === 'outbound' && evt.detail.protocols.includes(NODE_AUTH_PROTOCOL)) void auth.authenticate(evt.detail.peerId.toString())
      },
      onDisconnect: (evt) => { auth.forget(evt.detail.toString()) },
    }
  }

  /** Calls `listener(peer)` each time a node proves the fabric key (after `attach`; errors are the listener's to handle). */
  onFabricPeer (listener: (peer: string) => void): void {
    this.fabricPeerListeners.push(listener)
  }

  /** True when `peer` (a peer id string) proved the fabric key on its current connection and passes the allow list. */
  isFabricPeer (peer: string): boolean {
    return this.attached?.auth.isFabricPeer(peer) ?? false
  }

  /** Whether `peer` is a node of this fabric, proving it now if need be (see NodeAuthService.authenticate); never throws. */
  async gate (peer: string): Promise<boolean> {
    return await (this.attached?.auth.authenticate(peer) ?? Promise.resolve(false))
  }

  /** The handshake counters; zero before `attach`. */
  get counters (): NodeAuthCounters {
    return this.attached?.auth.counters ?? { accepted: 0, refused: 0 }
  }

  /** Serves node-auth, then dials the bootstrap nodes (a failed dial is logged, not thrown: the fabric may be starting too). */
  async start (): Promise<void> {
    const a = this.attached
    if (a === undefined) throw new Error('FabricService.attach was not called')
    await a.auth.start()
    a.libp2p.addEventListener('peer:identify', a.onIdentify as never)
    a.libp2p.addEventListener('peer:disconnect', a.onDisconnect as never)
    await Promise.all((this.opts.bootstrap ?? []).map(async (addr) => {
      try {
        await a.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(BOOTSTRAP_DIAL_TIMEOUT_MS) })
        this.opts.log.info({ event: 'fabric.bootstrap', addr }, 'dialled a bootstrap node')
      } catch (err) {
        this.opts.log.warn({ event: 'fabric.bootstrap_failed', addr, err: (err as Error).message }, 'cannot dial a bootstrap node')
      }
    }))
  }

  async stop (): Promise<void> {
    const a = this.attached
    if (a === undefined) return
    a.libp2p.removeEventListener('peer:identify', a.onIdentify as never)
    a.libp2p.removeEventListener('peer:disconnect', a.onDisconnect as never)
    await a.auth.stop()
  }
}
