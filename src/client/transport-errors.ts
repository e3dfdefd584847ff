/**
 * Transport failures as FabricError codes, so an app handles one error type
 * (src/errors.ts) whatever libp2p threw: a dial or protocol negotiation that
 * fails is UNREACHABLE, a stream that breaks mid-operation is
 * CONNECTION_LOST. FabricErrors pass through unchanged.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { FabricError } from '../errors.js'

/**
 * Opens a stream of `protocol` to `node`.
 * @throws FabricError UNREACHABLE when the node cannot be dialled or does not speak `protocol`
 */
export async function openStream (libp2p: Pick<Libp2p, 'dialProtocol'>, node: Multiaddr, protocol: string, signal?: AbortSignal): Promise<Stream> {
  try {
    return await libp2p.dialProtocol(node, protocol, signal === undefined ? undefined : { signal })
  } catch (err) {
    throw new FabricError('UNREACHABLE', `cannot open ${protocol} to ${node.toString()}: ${messageOf(err)}`, { cause: err })
  }
}

/** `err` as a FabricError: itself when it is one, else CONNECTION_LOST (`what` says what was under way). */
export function asTransportError (err: unknown, what: string): FabricError {
  if (err instanceof FabricError) return err
  return new FabricError('CONNECTION_LOST', `${what}: ${messageOf(err)}`, { cause: err })
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
