/**
 * SFrame base keys per MLS epoch, as a receiver needs them across an epoch
 * change: frames sealed under the previous epoch keep arriving for a moment
 * after the Commit, so superseded keys stay usable for a bounded window
 * (design: "receivers keep old epoch keys for a bounded window").
 */
import { FabricError } from '../errors.js'
import { KID_EPOCH_MODULUS } from './kid.js'

/** Default time a superseded epoch's key stays usable, in milliseconds. */
export const DEFAULT_KEY_RETENTION_MS = 10_000

/** Default bound on the epochs held at once, the current one included. */
export const DEFAULT_MAX_EPOCHS = 8

/** Options of an EpochKeyRing. */
export interface EpochKeyRingOptions {
  /** How long a key stays usable after a newer epoch was installed, in ms (>= 0). */
  retentionMs?: number
  /** Most epochs held at once, the current one included (1..256). */
  maxEpochs?: number
}

/** A base key and the full MLS epoch it belongs to. */
export interface EpochKey {
  /** Full MLS epoch. */
  epoch: bigint
  /**
   * The SFrame base_key of that epoch (RFC 9605 section 5.2). The ring owns
   * these bytes and zeroes them when the epoch is dropped: copy them to keep
   * them longer.
   */
  baseKey: Uint8Array
}

interface Entry {
  epoch: bigint
  baseKey: Uint8Array
  /** When a newer epoch replaced this one; undefined while current. */
  supersededAtMs: number | undefined
}

/**
 * Holds SFrame base keys per MLS epoch: the current epoch's key, plus keys of
 * superseded epochs for `retentionMs` after they were superseded and at most
 * `maxEpochs` epochs in all. Sans-IO: time only enters through `nowMs`
 * arguments (milliseconds on any monotonic-enough clock the caller picks).
 */
export class EpochKeyRing {
  /** Retention window for superseded epochs, in ms. */
  readonly retentionMs: number
  /** Bound on epochs held, the current one included. */
  readonly maxEpochs: number
  /** Oldest first; the last entry is the current epoch. */
  readonly #entries: Entry[] = []

  /**
   * @throws FabricError INVALID_STATE when an option is out of range
   */
  constructor (options: EpochKeyRingOptions = {}) {
    const retentionMs = options.retentionMs ?? DEFAULT_KEY_RETENTION_MS
    const maxEpochs = options.maxEpochs ?? DEFAULT_MAX_EPOCHS
    if (!Number.isFinite(retentionMs) || retentionMs < 0) {
      throw new FabricError('INVALID_STATE', `retentionMs ${retentionMs} must be a finite number >= 0`)
    }
    // More than 2^E epochs could not be told apart by the KID's epoch bits.
    if (!Number.isInteger(maxEpochs) || maxEpochs < 1 || BigInt(maxEpochs) > KID_EPOCH_MODULUS) {
      throw new FabricError('INVALID_STATE', `maxEpochs ${maxEpochs} must be an integer in 1..${KID_EPOCH_MODULUS}`)
    }
    this.retentionMs = retentionMs
    this.maxEpochs = maxEpochs
  }

  /** The current (newest) epoch, or undefined when the ring is empty. */
  get currentEpoch (): bigint | undefined {
    return this.#entries.at(-1)?.epoch
  }

  /** The current epoch and its base key, or undefined when the ring is empty. */
  current (): EpochKey | undefined {
    const e = this.#entries.at(-1)
    return e === undefined ? undefined : { epoch: e.epoch, baseKey: e.baseKey }
  }

  /** Epochs held, oldest first (expired ones are included until `expire` runs). */
  epochs (): bigint[] {
    return this.#entries.map(e => e.epoch)
  }

  /** Number of epochs held. */
  get size (): number {
    return this.#entries.length
  }

  /**
   * Makes `epoch` the current epoch with a copy of `baseKey`; the previous
   * current epoch becomes superseded at `nowMs`. Drops (and zeroes) any held
   * epoch with the same low 8 bits, since a KID could not tell them apart,
   * then the oldest ones beyond `maxEpochs`.
   *
   * @param epoch   full MLS epoch, greater than the current one
   * @param baseKey SFrame base key of that epoch (copied; the caller may zero its own)
   * @param nowMs   current time, ms
   * @throws FabricError STALE_EPOCH when epoch is not newer than the current epoch
   */
  install (epoch: bigint, baseKey: Uint8Array, nowMs: number): void {
    const cur = this.#entries.at(-1)
    if (cur !== undefined) {
      if (epoch <= cur.epoch) {
        throw new FabricError('STALE_EPOCH', `epoch ${epoch} is not newer than the current epoch ${cur.epoch}`)
      }
      cur.supersededAtMs = nowMs
    }
    const low = epoch % KID_EPOCH_MODULUS
    this.#dropWhere(e => e.epoch % KID_EPOCH_MODULUS === low)
    this.#entries.push({ epoch, baseKey: Uint8Array.from(baseKey), supersededAtMs: undefined })
    while (this.#entries.length > this.maxEpochs) this.#dropAt(0)
  }

  /**
   * Drops (and zeroes) superseded epochs whose window has passed: those
   * superseded at or before `nowMs - retentionMs`. The current epoch never expires.
   *
   * @returns the number of epochs dropped
   */
  expire (nowMs: number): number {
    return this.#dropWhere(e => e.supersededAtMs !== undefined && nowMs - e.supersededAtMs >= this.retentionMs)
  }

  /**
   * Finds the key a KID's epoch bits name, after expiring old epochs.
   * When two held epochs share the low bits (impossible after `install`'s
   * pruning, kept as a guard), the newest wins.
   *
   * @param epochLowBits epoch mod 2^8, as decodeKid returns it
   * @param nowMs        current time, ms
   * @returns the epoch and its base key, or undefined when no usable key matches
   */
  baseKeyForEpochBits (epochLowBits: number, nowMs: number): EpochKey | undefined {
    this.expire(nowMs)
    if (!Number.isInteger(epochLowBits) || epochLowBits < 0 || BigInt(epochLowBits) >= KID_EPOCH_MODULUS) return undefined
    const low = BigInt(epochLowBits)
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!
      if (e.epoch % KID_EPOCH_MODULUS === low) return { epoch: e.epoch, baseKey: e.baseKey }
    }
    return undefined
  }

  /**
   * Finds the key of a full epoch, after expiring old epochs.
   *
   * @returns the epoch and its base key, or undefined when not held
   */
  baseKeyForEpoch (epoch: bigint, nowMs: number): EpochKey | undefined {
    this.expire(nowMs)
    const e = this.#entries.find(x => x.epoch === epoch)
    return e === undefined ? undefined : { epoch: e.epoch, baseKey: e.baseKey }
  }

  /**
   * Drops (and zeroes) every epoch older than `epoch`, whatever its window.
   * For a removal: once the removed member's last epoch is behind, the caller
   * may stop accepting it at once instead of after the window. Dropping past
   * the current epoch empties the ring.
   *
   * @returns the number of epochs dropped
   */
  dropAllBefore (epoch: bigint): number {
    return this.#dropWhere(e => e.epoch < epoch)
  }

  /** Drops (and zeroes) every key held. */
  clear (): void {
    this.#dropWhere(() => true)
  }

  #dropWhere (pred: (e: Entry) => boolean): number {
    let dropped = 0
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (pred(this.#entries[i]!)) {
        this.#dropAt(i)
        dropped++
      }
    }
    return dropped
  }

  #dropAt (i: number): void {
    const [e] = this.#entries.splice(i, 1)
    e?.baseKey.fill(0)
  }
}
