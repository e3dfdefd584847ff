/**
 * The admission codecs (src/wire/admission-messages.ts): every well-formed
 * message round-trips; every documented bound holds at its value and
 * refuses at one more (TOO_LARGE for byte sizes and lengths, MALFORMED for
 * counts and short fields, as the codec docstrings say); repeats are
 * refused; hostile bytes give a message or a FabricError and nothing else.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError, isFabricError, type ErrorCode } from '../../src/errors.js'
import { identityFromSeed } from '../../src/session/identity.js'
import * as W from '../../src/wire/admission-messages.js'
import type { Admission, Spent } from '../../src/wire/admission-messages.js'
import {
  ED25519_KEY_BYTES, ED25519_SIGNATURE_BYTES, GROUP_ID_LENGTH, INVITATION_ID_LENGTH, MAX_ADMISSION_LEDGER, MAX_ADMISSION_POLICY,
  MAX_IDENTITY, MAX_INVITATION, MAX_INVITATION_TOKEN, MAX_LEDGER_ADMITTED, MAX_LEDGER_SPENT, MAX_POLICY_ALLOW, MAX_POLICY_INVITERS,
  MAX_REDEMPTION, MAX_SIGNED_POLICY, MAX_STREAM_NAME,
} from '../../src/wire/limits.js'
import { bytes, onlyFabricErrors, streamName, u64 } from './arbitraries.js'

// ---------------------------------------------------------------------------
// Arbitraries: real peer ids (Ed25519 identities from seeds), valid names.

/** 64 identities from seeds (deriving one per generated value would dominate the run time). */
const pool = Array.from({ length: 64 }, (_, n) => identityFromSeed(Uint8Array.from({ length: 32 }, (_, i) => (n * 37 + i * 11 + 1) & 0xff)).peerId)
const peerIdArb = fc.constantFrom(...pool)
const peerIds = (maxLength: number): fc.Arbitrary<string[]> => fc.uniqueArray(peerIdArb, { maxLength })
const b = (n: number): fc.Arbitrary<Uint8Array<ArrayBuffer>> => bytes(n, n) as fc.Arbitrary<Uint8Array<ArrayBuffer>>

const policyArb: fc.Arbitrary<W.AdmissionPolicy> = fc.record({
  version: fc.constant(1),
  owner: peerIdArb,
  stream: streamName,
  groupId: b(GROUP_ID_LENGTH),
  serial: u64,
  open: fc.boolean(),
  knock: fc.boolean(),
  allow: peerIds(8),
  inviters: peerIds(4),
})

const signedPolicyArb: fc.Arbitrary<W.SignedPolicy> = fc.record({
  policy: fc.oneof(policyArb.map((p) => W.encodeAdmissionPolicy(p) as Uint8Array<ArrayBuffer>), bytes(1, 200) as fc.Arbitrary<Uint8Array<ArrayBuffer>>),
  signature: b(ED25519_SIGNATURE_BYTES),
})

const invitationArb: fc.Arbitrary<W.Invitation> = fc.record({
  version: fc.constant(1),
  owner: peerIdArb,
  stream: streamName,
  groupId: b(GROUP_ID_LENGTH),
  issuer: peerIdArb,
  invitee: fc.oneof(fc.constant(''), peerIdArb),
  key: b(ED25519_KEY_BYTES),
  expiresAt: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
  maxUses: fc.integer({ min: 1, max: 0xffffffff }),
  id: b(INVITATION_ID_LENGTH),
})

const signedInvitationArb: fc.Arbitrary<W.SignedInvitation> = fc.record({
  invitation: invitationArb.map((i) => W.encodeInvitation(i) as Uint8Array<ArrayBuffer>),
  signature: b(ED25519_SIGNATURE_BYTES),
})

const redemptionFor = (joiner: fc.Arbitrary<string>): fc.Arbitrary<W.Redemption> => fc.record({
  invitation: signedInvitationArb,
  joiner,
  signature: b(ED25519_SIGNATURE_BYTES),
})
const redemptionArb = redemptionFor(peerIdArb)

const tokenArb: fc.Arbitrary<W.InvitationToken> = fc.record({ invitation: signedInvitationArb, seed: b(ED25519_KEY_BYTES) })

