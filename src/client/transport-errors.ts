/**
 * Transport failures as FabricError codes, so an app handles one error type
 * (src/errors.ts) whatever the transport threw: a dial the transport
 * could not make is UNREACHABLE (ChannelDialer.open), a channel that breaks
 * mid-operation is CONNECTION_LOST. FabricErrors pass through unchanged.
 */
import { FabricError } from '../errors.js'

/** `err` as a FabricError: itself when it is one, else CONNECTION_LOST (`what` says what was under way). */
export function asTransportError (err: unknown, what: string): FabricError {
  if (err instanceof FabricError) return err
  return new FabricError('CONNECTION_LOST', `${what}: ${messageOf(err)}`, { cause: err })
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
