/**
 * Type tests, checked by `npm run typecheck` (tsc over test/**), not run:
 * StreamMember's events are typed, so listeners get their arguments' types
 * and an unknown field or event does not compile. tsc fails when an
 * `@ts-expect-error` line below stops being an error.
 */
import type { StreamMember, StreamMemberEvents } from '../../src/client/stream-member.js'

/** Attaches listeners the type checker judges; never called with a live member. */
function listeners (m: StreamMember): Array<(...args: never[]) => void> {
  const onFrame = (f: StreamMemberEvents['frame'][0]): void => {
    const ok: string = f.sender
    void ok
    // @ts-expect-error: a ReceivedFrame has no such field
    void f.no_such_field
  }
  m.on('frame', onFrame)
  m.on('epoch', (e) => {
    const n: bigint = e.epoch
    void n
    // @ts-expect-error: epochs are bigints, not strings
    const s: string = e.epoch
    void s
  })
  // @ts-expect-error: no such event
  m.on('no-such-event', () => {})
  // @ts-expect-error: 'removed' carries no argument
  m.emit('removed', 1)
  return [onFrame]
}

export { listeners }