const ledgerArb: fc.Arbitrary<W.AdmissionLedger> = fc.record({
  version: fc.constant(1),
  admitted: fc.uniqueArray(peerIdArb, { maxLength: 4 }).chain((ids) =>
    fc.tuple(...ids.map((id) => redemptionFor(fc.constant(id)).map((evidence): Admission => ({ identity: id, evidence }))))),
  spent: fc.uniqueArray(fc.record({ invitationId: b(INVITATION_ID_LENGTH), uses: fc.integer({ min: 1, max: 0xffffffff }) }), {
    maxLength: 6,
    selector: (s) => Buffer.from(s.invitationId).toString('hex'),
  }) as fc.Arbitrary<Spent[]>,
})

// ---------------------------------------------------------------------------
// The message kinds

interface Case {
  name: string
  arb: fc.Arbitrary<any>
  encode: (m: any) => Uint8Array
  decode: (b: Uint8Array) => any
  /** protons' own encoder: no checks, for crafting invalid messages */
  raw: (m: any) => Uint8Array
  /** the byte bound of an encoding */
  max: number
  versioned: boolean
}

const cases: Case[] = [
  { name: 'AdmissionPolicy', arb: policyArb, encode: W.encodeAdmissionPolicy, decode: W.decodeAdmissionPolicy, raw: (m) => W.AdmissionPolicy.encode(m), max: MAX_ADMISSION_POLICY, versioned: true },
  { name: 'SignedPolicy', arb: signedPolicyArb, encode: W.encodeSignedPolicy, decode: W.decodeSignedPolicy, raw: (m) => W.SignedPolicy.encode(m), max: MAX_SIGNED_POLICY, versioned: false },
  { name: 'Invitation', arb: invitationArb, encode: W.encodeInvitation, decode: W.decodeInvitation, raw: (m) => W.Invitation.encode(m), max: MAX_INVITATION, versioned: true },
  { name: 'SignedInvitation', arb: signedInvitationArb, encode: W.encodeSignedInvitation, decode: W.decodeSignedInvitation, raw: (m) => W.SignedInvitation.encode(m), max: MAX_INVITATION + 128, versioned: false },
  { name: 'Redemption', arb: redemptionArb, encode: W.encodeRedemption, decode: W.decodeRedemption, raw: (m) => W.Redemption.encode(m), max: MAX_REDEMPTION, versioned: false },
  { name: 'InvitationToken', arb: tokenArb, encode: W.encodeInvitationToken, decode: W.decodeInvitationToken, raw: (m) => W.InvitationToken.encode(m), max: MAX_INVITATION_TOKEN, versioned: false },
  { name: 'AdmissionLedger', arb: ledgerArb, encode: W.encodeAdmissionLedger, decode: W.decodeAdmissionLedger, raw: (m) => W.AdmissionLedger.encode(m), max: MAX_ADMISSION_LEDGER, versioned: true },
]
const byName = new Map(cases.map((c) => [c.name, c]))
const kind = (name: string): Case => byName.get(name)!

/** A decode that succeeded must survive re-encoding unchanged: encoder and decoder checks agree. */
function checkConsistent (c: Case, decoded: unknown): void {
  if (decoded instanceof FabricError) {
    expect(['MALFORMED', 'TOO_LARGE', 'UNSUPPORTED_VERSION']).toContain(decoded.code)
    return
  }
  expect(c.decode(c.encode(decoded))).toEqual(decoded)
}

/** The FabricError code `f` throws; fails when it returns or throws anything else. */
function codeOf (f: () => unknown): ErrorCode {
  const r = onlyFabricErrors(f)
  expect(r, 'expected a FabricError').toBeInstanceOf(FabricError)
  return (r as FabricError).code
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}

/**
 * `encoded` followed by one unknown length-delimited field (number 15) so
 * the whole is exactly `total` bytes: decoders skip unknown fields, so this
 * is a valid encoding of the same message, of any size.
 */
function paddedTo (encoded: Uint8Array, total: number): Uint8Array {
  const room = total - encoded.length - 1
  for (let len = room - 1; len >= 0 && len >= room - 5; len--) {
    if (varintLength(len) + len === room) {
      const out = new Uint8Array(total)
      out.set(encoded)
      let o = encoded.length
      out[o++] = (15 << 3) | 2
      let v = len
      while (v >= 0x80) { out[o++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128) }
      out[o++] = v
      expect(o + len).toBe(total)
      return out
    }
  }
  throw new Error(`cannot pad ${encoded.length} bytes to ${total}`)
}

