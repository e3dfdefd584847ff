/**
 * Receiving side of a member's media, sans-IO: takes chunks whose link seal
 * is already open, checks that the SFrame KID agrees with the clear track
 * metadata, decrypts with the key the KID names (the session's epoch key
 * ring), and attributes every outcome to a sender, so a decrypt failure
 * always says which participant and which key. Time enters as `nowMs`
 * arguments (ms since the Unix epoch, the shell's clock): the key ring
 * expires old epochs by it and held chunks age by it.
 */
import { AuthenticationError, FabricError, UnknownKidError, isFabricError } from '../errors.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultCryptoBackend } from '../crypto/default-backend.js'
import { SFrameReceiver, decodeSFrameHeader, type SFrameHeader } from '../crypto/sframe/index.js'
import { ReplayWindow } from '../crypto/replay-window.js'
import type { AvSession, KidKey } from '../session/av-session.js'
import { decodeKid } from '../session/kid.js'
import { parseChunk, splitStreamTag, type StreamTagHalves } from '../wire/chunk.js'
import { makeTrack, trackContext, trackLeafIndex } from '../wire/track.js'

/**
 * Width of the replay window per KID, in CTR values: a frame arriving more
 * than this many frames of its sender's track late is dropped as stale.
 * 1024 frames is 34 s of 30 fps video.
 */
export const SFRAME_REPLAY_WINDOW = 1024

/**
 * Replay windows kept at once, one per KID (sender, context and epoch): a
 * window is 128 bytes, so this bounds them at 512 KiB; the oldest KID's goes first.
 */
export const MAX_REPLAY_KIDS = 4096

/** A decrypted media frame handed to the app. */
export interface ReceivedFrame {
  /** Sender's identity (libp2p peer id) from the MLS tree. */
  sender: string
  senderLeafIndex: number
  /** Track context (0 video, 1 audio, 2 screen). */
  context: number
  /** The wire track number: (leaf index << 8) | context. */
  track: number
  keyframe: boolean
  /** Per-track sequence number. */
  sequence: number
  /** Capture time, µs since the Unix epoch (sender's clock). */
  timestampUs: bigint
  /** MLS epoch whose key protected the frame. */
  epoch: bigint
  /** The plaintext frame bytes. */
  payload: Uint8Array
}

/** Per-sender receive counters. */
export interface SenderStats {
  /** Chunks received from this sender (link seal opened). */
  received: number
  /** Chunks decrypted. */
  decrypted: number
  /** Chunks under a key this member never held before its first decrypt of
   * that track: frames from before it joined. Expected, not failures. */
  beforeKeys: number
  /** Decrypt failures: unknown KID after keys were held, bad tag, KID/track mismatch. */
  failures: number
  /**
   * Chunks dropped as replays: a KID and CTR already decrypted (or older
   * than the replay window). Relays resend recent chunks when a relay of the
   * fabric moves to another parent, and a hostile node may replay on
   * purpose: either way the app never gets a frame twice. Not failures.
   */
  duplicates: number
  /** Failure detail by code. */
  failuresByCode: Record<string, number>
}

/** Outcome of one chunk. */
export type DecryptOutcome =
  | { ok: true, frame: ReceivedFrame }
  | { ok: false, reason: 'before-keys' | 'failure' | 'held' | 'duplicate', error: FabricError, senderLeafIndex?: number }

/**
 * Chunks under a coming epoch's key held until that epoch's Commit is
 * processed: media and Commits travel on different streams, and senders
 * switch keys as soon as they are in a new epoch, so they can be a few
 * Commits ahead of a busy receiver (a join quickly followed by a leave).
 */
export const MAX_HELD_CHUNKS = 256

/** How long a held chunk waits for its epoch, ms. */
export const HELD_CHUNK_TTL_MS = 2_000

/** How many epochs ahead of the receiver a held chunk may be. */
export const MAX_EPOCHS_AHEAD = 4

