/**
 * The link seal (protocol/link-seal.md sections 4 and 5): one AES-128-GCM seal per chunk per
 * subscriber, under that subscription's transit key.
 *
 *   sealed = link header (12) || ciphertext || tag (16)
 *   nonce  = transit salt XOR link sequence (8 bytes BE, right-aligned)
 *   AAD    = link header
 *
 * The sequence travels in the header, so a dropped packet never
 * desynchronises the link; the opener's replay window refuses duplicates
 * and stale packets. The AES-GCM is the backend's (backend.ts `AesGcmKey`):
 * node:crypto on the relay's per-subscriber hot path, noble in browsers.
 */
import { AuthenticationError, FabricError, MalformedError } from '../errors.js'
import { decodeLinkHeader, LINK_HEADER_LENGTH, LINK_HEADER_VERSION, LINK_TAG_LENGTH, LinkKind } from '../wire/link-header.js'
import { varintLength, writeVarint, type WireFrame } from '../wire/framing.js'
import { LINK_SEAL_OVERHEAD } from '../wire/limits.js'
import type { AesGcmKey, CryptoBackend, GcmDetached } from './backend.js'
import { concatBytes, MAX_UINT64, plainView, requireLength } from './bytes.js'
import { defaultCryptoBackend } from './default-backend.js'
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from './replay-window.js'
import { TRANSIT_KEY_LENGTH, TRANSIT_SALT_LENGTH, type TransitKey } from './transit-key.js'


export { LINK_SEAL_OVERHEAD, LINK_TAG_LENGTH }

const EMPTY = new Uint8Array(0)

/** A sealed packet in three pieces, for gather writes (e.g. a Uint8ArrayList) that skip the final copy. */
export interface LinkSealedParts {
  /** The sequence this packet was sealed under. */
  readonly sequence: bigint
  /** 12-byte link header. */
  readonly header: Uint8Array
  /** Ciphertext, as long as the chunk. */
  readonly ciphertext: Uint8Array
  /** 16-byte GCM tag. */
  readonly tag: Uint8Array
  /** header + ciphertext + tag bytes. */
  readonly byteLength: number
}

/** What a sealer or opener makes once per transit key: the imported key and a reusable nonce. */
class NonceState {
  readonly key: AesGcmKey
  readonly nonce: Uint8Array
  private readonly view: DataView
  private readonly saltTail: bigint
  private readonly saltHi: number
  private readonly saltLo: number

  constructor (transit: TransitKey, backend: CryptoBackend) {
    requireLength('transit key', transit.key, TRANSIT_KEY_LENGTH)
    requireLength('transit salt', transit.salt, TRANSIT_SALT_LENGTH)
    this.key = backend.aesGcmKey(transit.key)
    // The first 4 nonce bytes are the salt's and never change; only the tail is rewritten.
    // From the backend: node:crypto takes its own Buffer type without a conversion per cipher.
    this.nonce = backend.allocUnsafe(12)
    this.nonce.set(transit.salt)
    this.view = new DataView(this.nonce.buffer, this.nonce.byteOffset, 12)
    this.saltTail = this.view.getBigUint64(4, false)
    this.saltHi = this.view.getUint32(4, false)
    this.saltLo = this.view.getUint32(8, false)
  }

  /**
   * The same for a sequence given as two u32 halves, without BigInt: the
   * sealer's per-chunk path.
   */
  atHalves (hi: number, lo: number): Uint8Array {
    this.view.setUint32(4, (this.saltHi ^ hi) >>> 0, false)
    this.view.setUint32(8, (this.saltLo ^ lo) >>> 0, false)
    return this.nonce
  }

  /** Sets the nonce to salt XOR sequence and returns it; the backend copies it per packet, so reuse is safe. */
  at (sequence: bigint): Uint8Array {
    this.view.setBigUint64(4, this.saltTail ^ sequence, false)
    return this.nonce
  }
}

function writeUint32BE (out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24
  out[offset + 1] = value >>> 16
  out[offset + 2] = value >>> 8
  out[offset + 3] = value
}

/** How to build a LinkSealer. */
export interface LinkSealerOptions {
  /**
   * First sequence, default 0. Only for continuing a transit key whose
   * earlier sequences are known to be spent; reusing one reuses a nonce.
   */
  readonly firstSequence?: bigint
  /** The AES-GCM's backend; default: the process default (crypto/default-backend.ts). */
  readonly backend?: CryptoBackend
}