describe.each(cases)('$name', (c) => {
  it('round-trips arbitrary well-formed messages, byte-identical to protons', () => {
    fc.assert(fc.property(c.arb, (m) => {
      const bytes = c.encode(m)
      expect(bytes).toEqual(c.raw(m))
      expect(c.decode(bytes)).toEqual(m)
    }), { numRuns: 150 })
  })

  if (c.versioned) {
    it('writes version 1 when left out, refuses to write another, and reads no other (UNSUPPORTED_VERSION)', () => {
      fc.assert(fc.property(c.arb, fc.oneof(fc.constant(0), fc.integer({ min: 2, max: 0xffffffff })), (m, v) => {
        const { version: _, ...rest } = m
        expect(c.decode(c.encode(rest))).toEqual(m)
        expect(() => c.encode({ ...m, version: v })).toThrow(RangeError)
        expect(codeOf(() => c.decode(c.raw({ ...m, version: v })))).toBe('UNSUPPORTED_VERSION')
      }), { numRuns: 50 })
    })
  }

  it(`decodes an encoding of exactly its bound, and refuses one byte more with TOO_LARGE before parsing`, () => {
    fc.assert(fc.property(c.arb, (m) => {
      const exact = paddedTo(c.raw(m), c.max)
      expect(exact.length).toBe(c.max)
      expect(c.decode(exact)).toEqual(m)
      expect(codeOf(() => c.decode(paddedTo(c.raw(m), c.max + 1)))).toBe('TOO_LARGE')
    }), { numRuns: 5 })
    expect(codeOf(() => c.decode(new Uint8Array(c.max + 1)))).toBe('TOO_LARGE')
  })

  it('yields a message or MALFORMED / TOO_LARGE / UNSUPPORTED_VERSION for random bytes', () => {
    fc.assert(fc.property(bytes(0, 120), (bytes) => { checkConsistent(c, onlyFabricErrors(() => c.decode(bytes))) }), { numRuns: 1500 })
  })

  it('yields a message or such a FabricError for mutated and cut valid encodings', () => {
    const mutated = fc.tuple(c.arb, fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()))
    fc.assert(fc.property(mutated, ([m, flips, cut]) => {
      const bytes = c.encode(m).slice()
      if (bytes.length === 0) return
      for (const [at, bit] of flips) bytes[at % bytes.length]! ^= 1 << bit
      const cutAt = cut === null ? bytes.length : cut % (bytes.length + 1)
      checkConsistent(c, onlyFabricErrors(() => c.decode(bytes.subarray(0, cutAt))))
    }), { numRuns: 400 })
  })
})

// ---------------------------------------------------------------------------
// Field bounds, one by one: the value at the bound passes, one more is refused.

/** A shape-valid identity of `length` characters, distinct per `i` (the wire checks shape, not peer ids). */
function idOfLength (length: number, i = 0): string {
  const prefix = i.toString(36)
  return prefix + 'Q'.repeat(length - prefix.length)
}

/** `n` distinct shape-valid identities. */
function ids (n: number, length = 20): string[] {
  return Array.from({ length: n }, (_, i) => idOfLength(length, i))
}

const sample = <T>(arb: fc.Arbitrary<T>): T => fc.sample(arb, { numRuns: 1, seed: 7 })[0]!

const basePolicy = sample(policyArb)
const baseInvitation = sample(invitationArb)
const baseSignedInvitation = sample(signedInvitationArb)
const baseRedemption = sample(redemptionArb)
const baseToken = sample(tokenArb)
const baseLedger = sample(ledgerArb)

const bytesOf = (n: number, fill = 7): Uint8Array<ArrayBuffer> => new Uint8Array(n).fill(fill)
const evidenceFor = (identity: string): W.Redemption => ({ ...baseRedemption, joiner: identity })

interface Bound {
  what: string
  /** The message at the bound: accepted by encoder and decoder. */
  at: unknown
  /** One past it: refused by both with `code`. */
  over: unknown
  code: ErrorCode
}