export class FrameDecryptor {
  private readonly session: AvSession
  private readonly receiver: SFrameReceiver
  private readonly tag: StreamTagHalves
  /** Tracks from which at least one frame decrypted. */
  private readonly keyedTracks = new Set<number>()
  /** Counters by sender leaf index. */
  readonly bySender = new Map<number, SenderStats>()
  /** Identity of each leaf index ever seen, so stats outlive removals. */
  private readonly names = new Map<number, string>()
  /** Chunks that did not even parse (no sender to blame). */
  malformed = 0
  /** Held chunks in arrival order; `atMs` is when each first arrived, kept across retries. */
  private held: Array<{ chunk: Uint8Array, atMs: number }> = []
  /** The key the last lookup found: its epoch labels the frame without a second lookup. */
  private lastKey: KidKey | undefined
  /** The time of the decrypt under way, for the receiver's key lookup (which takes no arguments of ours). */
  private nowMs = 0
  /** Per KID, the CTRs decrypted lately (a key's CTRs are unique per sender: RFC 9605 section 4.3). */
  private readonly windows = new Map<bigint, ReplayWindow>()

  /**
   * @param session the member's MLS session (its key ring supplies base keys)
   * @param streamTag tag of the stream, checked on every chunk
   * @param suite SFrame cipher suite id
   * @param backend AEAD and HKDF provider; default the process's (defaultCryptoBackend)
   */
  constructor (session: AvSession, streamTag: bigint, suite?: number, backend: CryptoBackend = defaultCryptoBackend()) {
    this.session = session
    this.tag = splitStreamTag(streamTag)
    this.receiver = new SFrameReceiver({
      backend,
      suite,
      lookup: (kid) => {
        this.lastKey = session.baseKeyForKid(kid, this.nowMs)
        return this.lastKey?.baseKey
      },
    })
  }

  /** Identity for a leaf index, remembered across roster changes. */
  nameOf (leafIndex: number): string {
    const now = this.session.removed ? undefined : this.session.identityOf(leafIndex)
    if (now !== undefined) this.names.set(leafIndex, now)
    return this.names.get(leafIndex) ?? `leaf#${leafIndex}`
  }

  /**
   * Decrypts one chunk (clear metadata || SFrame). Never throws for bad
   * input: the outcome says what went wrong and the counters record it. A
   * chunk of one of the next MAX_EPOCHS_AHEAD epochs is held (outcome
   * 'held') for `retryHeld` or `expireHeld`.
   *
   * @param nowMs the current time, ms since the Unix epoch
   */
  decrypt (chunk: Uint8Array, nowMs: number): DecryptOutcome {
    return this.attempt(chunk, nowMs, nowMs)
  }

  /**
   * Retries held chunks after an epoch change; one held past its time gets
   * a last try that counts it either way. Returns the outcomes in arrival order.
   *
   * @param nowMs the current time, ms since the Unix epoch
   */
  retryHeld (nowMs: number): DecryptOutcome[] {
    const held = this.held
    this.held = []
    const out: DecryptOutcome[] = []
    for (const h of held) out.push(this.attempt(h.chunk, nowMs, isExpired(h.atMs, nowMs) ? undefined : h.atMs))
    return out
  }

  /**
   * Gives the held chunks whose time is up (HELD_CHUNK_TTL_MS) their last
   * try, which counts them either way; the others stay held. Returns the
   * outcomes of the expired ones in arrival order.
   *
   * @param nowMs the current time, ms since the Unix epoch
   */
  expireHeld (nowMs: number): DecryptOutcome[] {
    if (!this.held.some((h) => isExpired(h.atMs, nowMs))) return []
    const held = this.held
    this.held = []
    const out: DecryptOutcome[] = []
    for (const h of held) {
      if (isExpired(h.atMs, nowMs)) out.push(this.attempt(h.chunk, nowMs, undefined))
      else this.held.push(h)
    }
    return out
  }

  /**
   * The earliest time (ms since the Unix epoch) at which `expireHeld` has
   * something to do, or undefined when nothing is held.
   */
  heldDeadline (): number | undefined {
    let first: number | undefined
    for (const h of this.held) if (first === undefined || h.atMs < first) first = h.atMs
    return first === undefined ? undefined : first + HELD_CHUNK_TTL_MS + 1
  }

