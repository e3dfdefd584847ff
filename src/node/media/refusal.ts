/**
 * How a media channel that fails is ended, one way for publish and
 * subscribe: before it was admitted, the open gets an OpenResult with the
 * error and the channel is half-closed (reset after CLOSE_GRACE_MS);
 * after, the channel is reset. Either way one log line says why.
 */
import { isFabricError } from '../../errors.js'
import type { FrameChannel } from '../../transport/channel.js'
import { clipErrorText } from '../../wire/message-codec.js'
import { encodeOpenResult } from '../../wire/messages.js'
import { short, type Logger } from '../log.js'
import { CLOSE_GRACE_MS } from '../stream-deadlines.js'
import type { AvCounters } from './counters.js'

/**
 * Ends `channel` after `err`.
 * @param beforeOpen true while the open was not yet answered: it is answered
 *   with `err`'s code (INTERNAL for what is not a FabricError) and counted in
 *   `counters.refusedOpens`
 */
export function endMediaChannel (channel: FrameChannel, kind: 'publish' | 'subscribe', beforeOpen: boolean, err: unknown, counters: AvCounters, log: Logger): void {
  const identity = channel.remotePeer
  const code = isFabricError(err) ? err.code : 'INTERNAL'
  const reason = clipErrorText(String((err as Error)?.message ?? err))
  if (beforeOpen) {
    counters.refusedOpens++
    log.info({ event: 'refusal', peer: short(identity), open: kind, code, reason }, `${kind} refused`)
    try {
      channel.write(encodeOpenResult({ relayPublicKey: new Uint8Array(0), error: { code, message: reason } }))
    } catch {}
    // A refused peer that keeps sending would otherwise be buffered until the grace ends.
    channel.stopReading()
    channel.closeOrReset(CLOSE_GRACE_MS)
  } else {
    log.info({ event: 'stream.reset', peer: short(identity), open: kind, code, reason }, `${kind} stream reset`)
    channel.abort(err instanceof Error ? err : new Error(String(err)))
  }
}
