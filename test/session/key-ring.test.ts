import { describe, it, expect } from 'vitest'
import { EpochKeyRing, DEFAULT_KEY_RETENTION_MS, DEFAULT_MAX_EPOCHS } from '../../src/session/key-ring.js'
import { FabricError } from '../../src/errors.js'

const key = (n: number): Uint8Array => new Uint8Array(16).fill(n)

describe('EpochKeyRing', () => {
  it('makes the newest install current and refuses older epochs', () => {
    const ring = new EpochKeyRing()
    expect(ring.currentEpoch).toBeUndefined()
    ring.install(3n, key(3), 0)
    ring.install(4n, key(4), 10)
    expect(ring.currentEpoch).toBe(4n)
    expect(ring.current()?.baseKey).toEqual(key(4))
    expect(() => ring.install(4n, key(9), 20)).toThrow(FabricError)
    expect(() => ring.install(2n, key(9), 20)).toThrow(expect.objectContaining({ code: 'STALE_EPOCH' }))
  })

  it('keeps a superseded epoch for the retention window, then drops and zeroes it', () => {
    const ring = new EpochKeyRing()
    expect(ring.retentionMs).toBe(DEFAULT_KEY_RETENTION_MS)
    ring.install(1n, key(1), 0)
    const old = ring.baseKeyForEpochBits(1, 500)!.baseKey
    ring.install(2n, key(2), 1_000)
    expect(ring.baseKeyForEpochBits(1, 1_000 + DEFAULT_KEY_RETENTION_MS - 1)?.epoch).toBe(1n)
    expect(ring.baseKeyForEpochBits(1, 1_000 + DEFAULT_KEY_RETENTION_MS)).toBeUndefined()
    expect(old).toEqual(new Uint8Array(16))
    // The current epoch never expires.
    expect(ring.baseKeyForEpochBits(2, 1e12)?.baseKey).toEqual(key(2))
    expect(ring.epochs()).toEqual([2n])
  })

  it('holds at most maxEpochs epochs, dropping the oldest', () => {
    const ring = new EpochKeyRing()
    const held: Uint8Array[] = []
    for (let e = 0; e < 12; e++) {
      ring.install(BigInt(e), key(e + 1), e)
      held.push(ring.current()!.baseKey)
    }
    expect(ring.size).toBe(DEFAULT_MAX_EPOCHS)
    expect(ring.epochs()).toEqual([4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n])
    for (let e = 0; e < 4; e++) expect(held[e]).toEqual(new Uint8Array(16))
    expect(held[4]).toEqual(key(5))
  })

  it('resolves epoch bits to the epoch they name, and never holds two epochs with the same bits', () => {
    const ring = new EpochKeyRing({ retentionMs: 1e9 })
    ring.install(5n, key(5), 0)
    ring.install(6n, key(6), 0)
    expect(ring.baseKeyForEpochBits(5, 0)?.epoch).toBe(5n)
    ring.install(261n, key(7), 0)
    expect(ring.epochs()).toEqual([6n, 261n])
    expect(ring.baseKeyForEpochBits(5, 0)).toEqual({ epoch: 261n, baseKey: key(7) })
    expect(ring.baseKeyForEpochBits(256, 0)).toBeUndefined()
    expect(ring.baseKeyForEpochBits(-1, 0)).toBeUndefined()
    expect(ring.baseKeyForEpochBits(7, 0)).toBeUndefined()
    expect(ring.baseKeyForEpoch(6n, 0)?.baseKey).toEqual(key(6))
  })

  it('copies installed keys, and drops on demand with dropAllBefore and clear', () => {
    const ring = new EpochKeyRing()
    const k = key(1)
    ring.install(1n, k, 0)
    k.fill(0xff)
    expect(ring.current()?.baseKey).toEqual(key(1))
    ring.install(2n, key(2), 0)
    ring.install(3n, key(3), 0)
    const two = ring.baseKeyForEpoch(2n, 0)!.baseKey
    expect(ring.dropAllBefore(3n)).toBe(2)
    expect(two).toEqual(new Uint8Array(16))
    expect(ring.epochs()).toEqual([3n])
    const three = ring.current()!.baseKey
    ring.clear()
    expect(ring.size).toBe(0)
    expect(three).toEqual(new Uint8Array(16))
  })

  it('expire reports what it dropped and tolerates a clock going back', () => {
    const ring = new EpochKeyRing({ retentionMs: 100, maxEpochs: 4 })
    ring.install(1n, key(1), 1_000)
    ring.install(2n, key(2), 1_000)
    ring.install(3n, key(3), 1_050)
    expect(ring.expire(500)).toBe(0)
    expect(ring.expire(1_100)).toBe(1)
    expect(ring.expire(1_150)).toBe(1)
    expect(ring.epochs()).toEqual([3n])
  })

  it('refuses nonsensical options', () => {
    expect(() => new EpochKeyRing({ retentionMs: -1 })).toThrow(FabricError)
    expect(() => new EpochKeyRing({ maxEpochs: 0 })).toThrow(FabricError)
    expect(() => new EpochKeyRing({ maxEpochs: 257 })).toThrow(FabricError)
  })
})