  /**
   * One decrypt. `heldSince` is when the chunk first arrived, and undefined
   * for a last try, which may not hold the chunk again.
   */
  private attempt (chunk: Uint8Array, nowMs: number, heldSince: number | undefined): DecryptOutcome {
    this.nowMs = nowMs
    let parsed
    let header: SFrameHeader
    try {
      parsed = parseChunk(chunk, this.tag)
      header = decodeSFrameHeader(parsed.payload)
    } catch (err) {
      this.malformed++
      return { ok: false, reason: 'failure', error: asFabric(err) }
    }
    const track = parsed.meta.track
    const leaf = trackLeafIndex(track)
    const stats = this.statsFor(leaf)
    stats.received++
    const kid = header.kid
    try {
      const fields = decodeKid(kid)
      // The clear track names the sender the relay and the app see; the KID
      // names the key. A mismatch is a sender lying about who it is.
      if (makeTrack(fields.senderLeafIndex, fields.context) !== track) {
        throw new FabricError('MALFORMED', `KID ${kid} names leaf ${fields.senderLeafIndex}/context ${fields.context}, metadata says track ${track}`)
      }
      const window = this.windowFor(kid)
      try {
        window.check(header.ctr)
      } catch (replay) {
        stats.duplicates++
        return { ok: false, reason: 'duplicate', error: asFabric(replay), senderLeafIndex: leaf }
      }
      this.lastKey = undefined
      const out = this.receiver.unprotect(parsed.metaBytes, parsed.payload, header)
      // Only an authentic chunk moves the window (RFC 9605 section 9.3: replay protection).
      window.accept(header.ctr)
      const key = this.lastKey as KidKey | undefined
      this.keyedTracks.add(track)
      stats.decrypted++
      return {
        ok: true,
        frame: {
          sender: this.nameOf(leaf),
          senderLeafIndex: leaf,
          context: trackContext(track),
          track,
          keyframe: parsed.meta.keyframe,
          sequence: parsed.meta.sequence,
          timestampUs: parsed.meta.timestampUs,
          epoch: key?.epoch ?? -1n,
          payload: out.plaintext,
        },
      }
    } catch (err) {
      const e = asFabric(err)
      if (heldSince !== undefined && e instanceof UnknownKidError && this.isComingEpoch(e.kid) && this.held.length < MAX_HELD_CHUNKS) {
        stats.received--
        this.held.push({ chunk, atMs: heldSince })
        return { ok: false, reason: 'held', error: e, senderLeafIndex: leaf }
      }
      if (e instanceof UnknownKidError && !this.keyedTracks.has(track)) {
        stats.beforeKeys++
        return { ok: false, reason: 'before-keys', error: e, senderLeafIndex: leaf }
      }
      stats.failures++
      stats.failuresByCode[e.code] = (stats.failuresByCode[e.code] ?? 0) + 1
      return { ok: false, reason: 'failure', error: e, senderLeafIndex: leaf }
    }
  }

  /** True when a KID names one of the MAX_EPOCHS_AHEAD epochs after the session's current one. */
  /** The replay window of `kid`, made on first use; the oldest KID's is dropped past MAX_REPLAY_KIDS. */
  private windowFor (kid: bigint): ReplayWindow {
    let w = this.windows.get(kid)
    if (w === undefined) {
      if (this.windows.size >= MAX_REPLAY_KIDS) this.windows.delete(this.windows.keys().next().value!)
      w = new ReplayWindow(SFRAME_REPLAY_WINDOW)
      this.windows.set(kid, w)
    }
    return w
  }

  private isComingEpoch (kid: bigint): boolean {
    if (this.session.removed) return false
    try {
      const ahead = (BigInt(decodeKid(kid).epochLowBits) - this.session.epoch % 256n + 256n) % 256n
      return ahead >= 1n && ahead <= BigInt(MAX_EPOCHS_AHEAD)
    } catch {
      return false
    }
  }

  private statsFor (leaf: number): SenderStats {
    let s = this.bySender.get(leaf)
    if (s === undefined) {
      s = { received: 0, decrypted: 0, beforeKeys: 0, failures: 0, duplicates: 0, failuresByCode: {} }
      this.bySender.set(leaf, s)
    }
    return s
  }
}

/** True when a chunk held since `atMs` has waited longer than HELD_CHUNK_TTL_MS at `nowMs`. */
function isExpired (atMs: number, nowMs: number): boolean {
  return nowMs - atMs > HELD_CHUNK_TTL_MS
}

function asFabric (err: unknown): FabricError {
  if (isFabricError(err)) return err
  return new AuthenticationError(`decrypt failed: ${String(err)}`, { cause: err })
}
