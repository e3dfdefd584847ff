/**
 * Reserving a slot on another node's circuit relay, so that members
 * connected to that node can reach this one through it (host.ts). libp2p 3
 * has no public call to add a listen address at run time; the transport
 * manager behind `Libp2p.components` has one, so this checks its shape and
 * reports when it is missing (another release) instead of failing silently.
 * test/transport/relay.test.ts fails if the pinned shape changes.
 */
import type { Libp2p } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

interface TransportManagerShape { listen: (addrs: Multiaddr[]) => Promise<void> }

function transportManagerOf (libp2p: Libp2p): TransportManagerShape | undefined {
  const tm = (libp2p as unknown as { components?: { transportManager?: Partial<TransportManagerShape> } }).components?.transportManager
  return typeof tm?.listen === 'function' ? tm as TransportManagerShape : undefined
}

/**
 * Reserves a circuit relay slot on `relay` (a multiaddr ending in
 * /p2p/<its peer id>) and listens through it.
 * @returns false when this libp2p release offers no way to listen at run time (nothing done)
 * @throws what the reservation throws (the relay refused, or is unreachable)
 */
export async function listenThrough (libp2p: Libp2p, relay: Multiaddr): Promise<boolean> {
  const tm = transportManagerOf(libp2p)
  if (tm === undefined) return false
  await tm.listen([relay.encapsulate('/p2p-circuit')])
  return true
}

/** The multiaddr a member dials to reach `target` (a peer id string) through its node `via` (ending in /p2p/<id>). */
export function throughRelay (via: Multiaddr, target: string): Multiaddr {
  return via.encapsulate(multiaddr(`/p2p-circuit/p2p/${target}`))
}