/** The AdmissionPolicy of exactly `total` encoded bytes, by filling allow with distinct 63..127-character identities. */
function policyOfSize (total: number): W.AdmissionPolicy {
  const p: W.AdmissionPolicy = { ...basePolicy, allow: [], inviters: [] }
  let rest = total - W.AdmissionPolicy.encode(p).length
  let i = 0
  // An allow entry of l <= 127 characters costs 2 + l bytes (tag, length, text).
  while (rest > 258) { p.allow.push(idOfLength(127, i++)); rest -= 129 }
  const a = Math.floor(rest / 2)
  p.allow.push(idOfLength(a - 2, i++), idOfLength(rest - a - 2, i++))
  expect(W.AdmissionPolicy.encode(p).length).toBe(total)
  return p
}

const bounds: Record<string, Bound[]> = {
  AdmissionPolicy: [
    { what: 'owner length', at: { ...basePolicy, owner: idOfLength(MAX_IDENTITY) }, over: { ...basePolicy, owner: idOfLength(MAX_IDENTITY + 1) }, code: 'TOO_LARGE' },
    { what: 'stream name length', at: { ...basePolicy, stream: 's'.repeat(MAX_STREAM_NAME) }, over: { ...basePolicy, stream: 's'.repeat(MAX_STREAM_NAME + 1) }, code: 'TOO_LARGE' },
    { what: 'group id length (long)', at: { ...basePolicy, groupId: bytesOf(GROUP_ID_LENGTH) }, over: { ...basePolicy, groupId: bytesOf(GROUP_ID_LENGTH + 1) }, code: 'TOO_LARGE' },
    { what: 'group id length (short)', at: { ...basePolicy, groupId: bytesOf(GROUP_ID_LENGTH) }, over: { ...basePolicy, groupId: bytesOf(GROUP_ID_LENGTH - 1) }, code: 'MALFORMED' },
    { what: 'allow entry length', at: { ...basePolicy, allow: [idOfLength(MAX_IDENTITY)] }, over: { ...basePolicy, allow: [idOfLength(MAX_IDENTITY + 1)] }, code: 'TOO_LARGE' },
    { what: 'inviters entry length', at: { ...basePolicy, inviters: [idOfLength(MAX_IDENTITY)] }, over: { ...basePolicy, inviters: [idOfLength(MAX_IDENTITY + 1)] }, code: 'TOO_LARGE' },
    { what: 'allow count', at: { ...basePolicy, allow: ids(MAX_POLICY_ALLOW) }, over: { ...basePolicy, allow: ids(MAX_POLICY_ALLOW + 1) }, code: 'MALFORMED' },
    { what: 'inviters count', at: { ...basePolicy, inviters: ids(MAX_POLICY_INVITERS) }, over: { ...basePolicy, inviters: ids(MAX_POLICY_INVITERS + 1) }, code: 'MALFORMED' },
    { what: 'encoded size', at: policyOfSize(MAX_ADMISSION_POLICY), over: policyOfSize(MAX_ADMISSION_POLICY + 1), code: 'TOO_LARGE' },
  ],
  SignedPolicy: [
    { what: 'policy length (long)', at: { policy: bytesOf(MAX_ADMISSION_POLICY), signature: bytesOf(64) }, over: { policy: bytesOf(MAX_ADMISSION_POLICY + 1), signature: bytesOf(64) }, code: 'TOO_LARGE' },
    { what: 'policy length (empty)', at: { policy: bytesOf(1), signature: bytesOf(64) }, over: { policy: bytesOf(0), signature: bytesOf(64) }, code: 'MALFORMED' },
    { what: 'signature length (long)', at: { policy: bytesOf(10), signature: bytesOf(ED25519_SIGNATURE_BYTES) }, over: { policy: bytesOf(10), signature: bytesOf(ED25519_SIGNATURE_BYTES + 1) }, code: 'TOO_LARGE' },
    { what: 'signature length (short)', at: { policy: bytesOf(10), signature: bytesOf(ED25519_SIGNATURE_BYTES) }, over: { policy: bytesOf(10), signature: bytesOf(ED25519_SIGNATURE_BYTES - 1) }, code: 'MALFORMED' },
  ],
  Invitation: [
    { what: 'owner length', at: { ...baseInvitation, owner: idOfLength(MAX_IDENTITY) }, over: { ...baseInvitation, owner: idOfLength(MAX_IDENTITY + 1) }, code: 'TOO_LARGE' },
    { what: 'issuer length', at: { ...baseInvitation, issuer: idOfLength(MAX_IDENTITY) }, over: { ...baseInvitation, issuer: idOfLength(MAX_IDENTITY + 1) }, code: 'TOO_LARGE' },
    { what: 'invitee length', at: { ...baseInvitation, invitee: idOfLength(MAX_IDENTITY) }, over: { ...baseInvitation, invitee: idOfLength(MAX_IDENTITY + 1) }, code: 'TOO_LARGE' },
    { what: 'stream name length', at: { ...baseInvitation, stream: 's'.repeat(MAX_STREAM_NAME) }, over: { ...baseInvitation, stream: 's'.repeat(MAX_STREAM_NAME + 1) }, code: 'TOO_LARGE' },
    { what: 'group id length (long)', at: { ...baseInvitation, groupId: bytesOf(GROUP_ID_LENGTH) }, over: { ...baseInvitation, groupId: bytesOf(GROUP_ID_LENGTH + 1) }, code: 'TOO_LARGE' },
    { what: 'group id length (short)', at: { ...baseInvitation, groupId: bytesOf(GROUP_ID_LENGTH) }, over: { ...baseInvitation, groupId: bytesOf(GROUP_ID_LENGTH - 1) }, code: 'MALFORMED' },
    { what: 'key length (long)', at: { ...baseInvitation, key: bytesOf(ED25519_KEY_BYTES) }, over: { ...baseInvitation, key: bytesOf(ED25519_KEY_BYTES + 1) }, code: 'TOO_LARGE' },
    { what: 'key length (short)', at: { ...baseInvitation, key: bytesOf(ED25519_KEY_BYTES) }, over: { ...baseInvitation, key: bytesOf(ED25519_KEY_BYTES - 1) }, code: 'MALFORMED' },
    { what: 'id length (long)', at: { ...baseInvitation, id: bytesOf(INVITATION_ID_LENGTH) }, over: { ...baseInvitation, id: bytesOf(INVITATION_ID_LENGTH + 1) }, code: 'TOO_LARGE' },
    { what: 'id length (short)', at: { ...baseInvitation, id: bytesOf(INVITATION_ID_LENGTH) }, over: { ...baseInvitation, id: bytesOf(INVITATION_ID_LENGTH - 1) }, code: 'MALFORMED' },
    { what: 'expires_at (at least 1)', at: { ...baseInvitation, expiresAt: 1n }, over: { ...baseInvitation, expiresAt: 0n }, code: 'MALFORMED' },
    { what: 'max_uses (at least 1)', at: { ...baseInvitation, maxUses: 1 }, over: { ...baseInvitation, maxUses: 0 }, code: 'MALFORMED' },
  ],
  SignedInvitation: [
    { what: 'invitation length (long)', at: { invitation: bytesOf(MAX_INVITATION), signature: bytesOf(64) }, over: { invitation: bytesOf(MAX_INVITATION + 1), signature: bytesOf(64) }, code: 'TOO_LARGE' },
    { what: 'invitation length (empty)', at: { invitation: bytesOf(1), signature: bytesOf(64) }, over: { invitation: bytesOf(0), signature: bytesOf(64) }, code: 'MALFORMED' },
    { what: 'signature length (long)', at: { invitation: bytesOf(9), signature: bytesOf(ED25519_SIGNATURE_BYTES) }, over: { invitation: bytesOf(9), signature: bytesOf(ED25519_SIGNATURE_BYTES + 1) }, code: 'TOO_LARGE' },
    { what: 'signature length (short)', at: { invitation: bytesOf(9), signature: bytesOf(ED25519_SIGNATURE_BYTES) }, over: { invitation: bytesOf(9), signature: bytesOf(ED25519_SIGNATURE_BYTES - 1) }, code: 'MALFORMED' },
  ],
  Redemption: [
    { what: 'joiner length', at: { ...baseRedemption, joiner: idOfLength(MAX_IDENTITY) }, over: { ...baseRedemption, joiner: idOfLength(MAX_IDENTITY + 1) }, code: 'TOO_LARGE' },
    { what: 'joiner (empty)', at: baseRedemption, over: { ...baseRedemption, joiner: '' }, code: 'MALFORMED' },
    { what: 'signature length (long)', at: { ...baseRedemption, signature: bytesOf(ED25519_SIGNATURE_BYTES) }, over: { ...baseRedemption, signature: bytesOf(ED25519_SIGNATURE_BYTES + 1) }, code: 'TOO_LARGE' },
    { what: 'signature length (short)', at: { ...baseRedemption, signature: bytesOf(ED25519_SIGNATURE_BYTES) }, over: { ...baseRedemption, signature: bytesOf(ED25519_SIGNATURE_BYTES - 1) }, code: 'MALFORMED' },
    { what: 'invitation length', at: { ...baseRedemption, invitation: { invitation: bytesOf(MAX_INVITATION), signature: bytesOf(64) } }, over: { ...baseRedemption, invitation: { invitation: bytesOf(MAX_INVITATION + 1), signature: bytesOf(64) } }, code: 'TOO_LARGE' },
    { what: 'invitation signature length', at: baseRedemption, over: { ...baseRedemption, invitation: { ...baseSignedInvitation, signature: bytesOf(ED25519_SIGNATURE_BYTES + 1) } }, code: 'TOO_LARGE' },
    { what: 'invitation (missing)', at: baseRedemption, over: { joiner: baseRedemption.joiner, signature: baseRedemption.signature }, code: 'MALFORMED' },
  ],
  InvitationToken: [
    { what: 'seed length (long)', at: { ...baseToken, seed: bytesOf(ED25519_KEY_BYTES) }, over: { ...baseToken, seed: bytesOf(ED25519_KEY_BYTES + 1) }, code: 'TOO_LARGE' },
    { what: 'seed length (short)', at: { ...baseToken, seed: bytesOf(ED25519_KEY_BYTES) }, over: { ...baseToken, seed: bytesOf(ED25519_KEY_BYTES - 1) }, code: 'MALFORMED' },
    { what: 'invitation length', at: { ...baseToken, invitation: { invitation: bytesOf(MAX_INVITATION), signature: bytesOf(64) } }, over: { ...baseToken, invitation: { invitation: bytesOf(MAX_INVITATION + 1), signature: bytesOf(64) } }, code: 'TOO_LARGE' },
    { what: 'invitation signature length', at: baseToken, over: { ...baseToken, invitation: { ...baseSignedInvitation, signature: bytesOf(ED25519_SIGNATURE_BYTES - 1) } }, code: 'MALFORMED' },
    { what: 'invitation (missing)', at: baseToken, over: { seed: baseToken.seed }, code: 'MALFORMED' },
  ],
  AdmissionLedger: [
    {
      what: 'admitted count',
      at: { ...baseLedger, admitted: ids(MAX_LEDGER_ADMITTED).map((id) => ({ identity: id, evidence: evidenceFor(id) })) },
      over: { ...baseLedger, admitted: ids(MAX_LEDGER_ADMITTED + 1).map((id) => ({ identity: id, evidence: evidenceFor(id) })) },
      code: 'MALFORMED',
    },
    {
      what: 'spent count',
      at: { ...baseLedger, spent: Array.from({ length: MAX_LEDGER_SPENT }, (_, i) => ({ invitationId: idBytes(i), uses: 1 })) },
      over: { ...baseLedger, spent: Array.from({ length: MAX_LEDGER_SPENT + 1 }, (_, i) => ({ invitationId: idBytes(i), uses: 1 })) },
      code: 'MALFORMED',
    },
    {
      what: 'admitted identity length',
      at: { ...baseLedger, admitted: [{ identity: idOfLength(MAX_IDENTITY), evidence: evidenceFor(idOfLength(MAX_IDENTITY)) }] },
      over: { ...baseLedger, admitted: [{ identity: idOfLength(MAX_IDENTITY + 1), evidence: evidenceFor(idOfLength(MAX_IDENTITY + 1)) }] },
      code: 'TOO_LARGE',
    },
    { what: 'spent invitation id length (long)', at: { ...baseLedger, spent: [{ invitationId: bytesOf(INVITATION_ID_LENGTH), uses: 1 }] }, over: { ...baseLedger, spent: [{ invitationId: bytesOf(INVITATION_ID_LENGTH + 1), uses: 1 }] }, code: 'TOO_LARGE' },
    { what: 'spent invitation id length (short)', at: { ...baseLedger, spent: [{ invitationId: bytesOf(INVITATION_ID_LENGTH), uses: 1 }] }, over: { ...baseLedger, spent: [{ invitationId: bytesOf(INVITATION_ID_LENGTH - 1), uses: 1 }] }, code: 'MALFORMED' },
    { what: 'spent uses (at least 1)', at: { ...baseLedger, spent: [{ invitationId: bytesOf(16), uses: 1 }] }, over: { ...baseLedger, spent: [{ invitationId: bytesOf(16), uses: 0 }] }, code: 'MALFORMED' },
    { what: 'evidence (missing)', at: baseLedger, over: { ...baseLedger, admitted: [{ identity: pool[0]! }] }, code: 'MALFORMED' },
    { what: 'evidence for another joiner', at: { ...baseLedger, admitted: [{ identity: pool[0]!, evidence: evidenceFor(pool[0]!) }] }, over: { ...baseLedger, admitted: [{ identity: pool[0]!, evidence: evidenceFor(pool[1]!) }] }, code: 'MALFORMED' },
    { what: 'evidence signature length', at: baseLedger, over: { ...baseLedger, admitted: [{ identity: pool[0]!, evidence: { ...evidenceFor(pool[0]!), signature: bytesOf(65) } }] }, code: 'TOO_LARGE' },
  ],
}