/**
 * A sealed packet laid out for the wire (WireFrame): `head` = the frame's
 * varint length prefix (protocol/framing.md) and the 12-byte link header in
 * one small buffer, `body` = ciphertext, `tail` = the 16-byte tag. Nothing is
 * joined: a gather write (Uint8ArrayList) sends the pieces as they are, so
 * the ciphertext is never copied.
 */
export type SealedFrame = WireFrame

/**
 * The sealed packet of a frame (header || ciphertext || tag, without the
 * length prefix) as one array: what a subscriber's opener takes. For tests
 * and audits; the send path never joins the pieces.
 */
export function sealedPacket (frame: SealedFrame): Uint8Array {
  return concatBytes(frame.head.subarray(frame.head.byteLength - LINK_HEADER_LENGTH), frame.body, frame.tail)
}

/**
 * Relay side of one subscription: seals chunks with consecutive sequences
 * 0, 1, 2, ... Each sequence is used once, even when the caller drops the
 * result. The sequence is kept as two u32 halves so the per-chunk path does
 * no BigInt arithmetic.
 */
export class LinkSealer {
  private readonly state: NonceState
  private readonly backend: CryptoBackend
  /** Reused result holder of the detached seals: no result object per packet. */
  private readonly detached: GcmDetached = { ciphertext: EMPTY, tag: EMPTY }
  private hi: number
  private lo: number
  private exhausted = false

  /**
   * @throws MalformedError when the transit key or salt has the wrong length, or firstSequence is outside [0, 2^64 - 1].
   */
  constructor (transit: TransitKey, options: LinkSealerOptions = {}) {
    this.backend = options.backend ?? defaultCryptoBackend()
    this.state = new NonceState(transit, this.backend)
    const first = options.firstSequence ?? 0n
    if (first < 0n || first > MAX_UINT64) throw new MalformedError(`first link sequence ${first} is outside [0, 2^64 - 1]`)
    this.hi = Number(first >> 32n)
    this.lo = Number(first & 0xffffffffn)
  }

  /** The sequence the next seal will use; 2^64 once exhausted. */
  get nextSequence (): bigint {
    return this.exhausted ? MAX_UINT64 + 1n : (BigInt(this.hi) << 32n) | BigInt(this.lo)
  }

  /**
   * Writes the link header for the next sequence into `out` at `offset`,
   * points the nonce at it, and consumes the sequence.
   * @returns the nonce for the sequence (the header is the AAD)
   */
  private begin (out: Uint8Array, offset: number): Uint8Array {
    if (this.exhausted) throw new FabricError('CTR_EXHAUSTED', 'link sequence space exhausted; derive a new transit key')
    const hi = this.hi
    const lo = this.lo
    out[offset] = LINK_HEADER_VERSION
    out[offset + 1] = LinkKind.MediaChunk
    out[offset + 2] = 0
    out[offset + 3] = 0
    writeUint32BE(out, offset + 4, hi)
    writeUint32BE(out, offset + 8, lo)
    if (lo === 0xffffffff) {
      this.lo = 0
      if (hi === 0xffffffff) this.exhausted = true
      else this.hi = hi + 1
    } else {
      this.lo = lo + 1
    }
    return this.state.atHalves(hi, lo)
  }

  /**
   * Seals one chunk for the wire without joining the pieces: the relay's
   * per-subscriber path (see SealedFrame).
   * @throws FabricError('CTR_EXHAUSTED') once sequence 2^64 - 1 was used.
   */
  sealFrame (chunk: Uint8Array): SealedFrame {
    const length = LINK_SEAL_OVERHEAD + chunk.byteLength
    const prefix = varintLength(length)
    const head = this.backend.allocUnsafe(prefix + LINK_HEADER_LENGTH)
    writeVarint(length, head, 0)
    const nonce = this.begin(head, prefix)
    const detached = this.detached
    this.state.key.sealDetached(nonce, head.subarray(prefix), chunk, detached)
    const body = detached.ciphertext
    const tail = detached.tag
    return { head, body, tail, byteLength: head.byteLength + body.byteLength + tail.byteLength }
  }

