import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MAX_GROUP_REQUEST_FRAME } from '../../src/node/group/limits.js'
import { DEFAULT_MAX_BYTES_PER_IDENTITY } from '../../src/node/directory-store.js'
import * as L from '../../src/wire/limits.js'
import { encodeGroupClientMessage } from '../../src/wire/group-messages.js'

describe('limits', () => {
  it('has the documented values (protocol/limits.md)', () => {
    expect(L.CHUNK_META_LENGTH).toBe(28)
    expect(L.MAX_CHUNK_PAYLOAD).toBe(1_048_576)
    expect(L.MAX_CHUNK).toBe(1_048_604)
    expect(L.LINK_SEAL_OVERHEAD).toBe(28)
    expect(L.MAX_MEDIA_FRAME).toBe(1_048_632)
    expect(L.MAX_CONTROL_FRAME).toBe(2_097_152)
    expect(L.MAX_DIRECTORY_FRAME).toBe(327_680)
    expect(L.MAX_AV_MESSAGE).toBe(4096)
    expect(L.MAX_KEY_PACKAGE).toBe(65_536)
    expect(L.MAX_KEY_PACKAGES_PER_PUBLISH).toBe(64)
    expect(L.MAX_COMMIT).toBe(1_048_576)
    expect(L.MAX_WELCOME).toBe(1_048_576)
    expect(L.MAX_STREAM_NAME).toBe(128)
    expect(L.MAX_IDENTITY).toBe(128)
    expect(L.MAX_ROSTER).toBe(10_000)
    expect(L.MAX_ADDED_PER_COMMIT).toBe(256)
    expect(L.MAX_LEAF_INDEX).toBe(65_535)
    expect(L.MAX_REMOVED_PER_COMMIT).toBe(10_000)
    expect(L.MAX_GROUP_ID).toBe(256)
    expect(L.MAX_ERROR_CODE).toBe(32)
    expect(L.MAX_ERROR_MESSAGE).toBe(1024)
    expect(L.X25519_PUBLIC_KEY_LENGTH).toBe(32)
  })

  it('has the admission bounds of src/wire/limits.ts', () => {
    expect(L.MAX_POLICY_ALLOW).toBe(1024)
    expect(L.MAX_POLICY_INVITERS).toBe(64)
    expect(L.MAX_ADMISSION_POLICY).toBe(98_304)
    expect(L.MAX_SIGNED_POLICY).toBe(98_304 + 128)
    expect(L.MAX_INVITATION).toBe(1024)
    expect(L.MAX_REDEMPTION).toBe(2048)
    expect(L.MAX_INVITATION_TOKEN).toBe(2048)
    expect(L.MAX_LEDGER_ADMITTED).toBe(256)
    expect(L.MAX_LEDGER_SPENT).toBe(4096)
    expect(L.MAX_ADMISSION_LEDGER).toBe(786_432)
    expect(L.GROUP_ID_LENGTH).toBe(32)
    expect(L.INVITATION_ID_LENGTH).toBe(16)
    expect(L.ED25519_KEY_BYTES).toBe(32)
    expect(L.ED25519_SIGNATURE_BYTES).toBe(64)
  })

  it('keeps the frame bounds consistent with what they carry', () => {
    // Every frame length must fit the 4-byte framing varint.
    for (const max of [L.MAX_MEDIA_FRAME, L.MAX_CONTROL_FRAME, L.MAX_DIRECTORY_FRAME, L.MAX_AV_MESSAGE]) expect(max).toBeLessThanOrEqual(2 ** 28 - 1)
    expect(L.MAX_CONTROL_FRAME).toBeGreaterThan(L.MAX_WELCOME)
    expect(L.MAX_CONTROL_FRAME).toBeGreaterThan(L.MAX_COMMIT)
    expect(L.MAX_MEDIA_FRAME).toBeGreaterThan(L.MAX_AV_MESSAGE)
    // A directory frame holds the largest KeyPackage (a fetch answer, or a publish of one) with its envelope.
    expect(L.MAX_DIRECTORY_FRAME).toBeGreaterThan(L.MAX_KEY_PACKAGE + 64)
    expect(L.MAX_DIRECTORY_FRAME).toBeLessThan(L.MAX_CONTROL_FRAME)
    // Sized to the node's default per-identity KeyPackage quota plus 64 KiB of envelope
    // (the wire cannot import the node's constant, so this pins the two together).
    expect(L.MAX_DIRECTORY_FRAME).toBe(DEFAULT_MAX_BYTES_PER_IDENTITY + 64 * 1024)
    // The admission messages nest: a policy in its signed envelope, an invitation in a redemption.
    expect(L.MAX_SIGNED_POLICY).toBeGreaterThan(L.MAX_ADMISSION_POLICY + L.ED25519_SIGNATURE_BYTES)
    expect(L.MAX_ADMISSION_POLICY).toBeGreaterThanOrEqual((L.MAX_POLICY_ALLOW + L.MAX_POLICY_INVITERS) * 54)
    expect(L.MAX_REDEMPTION).toBeGreaterThan(L.MAX_INVITATION + L.ED25519_SIGNATURE_BYTES * 2 + L.MAX_IDENTITY)
  })

  it('fits the largest join and deny in a non-committer\'s group frame (MAX_GROUP_REQUEST_FRAME)', () => {
    // Everyone but a committer is read with the 8 KiB bound: the largest
    // request it may send must still fit, or a valid join would be refused.
    const join = encodeGroupClientMessage({
      requestId: 2n ** 64n - 1n,
      join: { stream: 'a'.repeat(L.MAX_STREAM_NAME), owner: 'o'.repeat(L.MAX_IDENTITY), redemption: new Uint8Array(L.MAX_REDEMPTION).fill(0xff) },
    })
    expect(join.byteLength).toBeLessThanOrEqual(MAX_GROUP_REQUEST_FRAME)
    const create = encodeGroupClientMessage({ requestId: 2n ** 64n - 1n, create: { stream: 'a'.repeat(L.MAX_STREAM_NAME), groupId: new Uint8Array(L.MAX_GROUP_ID) } })
    expect(create.byteLength).toBeLessThanOrEqual(MAX_GROUP_REQUEST_FRAME)
    const deny = encodeGroupClientMessage({ requestId: 1n, deny: { identity: 'i'.repeat(L.MAX_IDENTITY), reason: 'é'.repeat(L.MAX_ERROR_MESSAGE / 2) } })
    expect(deny.byteLength).toBeLessThanOrEqual(MAX_GROUP_REQUEST_FRAME)
  })

  it('states in protocol/limits.md the value of every constant it tables', () => {
    // Rows `| \`NAME\` | value | ... |`: the value is the number in parentheses
    // when there is one, else a number with an optional KiB or MiB unit.
    const doc = readFileSync(new URL('../../protocol/limits.md', import.meta.url), 'utf8')
    const constants: Record<string, unknown> = { ...L, MAX_GROUP_REQUEST_FRAME }
    const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]+) \|/gm)]
    expect(rows.length).toBeGreaterThan(30)
    for (const [, name, text] of rows) {
      const exact = /\(([\d ]+)\)/.exec(text)
      const plain = /^(?:exactly )?([\d ]*\d)(?: (KiB|MiB))?/.exec(text.trim())
      expect(exact ?? plain, `${name}: ${text}`).not.toBeNull()
      const value = exact !== null
        ? Number(exact[1].replaceAll(' ', ''))
        : Number(plain![1].replaceAll(' ', '')) * (plain![2] === 'MiB' ? 1024 * 1024 : plain![2] === 'KiB' ? 1024 : 1)
      expect(constants[name], `${name} in protocol/limits.md`).toBe(value)
    }
  })
})
