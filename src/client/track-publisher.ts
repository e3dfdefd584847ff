/**
 * Sending side of one track: stamps the clear metadata, SFrame-protects the
 * frame under this member's KID for the current sending epoch (RFC 9605
 * section 5.2), and hands the chunk to the publish stream. A new epoch gets
 * a new KID, hence a new key and a fresh CTR space.
 */
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultCryptoBackend } from '../crypto/default-backend.js'
import { SFrameSender } from '../crypto/sframe/index.js'
import { SFRAME_HEADER_MAX_LENGTH } from '../crypto/sframe/header.js'
import { FabricError, TooLargeError } from '../errors.js'
import type { AvSession } from '../session/av-session.js'
import { encodeKid } from '../session/kid.js'
import { CHUNK_META_LENGTH, encodeChunkMetaInto } from '../wire/chunk.js'
import { MAX_CHUNK_PAYLOAD } from '../wire/limits.js'
import { makeTrack } from '../wire/track.js'

/** Options of one frame. */
export interface FrameOptions {
  /** The frame is a keyframe (a decoder can start here). */
  keyframe: boolean
  /** No other frame references it. */
  discardable?: boolean
  /** Capture time, µs since the Unix epoch; default now by the host's clock. */
  timestampUs?: bigint
}

/** What the track needs from its member. */
export interface TrackHost {
  readonly session: AvSession
  readonly streamTag: bigint
  /** The epoch whose key senders use now (may trail the group's epoch). */
  readonly sendEpoch: bigint
  /** Sends one chunk on the member's publish stream. */
  sendChunk: (chunk: Uint8Array) => Promise<void>
  /**
   * The member's clock, ms since the Unix epoch: it ages the key ring's old
   * epochs and stamps frames sent without a capture time. The shell that
   * makes the track supplies it, so this file reads no clock of its own.
   */
  now: () => number
  /**
   * SFrame CTR bookkeeping across restarts (member-state.ts): the first CTR a
   * KID may use, and a hook called with each CTR before it is used, which
   * must make sure a restarted member never uses it again. Absent: CTRs
   * start at 0 (a member that cannot restart under an old key).
   */
  readonly ctr?: {
    first: (kid: bigint) => bigint
    use: (kid: bigint, ctr: bigint) => void
  }
}

/**
 * Most bytes SFrame adds to a frame: a header of 1 config byte, up to 8 KID
 * and 8 CTR bytes (RFC 9605 section 4.3), and a tag of at most 16 bytes
 * (section 4.5). Checking against this bound is exact enough: a frame within
 * 33 bytes of the limit is refused though it might just fit.
 */
const SFRAME_MAX_OVERHEAD = SFRAME_HEADER_MAX_LENGTH + 16

export class TrackPublisher {
  /** Track context: 0 video, 1 audio, 2 screen. */
  readonly context: number
  private readonly host: TrackHost
  private readonly backend: CryptoBackend
  private sender: SFrameSender | undefined
  private senderEpoch = -1n
  private sequence = 0
  private keyframeWanted = false
  /** Frames sent. */
  sent = 0
  /** Keyframes sent. */
  keyframes = 0
  /** Frames refused before sending (too large for a chunk). */
  refused = 0

  /**
   * @param host the member the track sends for
   * @param context 0 video, 1 audio, 2 screen
   * @param backend AEAD and HKDF provider for SFrame; default the process's (defaultCryptoBackend)
   */
  constructor (host: TrackHost, context: number, backend: CryptoBackend = defaultCryptoBackend()) {
    this.host = host
    this.context = context
    this.backend = backend
  }

  /** The wire track number: (own leaf index << 8) | context. */
  get track (): number { return makeTrack(this.host.session.ownLeafIndex, this.context) }

  /**
   * True when the next frame should be a keyframe: the sending key changed or
   * the node asked for one. The source decides whether it can comply; a
   * file source jumps to its next keyframe.
   */
  get wantsKeyframe (): boolean { return this.keyframeWanted }

  /** Marks that the next frame should be a keyframe. */
  requestKeyframe (): void { this.keyframeWanted = true }

  /**
   * Forgets the SFrame sender, so the next frame derives its key from the
   * host's session afresh (after a rejoin the session is a new one, with a
   * new leaf and epoch secrets), and asks for a keyframe.
   */
  restartKeys (): void {
    this.sender = undefined
    this.senderEpoch = -1n
    this.keyframeWanted = true
  }

  /**
   * Encrypts and sends one frame.
   * @throws TooLargeError when the protected frame would exceed a chunk's
   *         MAX_CHUNK_PAYLOAD (1 MiB); nothing is consumed, the track stays usable
   * @throws FabricError REMOVED after this member's removal, CTR_EXHAUSTED
   */
  async sendFrame (payload: Uint8Array, opts: FrameOptions): Promise<void> {
    const session = this.host.session
    if (session.removed) throw new FabricError('REMOVED', 'this member was removed from the stream')
    // Checked before a CTR is spent: the bound is on the SFrame bytes.
    const protectedLength = SFRAME_MAX_OVERHEAD + payload.byteLength
    if (protectedLength > MAX_CHUNK_PAYLOAD) {
      this.refused++
      throw new TooLargeError('protected frame', protectedLength, MAX_CHUNK_PAYLOAD)
    }
    const epoch = this.host.sendEpoch
    const nowMs = this.host.now()
    if (this.sender === undefined || this.senderEpoch !== epoch) {
      const key = session.keyRing.baseKeyForEpoch(epoch, nowMs)
      if (key === undefined) throw new FabricError('INVALID_STATE', `no key for sending epoch ${epoch}`)
      const kid = encodeKid({ context: this.context, senderLeafIndex: session.ownLeafIndex, epoch })
      this.sender = new SFrameSender({ backend: this.backend, kid, baseKey: key.baseKey, firstCtr: this.host.ctr?.first(kid) })
      this.senderEpoch = epoch
    }
    const meta = new Uint8Array(CHUNK_META_LENGTH)
    encodeChunkMetaInto({
      keyframe: opts.keyframe,
      discardable: opts.discardable ?? false,
      spatialLayer: 0,
      temporalLayer: 0,
      streamTag: this.host.streamTag,
      track: this.track,
      sequence: this.sequence,
      timestampUs: opts.timestampUs ?? BigInt(Math.floor(nowMs)) * 1000n,
    }, meta, 0)
    this.sequence = (this.sequence + 1) >>> 0
    this.host.ctr?.use(this.sender.kid, this.sender.nextCtr)
    const sframe = this.sender.protect(meta, payload)
    const chunk = new Uint8Array(CHUNK_META_LENGTH + sframe.byteLength)
    chunk.set(meta, 0)
    chunk.set(sframe, CHUNK_META_LENGTH)
    if (opts.keyframe) {
      this.keyframeWanted = false
      this.keyframes++
    }
    this.sent++
    await this.host.sendChunk(chunk)
  }
}
