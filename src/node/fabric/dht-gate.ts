/**
 * Keeps peers outside the fabric out of its DHT (protocol/fabric.md section
 * 3.2). kad-dht reaches the network through three components only: the
 * registrar (its inbound RPC handler, and the topology that feeds its
 * routing table on connect) and the connection manager (every outbound
 * query). The DHT is handed views of those three that first ask the
 * node-auth gate about the remote peer, so a peer that has not proved the
 * fabric key is never answered, never queried and never added to the
 * routing table, and nothing it says reaches the provider store.
 *
 * A connection gater would be too coarse (members connect to nodes too, and
 * must) and libp2p 3.3.11's stream middleware re-registers the handler on
 * every inbound stream, so the gate sits in the components instead.
 */
import { kadDHT, type KadDHT, type KadDHTComponents, type KadDHTInit } from '@libp2p/kad-dht'
import type { PeerId, Stream, Topology } from '@libp2p/interface'
import { FabricError } from '../../errors.js'

/** Asks whether a peer (a peer id string) is a node of this fabric; never throws. */
export type FabricGate = (peer: string) => Promise<boolean>

function isPeerId (value: unknown): value is PeerId {
  return typeof value === 'object' && value !== null && typeof (value as PeerId).toMultihash === 'function'
}

/**
 * A kad-dht service factory (for HostOptions.services) whose DHT talks only
 * to peers `gate` admits.
 * @param onCreated receives the DHT instance, as libp2p keeps its services to itself
 */
export function gatedKadDHT (init: KadDHTInit & { protocol: string }, gate: FabricGate, onCreated: (dht: KadDHT) => void): (components: KadDHTComponents) => KadDHT {
  const protocol = init.protocol
  return (components) => {
    const registrar = components.registrar
    const gatedRegistrar = new Proxy(registrar, {
      get (target, prop) {
        if (prop === 'handle') {
          return async (p: string, handler: (stream: Stream, connection: Parameters<Parameters<typeof registrar.handle>[1]>[1]) => void | Promise<void>, opts?: Parameters<typeof registrar.handle>[2]) => {
            await target.handle(p, async (stream, connection) => {
              if (p === protocol && !(await gate(connection.remotePeer.toString()))) {
                stream.abort(new FabricError('NOT_ADMITTED', 'not a node of this fabric'))
                return
              }
              await handler(stream, connection)
            }, opts)
          }
        }
        if (prop === 'register') {
          return async (p: string, topology: Topology) => await target.register(p, p !== protocol
            ? topology
            : {
                ...topology,
                onConnect: (peer, connection) => {
                  void gate(peer.toString()).then((ok) => { if (ok) topology.onConnect?.(peer, connection) })
                },
              })
        }
        const value = Reflect.get(target, prop, target) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const connectionManager = components.connectionManager
    const gatedConnections = new Proxy(connectionManager, {
      get (target, prop) {
        if (prop === 'openStream') {
          return async (peer: Parameters<typeof connectionManager.openStream>[0], p: string | string[], opts?: Parameters<typeof connectionManager.openStream>[2]) => {
            const ours = Array.isArray(p) ? p.includes(protocol) : p === protocol
            // kad-dht names peers by id; an address-only dial cannot be checked before it connects, so it is refused.
            if (ours && !(isPeerId(peer) && await gate(peer.toString()))) {
              throw new FabricError('NOT_ADMITTED', `${String(peer)} is not a node of this fabric`)
            }
            return await target.openStream(peer, p, opts)
          }
        }
        const value = Reflect.get(target, prop, target) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const gated = new Proxy(components, {
      get (target, prop) {
        if (prop === 'registrar') return gatedRegistrar
        if (prop === 'connectionManager') return gatedConnections
        return Reflect.get(target, prop, target) as unknown
      },
    })
    const dht = kadDHT(init)(gated)
    onCreated(dht)
    return dht
  }
}
