/**
 * A member's long-lived group stream (/fabric/group/1) to its node: requests
 * carry a request_id and resolve on the matching ok/error reply; unsolicited
 * server messages (commits, Welcomes, rosters, join requests) are handed to a
 * single async handler strictly in arrival order, so MLS messages are
 * processed one at a time and in the order the delivery service sent them.
 */
import { FabricError } from '../errors.js'
import type { ChannelDialer, FrameChannel } from '../transport/channel.js'
import { MAX_CONTROL_FRAME } from '../wire/limits.js'
import { GROUP_PROTOCOL } from '../wire/protocol-ids.js'
import { decodeGroupServerMessage, encodeGroupClientMessage } from '../wire/messages.js'
import { toErrorCode } from '../wire/error-codes.js'
import type { GroupClientMessage, GroupServerMessage } from '../wire/pb/group.js'
import { asTransportError } from './transport-errors.js'


/** Default bound on waiting for a reply, ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000

/** The body of a client request: exactly one of the oneof fields. */
export type GroupRequestBody = Omit<GroupClientMessage, 'version' | 'requestId'>

interface Pending {
  resolve: (epoch: bigint) => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout>
}

export class GroupChannel {
  private readonly framed: FrameChannel
  private readonly pending = new Map<bigint, Pending>()
  private nextRequestId = 1n
  private chain: Promise<void> = Promise.resolve()
  private handler: (msg: GroupServerMessage) => Promise<void> | void = () => {}
  private closedWith: Error | undefined
  private readonly closeListeners: Array<(err?: Error) => void> = []

  private constructor (framed: FrameChannel) {
    this.framed = framed
  }

  /**
   * Opens the group stream to `node`.
   * @throws FabricError UNREACHABLE when the node cannot be dialled or lacks the protocol
   */
  static async open (dialer: ChannelDialer): Promise<GroupChannel> {
    const ch = new GroupChannel(await dialer.open(GROUP_PROTOCOL, { maxFrameLength: MAX_CONTROL_FRAME }))
    void ch.readLoop()
    return ch
  }

  /**
   * Sets the handler of unsolicited server messages. Calls are serialised:
   * the next message waits for the previous handler's promise.
   */
  onMessage (handler: (msg: GroupServerMessage) => Promise<void> | void): void {
    this.handler = handler
  }

  /** Called once when the channel closes (err set unless a clean close). */
  onClose (listener: (err?: Error) => void): void {
    this.closeListeners.push(listener)
  }

  /**
   * Sends a request and waits for its reply.
   * @returns the epoch the reply reports
   * @throws FabricError with the code the service answered (e.g. STALE_EPOCH,
   *   with `currentEpoch` on the error), TIMEOUT, CONNECTION_LOST when the
   *   stream breaks, or INVALID_STATE after close()
   */
  async request (body: GroupRequestBody, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<bigint> {
    if (this.closedWith !== undefined) throw new FabricError('INVALID_STATE', 'group channel closed', { cause: this.closedWith })
    const requestId = this.nextRequestId++
    const reply = new Promise<bigint>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId)
        reject(new FabricError('TIMEOUT', `no reply to group request within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(requestId, { resolve, reject, timer })
    })
    try {
      await this.framed.send(encodeGroupClientMessage({ ...body, requestId }))
    } catch (err) {
      const p = this.pending.get(requestId)
      this.pending.delete(requestId)
      if (p !== undefined) clearTimeout(p.timer)
      reply.catch(() => {})
      throw asTransportError(err, 'sending a group request')
    }
    return await reply
  }

  /**
   * Sends a message that wants no reply (request_id 0).
   * @throws FabricError CONNECTION_LOST when the stream is broken
   */
  async notify (body: GroupRequestBody): Promise<void> {
    try {
      await this.framed.send(encodeGroupClientMessage({ ...body, requestId: 0n }))
    } catch (err) {
      throw asTransportError(err, 'sending a group message')
    }
  }

  /** Closes the channel; pending requests fail. */
  async close (): Promise<void> {
    await this.framed.close()
    this.finish()
  }

  private async readLoop (): Promise<void> {
    let error: Error | undefined
    try {
      for await (const frame of this.framed.rest()) {
        const msg = decodeGroupServerMessage(frame)
        if (msg.requestId !== 0n && (msg.ok !== undefined || msg.error !== undefined)) {
          this.settle(msg)
        } else {
          const handler = this.handler
          this.chain = this.chain.then(async () => { await handler(msg) }).catch((err) => {
            error = err as Error
            this.framed.abort(err as Error)
          })
        }
      }
    } catch (err) {
      error = err as Error
    }
    await this.chain
    this.finish(error)
  }

  private settle (msg: GroupServerMessage): void {
    const p = this.pending.get(msg.requestId)
    if (p === undefined) return
    this.pending.delete(msg.requestId)
    clearTimeout(p.timer)
    if (msg.error !== undefined) {
      const err = new FabricError(toErrorCode(msg.error.code), msg.error.message) as FabricError & { currentEpoch?: bigint }
      err.currentEpoch = msg.error.currentEpoch
      p.reject(err)
    } else {
      p.resolve(msg.ok?.epoch ?? 0n)
    }
  }

  private finish (err?: Error): void {
    if (this.closedWith !== undefined) return
    this.closedWith = err ?? new FabricError('INVALID_STATE', 'group channel closed')
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(err === undefined ? new FabricError('INVALID_STATE', 'group channel closed') : asTransportError(err, 'group channel closed'))
    }
    this.pending.clear()
    for (const l of this.closeListeners) l(err)
  }
}
