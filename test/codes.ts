/**
 * The outcome of a call as the code an app would branch on: the FabricError
 * code it rejects with, 'resolved' when it does not reject, or 'other: ...'
 * for anything that is not a FabricError (which is itself a finding).
 */
import { isFabricError } from '../src/errors.js'

/** Resolves to the code `p` rejects with (see the module docs). */
export async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return isFabricError(err) ? err.code : `other: ${String(err)}`
  }
}