function idBytes (i: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(INVITATION_ID_LENGTH)
  new DataView(out.buffer).setUint32(12, i)
  return out
}

describe.each(cases)('$name bounds', (c) => {
  it.each(bounds[c.name]!)('$what: accepted at the bound, refused one past it', ({ at, over, code }) => {
    expect(c.decode(c.encode(at))).toEqual(c.decode(c.raw(at)))
    expect(codeOf(() => c.encode(over))).toBe(code)
    expect(codeOf(() => c.decode(c.raw(over)))).toBe(code)
  })
})

describe('repeats', () => {
  const policy = kind('AdmissionPolicy')
  const ledger = kind('AdmissionLedger')

  it('refuses an identity twice in allow, or twice in inviters (encoder and decoder)', () => {
    fc.assert(fc.property(policyArb.filter((p) => p.allow.length > 0 && p.inviters.length > 0), fc.nat(), fc.nat(), (p, i, j) => {
      const allow = [...p.allow]
      allow.splice(i % (allow.length + 1), 0, allow[j % allow.length]!)
      const inviters = [...p.inviters]
      inviters.splice(i % (inviters.length + 1), 0, inviters[j % inviters.length]!)
      for (const bad of [{ ...p, allow }, { ...p, inviters }]) {
        expect(codeOf(() => policy.encode(bad))).toBe('MALFORMED')
        expect(codeOf(() => policy.decode(policy.raw(bad)))).toBe('MALFORMED')
      }
      // The same identity in both lists is two statements, not a repeat.
      const both = { ...p, inviters: [...new Set([...p.inviters, p.allow[0]!])] }
      expect(policy.decode(policy.encode(both))).toEqual(both)
    }), { numRuns: 60 })
  })

  it('refuses a ledger admitting an identity twice or counting an invitation twice (encoder and decoder)', () => {
    fc.assert(fc.property(ledgerArb.filter((l) => l.admitted.length > 0 && l.spent.length > 0), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 9 }), (l, i, j, uses) => {
      const admitted = [...l.admitted]
      const dup = admitted[j % admitted.length]!
      // Even with other evidence: one entry per identity.
      admitted.splice(i % (admitted.length + 1), 0, { identity: dup.identity, evidence: { ...baseRedemption, joiner: dup.identity } })
      const spent = [...l.spent]
      spent.splice(i % (spent.length + 1), 0, { invitationId: Uint8Array.from(spent[j % spent.length]!.invitationId), uses })
      for (const bad of [{ ...l, admitted }, { ...l, spent }]) {
        expect(codeOf(() => ledger.encode(bad))).toBe('MALFORMED')
        expect(codeOf(() => ledger.decode(ledger.raw(bad)))).toBe('MALFORMED')
      }
    }), { numRuns: 60 })
  })
})

describe('hostile bytes behind a valid prefix', () => {
  it('gives only FabricErrors when fields of a valid message are followed by random fields', () => {
    fc.assert(fc.property(fc.constantFrom(...cases), fc.nat(), bytes(0, 80), (c, seed, tail) => {
      const m = fc.sample(c.arb, { numRuns: 1, seed })[0]
      const joined = Uint8Array.of(...c.raw(m), ...tail)
      const r = onlyFabricErrors(() => c.decode(joined))
      if (r instanceof FabricError) expect(isFabricError(r, 'MALFORMED', 'TOO_LARGE', 'UNSUPPORTED_VERSION')).toBe(true)
      else checkConsistent(c, r)
    }), { numRuns: 400 })
  })
})