  /**
   * Seals one chunk: returns header || ciphertext || tag in one new buffer
   * (chunk + 28 bytes). Costs one copy of the ciphertext, since node's
   * cipher cannot write into a caller's buffer; `sealFrame` avoids it.
   * Small outputs may be views into a shared slab: use byteOffset/byteLength.
   * @throws FabricError('CTR_EXHAUSTED') once sequence 2^64 - 1 was used.
   */
  seal (chunk: Uint8Array): Uint8Array {
    const out = this.backend.allocUnsafe(LINK_SEAL_OVERHEAD + chunk.byteLength)
    const nonce = this.begin(out, 0)
    this.state.key.sealInto(nonce, out.subarray(0, LINK_HEADER_LENGTH), chunk, out, LINK_HEADER_LENGTH)
    return plainView(out)
  }

  /**
   * Seals one chunk and returns the header, ciphertext and tag separately.
   * @throws FabricError('CTR_EXHAUSTED') once sequence 2^64 - 1 was used.
   */
  sealParts (chunk: Uint8Array): LinkSealedParts {
    const sequence = this.nextSequence
    const header = this.backend.allocUnsafe(LINK_HEADER_LENGTH)
    const nonce = this.begin(header, 0)
    const detached = this.detached
    this.state.key.sealDetached(nonce, header, chunk, detached)
    const ciphertext = detached.ciphertext
    const tag = detached.tag
    return { sequence, header: plainView(header), ciphertext: plainView(ciphertext), tag: plainView(tag), byteLength: LINK_SEAL_OVERHEAD + ciphertext.byteLength }
  }
}

/** How to build a LinkOpener. */
export interface LinkOpenerOptions {
  /** Replay window width in sequences, [1, 2^20]; default 1024. */
  readonly windowSize?: number
  /** The AES-GCM's backend; default: the process default (crypto/default-backend.ts). */
  readonly backend?: CryptoBackend
}

/**
 * Subscriber side of one subscription: checks the header, refuses replays,
 * verifies and decrypts. The replay window moves only for packets whose tag
 * verified, so forged packets cannot push genuine ones out of it.
 */
export class LinkOpener {
  private readonly state: NonceState
  private readonly window: ReplayWindow
  private last: bigint | undefined

  /**
   * @throws MalformedError when the transit key or salt has the wrong length.
   * @throws RangeError when windowSize is outside [1, 2^20].
   */
  constructor (transit: TransitKey, options: LinkOpenerOptions = {}) {
    this.state = new NonceState(transit, options.backend ?? defaultCryptoBackend())
    this.window = new ReplayWindow(options.windowSize ?? DEFAULT_REPLAY_WINDOW)
  }

  /** Sequence of the last packet opened successfully; undefined before the first. */
  get lastSequence (): bigint | undefined {
    return this.last
  }

  /** Highest sequence opened so far; undefined before the first. */
  get highestSequence (): bigint | undefined {
    return this.window.highest
  }

  /**
   * Opens one sealed packet and returns the chunk (sealed - 28 bytes).
   * @throws MalformedError when the packet is shorter than header + tag, the kind is reserved or the reserved field is set.
   * @throws FabricError('UNSUPPORTED_VERSION') when the header version is not 1.
   * @throws ReplayError when the sequence was already opened or is older than the window.
   * @throws AuthenticationError when the tag does not verify (the window is left unchanged).
   */
  open (sealed: Uint8Array): Uint8Array {
    const { sequence } = decodeLinkHeader(sealed)
    if (sealed.byteLength < LINK_SEAL_OVERHEAD) throw new MalformedError(`link packet is ${sealed.byteLength} bytes, shorter than header + tag (${LINK_SEAL_OVERHEAD})`)
    // Refuse replays before spending an AES pass on them.
    this.window.check(sequence)
    let chunk: Uint8Array
    try {
      chunk = this.state.key.open(this.state.at(sequence), sealed.subarray(0, LINK_HEADER_LENGTH), sealed.subarray(LINK_HEADER_LENGTH))
    } catch (cause) {
      throw new AuthenticationError('link seal tag did not verify', { cause })
    }
    this.window.accept(sequence)
    this.last = sequence
    return plainView(chunk)
  }
}
