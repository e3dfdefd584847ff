/**
 * A member's media streams to its node: one publish stream carrying all of
 * its tracks' chunks (/fabric/av/publish/1) and one subscription receiving
 * every other member's chunks under a per-subscription link seal
 * (/fabric/av/subscribe/1). Transport only: SFrame lives in stream-member.ts.
 */
import { FabricError, isFabricError, type ErrorCode } from '../errors.js'
import { LinkOpener } from '../crypto/link-seal.js'
import { generateLinkKeyPair, linkTransitKey } from '../crypto/transit-key.js'
import type { ChannelDialer, FrameChannel } from '../transport/channel.js'
import { MAX_AV_MESSAGE, MAX_MEDIA_FRAME } from '../wire/limits.js'
import { parseStreamKey, type StreamKey } from '../wire/stream-tag.js'
import { AV_PUBLISH_PROTOCOL as PUBLISH_PROTOCOL, AV_SUBSCRIBE_PROTOCOL as SUBSCRIBE_PROTOCOL } from '../wire/protocol-ids.js'
import {
  decodeOpenResult, decodePublisherNotice, encodePublishOpen, encodeSubscribeOpen, encodeSubscriberNotice,
} from '../wire/messages.js'
import type { OpenResult } from '../wire/pb/av.js'
import { asTransportError } from './transport-errors.js'

const OPEN_TIMEOUT_MS = 10_000

function checkOpen (result: OpenResult): void {
  if (result.error !== undefined) throw new FabricError(result.error.code as ErrorCode, `node refused the media stream: ${result.error.message}`)
}

/** The publish side: sends chunks, hears keyframe requests. */
export class PublishStream {
  private readonly framed: FrameChannel
  private keyframeListener: (track: number) => void = () => {}
  private goingAwayListener: (notice: { reason: string, addresses: string[], retryAfterMs: number }) => void = () => {}
  /** Why the node's side of the stream broke, once it has; the next send throws it. */
  private failure: FabricError | undefined
  /** Chunks handed to the transport. */
  sent = 0
  /** Notices from the node that did not decode (skipped; the stream carries on). */
  malformedNotices = 0

  private constructor (framed: FrameChannel) { this.framed = framed }

  /**
   * Opens a publish stream for stream `key` (owner/name).
   * @throws FabricError with the node's code (NOT_MEMBER, NOT_FOUND,
   *         QUOTA_EXCEEDED), TIMEOUT, UNREACHABLE or CONNECTION_LOST
   */
  static async open (dialer: ChannelDialer, key: StreamKey): Promise<PublishStream> {
    const { owner, name } = parseStreamKey(key)
    // Only the open result and keyframe notices come back on a publish stream.
    const framed = await dialer.open(PUBLISH_PROTOCOL, { maxFrameLength: MAX_AV_MESSAGE })
    try {
      await framed.send(encodePublishOpen({ stream: name, owner }))
      checkOpen(decodeOpenResult(await framed.next(OPEN_TIMEOUT_MS)))
    } catch (err) {
      framed.abort(err instanceof Error ? err : new Error(String(err)))
      throw asTransportError(err, 'opening the publish stream')
    }
    const p = new PublishStream(framed)
    void p.readNotices()
    return p
  }

  /** Calls `listener(track)` when the node asks for a keyframe. */
  onKeyframeRequest (listener: (track: number) => void): void { this.keyframeListener = listener }

  /** Calls `listener` when the node says it is stopping (NodeGoingAway: where to go, and when). */
  onGoingAway (listener: (notice: { reason: string, addresses: string[], retryAfterMs: number }) => void): void { this.goingAwayListener = listener }

  /**
   * Sends one chunk (clear metadata || SFrame). Resolves when the transport
   * can take more, so a paced publisher never buffers without bound.
   */
  async send (chunk: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    this.sent++
    try {
      await this.framed.send(chunk)
    } catch (err) {
      throw asTransportError(err, 'sending on the publish stream')
    }
  }

  /** Closes the stream after queued chunks are written. */
  async close (): Promise<void> { await this.framed.close() }

