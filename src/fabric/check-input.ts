/**
 * Shape checks on planner inputs. The shell decodes remote messages into
 * these inputs; a value of the wrong shape is the shell's bug (or a decoder
 * that let a bad value through), so it is thrown, not ignored. Naming a relay
 * the planner does not know is not a shape error: planner.ts counts and
 * ignores it.
 */
import { FabricError } from '../errors.js'
import { checkCount, checkId } from './planner-options.js'
import type { PlannerInput } from './types.js'

/**
 * @throws FabricError MALFORMED when `nowMs` is not finite, the type is
 *   unknown, a relay id is empty, a capacity or a load figure is not a
 *   non-negative integer
 */
export function checkInput (input: PlannerInput, nowMs: number): void {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new FabricError('MALFORMED', `nowMs must be a finite number, got ${String(nowMs)}`)
  switch (input.type) {
    case 'tick':
      return
    case 'join':
      checkId(input.relay, 'join relay')
      checkCount(input.capacity, 'join capacity')
      return
    case 'heartbeat':
      checkId(input.relay, 'heartbeat relay')
      if (typeof input.load !== 'object' || input.load === null) throw new FabricError('MALFORMED', 'heartbeat load missing')
      checkCount(input.load.framesForwarded, 'heartbeat framesForwarded')
      checkCount(input.load.bytesForwarded, 'heartbeat bytesForwarded')
      checkCount(input.load.childrenServed, 'heartbeat childrenServed')
      return
    case 'leave':
    case 'fail':
    case 'suspect':
      checkId(input.relay, `${input.type} relay`)
      return
    default:
      throw new FabricError('MALFORMED', `unknown planner input type ${String((input as { type?: unknown }).type)}`)
  }
}
