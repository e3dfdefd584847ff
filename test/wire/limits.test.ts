import { describe, expect, it } from 'vitest'
import * as L from '../../src/wire/limits.js'

describe('limits', () => {
  it('has the documented values (protocol/limits.md)', () => {
    expect(L.CHUNK_META_LENGTH).toBe(28)
    expect(L.MAX_CHUNK_PAYLOAD).toBe(1_048_576)
    expect(L.MAX_CHUNK).toBe(1_048_604)
    expect(L.LINK_SEAL_OVERHEAD).toBe(28)
    expect(L.MAX_MEDIA_FRAME).toBe(1_048_632)
    expect(L.MAX_CONTROL_FRAME).toBe(2_097_152)
    expect(L.MAX_AV_MESSAGE).toBe(4096)
    expect(L.MAX_KEY_PACKAGE).toBe(65_536)
    expect(L.MAX_KEY_PACKAGES_PER_PUBLISH).toBe(64)
    expect(L.MAX_COMMIT).toBe(1_048_576)
    expect(L.MAX_WELCOME).toBe(1_048_576)
    expect(L.MAX_STREAM_NAME).toBe(128)
    expect(L.MAX_IDENTITY).toBe(128)
    expect(L.MAX_ROSTER).toBe(10_000)
    expect(L.MAX_ADDED_PER_COMMIT).toBe(1_000)
    expect(L.MAX_REMOVED_PER_COMMIT).toBe(10_000)
    expect(L.MAX_GROUP_ID).toBe(256)
    expect(L.MAX_ERROR_CODE).toBe(32)
    expect(L.MAX_ERROR_MESSAGE).toBe(1024)
    expect(L.X25519_PUBLIC_KEY_LENGTH).toBe(32)
  })

  it('keeps the frame bounds consistent with what they carry', () => {
    // Every frame length must fit the 4-byte framing varint.
    for (const max of [L.MAX_MEDIA_FRAME, L.MAX_CONTROL_FRAME, L.MAX_AV_MESSAGE]) expect(max).toBeLessThanOrEqual(2 ** 28 - 1)
    expect(L.MAX_CONTROL_FRAME).toBeGreaterThan(L.MAX_WELCOME)
    expect(L.MAX_CONTROL_FRAME).toBeGreaterThan(L.MAX_COMMIT)
    expect(L.MAX_MEDIA_FRAME).toBeGreaterThan(L.MAX_AV_MESSAGE)
  })
})