  /** Resets the stream. */
  abort (err: Error): void { this.framed.abort(err) }

  private async readNotices (): Promise<void> {
    try {
      for await (const frame of this.framed.rest()) {
        let notice
        try {
          notice = decodePublisherNotice(frame)
        } catch (err) {
          if (!isFabricError(err)) throw err
          this.malformedNotices++
          continue
        }
        if (notice.keyframeRequest !== undefined) this.keyframeListener(notice.keyframeRequest.track)
        else if (notice.goingAway !== undefined) this.goingAwayListener({ ...notice.goingAway, addresses: [...notice.goingAway.addresses] })
      }
    } catch (err) {
      // Framing broke or the stream was reset: the member learns it from its next send.
      this.failure = asTransportError(err, 'the publish stream ended')
    }
  }
}

/** Why a sealed frame from the node was refused. */
export type LinkRefusal = 'replay' | 'auth' | 'malformed'

/** The subscribe side: opens the link seal of every frame. */
export class Subscription {
  private readonly framed: FrameChannel
  private readonly opener: LinkOpener
  /** Sealed frames refused, by reason. */
  readonly refused: Record<LinkRefusal, number> = { replay: 0, auth: 0, malformed: 0 }
  /** Sealed frames opened. */
  opened = 0

  private constructor (framed: FrameChannel, opener: LinkOpener) {
    this.framed = framed
    this.opener = opener
  }

  /**
   * Subscribes to stream `key` (owner/name): sends an ephemeral X25519 key,
   * derives the transit key from the node's reply (protocol/link-seal.md).
   * @throws FabricError with the node's code (NOT_MEMBER, NOT_FOUND,
   *         QUOTA_EXCEEDED), TIMEOUT, UNREACHABLE or CONNECTION_LOST
   */
  static async open (dialer: ChannelDialer, key: StreamKey): Promise<Subscription> {
    const { owner, name } = parseStreamKey(key)
    const own = generateLinkKeyPair()
    const framed = await dialer.open(SUBSCRIBE_PROTOCOL, { maxFrameLength: MAX_MEDIA_FRAME })
    let result: OpenResult
    try {
      await framed.send(encodeSubscribeOpen({ stream: name, owner, subscriberPublicKey: own.publicKey, relay: false }))
      result = decodeOpenResult(await framed.next(OPEN_TIMEOUT_MS))
      checkOpen(result)
    } catch (err) {
      framed.abort(err instanceof Error ? err : new Error(String(err)))
      throw asTransportError(err, 'opening the subscription')
    }
    return new Subscription(framed, new LinkOpener(linkTransitKey('subscriber', own, result.relayPublicKey, key)))
  }

  /**
   * Chunks as they arrive, link seal opened and replay-checked. Refused
   * frames are counted and skipped: a replayed or forged frame never ends
   * the subscription. Ends when the node closes the stream.
   */
  async * chunks (): AsyncGenerator<Uint8Array> {
    for await (const sealed of this.framed.rest()) {
      let chunk: Uint8Array
      try {
        chunk = this.opener.open(sealed)
      } catch (err) {
        const code = (err as FabricError).code
        this.refused[code === 'REPLAY' ? 'replay' : code === 'AUTH_FAILED' ? 'auth' : 'malformed']++
        continue
      }
      this.opened++
      yield chunk
    }
  }

  /**
   * Stops reading: inbound bytes stay in the transport, whose flow control
   * then pushes back on the node (which drops for this subscriber only).
   */
  pause (): void { this.framed.pause() }

  /** Resumes reading after `pause`. */
  resume (): void { this.framed.resume() }

  /**
   * Asks the node for a keyframe of `track`.
   * @returns false when the subscription is closed for writing (the request was not sent)
   */
  requestKeyframe (track: number): boolean {
    if (!this.framed.isOpen) return false
    try {
      this.framed.write(encodeSubscriberNotice({ keyframeRequest: { track } }))
      return true
    } catch {
      // Closed for writing between the check and the write: nothing to ask any more.
      return false
    }
  }

  /** Ends the subscription. */
  async close (): Promise<void> { await this.framed.close() }
}
