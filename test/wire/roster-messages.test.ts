/**
 * The tree-link codecs (src/wire/roster-messages.ts): any valid
 * RosterOpen and RosterUpdate round-trips, byte-identical to protons; every
 * rule of the decoders refuses with its typed error (MalformedError,
 * TooLargeError, FabricError UNSUPPORTED_VERSION): bytes that do not parse,
 * cut encodings, an identity or a leaf twice, a leaf above MAX_LEAF_INDEX,
 * an invalid identity, an error beside a roster, another version, more than
 * MAX_ROSTER_MESSAGE bytes; and hostile bytes give a message or one of those
 * errors, nothing else. Invalid messages are built with protons' unchecked
 * encoders (RosterOpen.encode, RosterUpdate.encode).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError, MalformedError, TooLargeError } from '../../src/errors.js'
import { MAX_ERROR_CODE, MAX_ERROR_MESSAGE, MAX_IDENTITY, MAX_LEAF_INDEX, MAX_ROSTER, MAX_ROSTER_MESSAGE, MAX_STREAM_NAME } from '../../src/wire/limits.js'
import {
  HomeMessage, RosterOpen, RosterUpdate, decodeHomeMessage, decodeRosterOpen, decodeRosterUpdate, decodeTreeHeartbeat, encodeHomeMessage,
  encodeRosterOpen, encodeRosterUpdate, encodeTreeHeartbeat, type RosterLeaf
} from '../../src/wire/roster-messages.js'
import { bytes, identity, onlyFabricErrors, streamName, u64, wireError } from './arbitraries.js'

// ---------------------------------------------------------------------------
// Helpers

/**
 * A RosterOpen with every field at protons' default and version 1: what the
 * decoder fills in for fields absent from the bytes. Messages below are
 * spread over it, so decode(encode(m)) must equal m whatever fields the
 * generated type has.
 */
const OPEN_DEFAULTS: RosterOpen = RosterOpen.decode(Uint8Array.of(0x08, 0x01))
const openOf = (owner: string, stream: string): RosterOpen => ({ ...OPEN_DEFAULTS, owner, stream })

/** A stream owner as the wire sees it (a peer id string). */
const OWNER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

/** Identities the wire refuses, with the error: empty, outside the charset, too long. */
const BAD_IDENTITIES: Array<[string, typeof MalformedError | typeof TooLargeError]> = [
  ['', MalformedError], ['not/a/peer', MalformedError], ['12D3 KooW', MalformedError], ['é', MalformedError], ['a-b', MalformedError],
  ['x'.repeat(MAX_IDENTITY + 1), TooLargeError],
]

/** A shape-valid identity of `length` characters, distinct per `i`. */
function idOfLength (length: number, i = 0): string {
  const prefix = i.toString(36)
  return prefix + 'Q'.repeat(length - prefix.length)
}

/** What `f` throws; fails the test when it returns. */
function thrown (f: () => unknown): unknown {
  try {
    f()
  } catch (err) {
    return err
  }
  expect.unreachable('expected a throw')
}

/** True for the errors a decoder may throw: MalformedError, TooLargeError, FabricError UNSUPPORTED_VERSION. */
function isTypedDecodeError (err: unknown): boolean {
  return err instanceof MalformedError || err instanceof TooLargeError || (err instanceof FabricError && err.code === 'UNSUPPORTED_VERSION')
}

/** Runs a decode; returns the message or the typed error, and fails on any other exception. */
function decodeOrTypedError<T> (f: () => T): T | FabricError {
  const r = onlyFabricErrors(f)
  if (r instanceof FabricError) expect(isTypedDecodeError(r), `${r.name} ${r.code}: ${r.message}`).toBe(true)
  return r
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

// ---------------------------------------------------------------------------
// Arbitraries, in the shape the decoders return

const leafIndex = fc.integer({ min: 0, max: MAX_LEAF_INDEX })

/** Members with distinct identities and distinct leaves, over the whole leaf range. */
const members = (maxLength: number): fc.Arbitrary<RosterLeaf[]> =>
  fc.uniqueArray(identity, { maxLength }).chain((ids) =>
    fc.uniqueArray(leafIndex, { minLength: ids.length, maxLength: ids.length })
      .map((leaves) => ids.map((id, i) => ({ identity: id, leaf: leaves[i]! }))))

const rosterOpenArb: fc.Arbitrary<RosterOpen> = fc.record({ owner: identity, stream: streamName }).map(({ owner, stream }) => openOf(owner, stream))

/** A roster (no error, any epoch, 0..8 members) or an error alone. */
const rosterArb: fc.Arbitrary<RosterUpdate> = fc.record({ version: fc.constant(1), epoch: u64, members: members(8) })
const errorArb: fc.Arbitrary<RosterUpdate> = wireError.map((error) => ({ version: 1, error, epoch: 0n, members: [] }))
const rosterUpdateArb: fc.Arbitrary<RosterUpdate> = fc.oneof({ weight: 4, arbitrary: rosterArb }, { weight: 1, arbitrary: errorArb })

const otherVersion = fc.oneof(fc.constant(0), fc.constant(2), fc.integer({ min: 2, max: 0xffffffff }))

// ---------------------------------------------------------------------------
// The two message kinds: properties both must have

interface Case {
  name: string
  arb: fc.Arbitrary<any>
  encode: (m: any) => Uint8Array
  decode: (b: Uint8Array) => any
  raw: (m: any) => Uint8Array
}

const cases: Case[] = [
  { name: 'RosterOpen', arb: rosterOpenArb, encode: encodeRosterOpen, decode: decodeRosterOpen, raw: (m) => RosterOpen.encode(m) },
  { name: 'RosterUpdate', arb: rosterUpdateArb, encode: encodeRosterUpdate, decode: decodeRosterUpdate, raw: (m) => RosterUpdate.encode(m) },
]

/** A decode that succeeded must survive re-encoding unchanged: encoder and decoder checks agree. */
function checkConsistent (c: Case, decoded: unknown): void {
  if (decoded instanceof FabricError) return
  expect(c.decode(c.encode(decoded))).toEqual(decoded)
}

describe.each(cases)('$name', (c) => {
  it('round-trips any valid message, byte-identical to protons', () => {
    fc.assert(fc.property(c.arb, (m) => {
      const b = c.encode(m)
      expect(b).toEqual(c.raw(m))
      expect(c.decode(b)).toEqual(m)
    }), { numRuns: 500 })
  })

  it('writes version 1 when the caller leaves it out, refuses to write another', () => {
    fc.assert(fc.property(c.arb, otherVersion, (m, v) => {
      const { version: _, ...rest } = m
      expect(c.decode(c.encode(rest))).toEqual(m)
      expect(thrown(() => c.encode({ ...m, version: v }))).toBeInstanceOf(RangeError)
    }), { numRuns: 100 })
  })

  it('refuses any other version with FabricError UNSUPPORTED_VERSION', () => {
    fc.assert(fc.property(c.arb, otherVersion, (m, v) => {
      const err = thrown(() => c.decode(c.raw({ ...m, version: v })))
      expect(err).toBeInstanceOf(FabricError)
      expect((err as FabricError).code).toBe('UNSUPPORTED_VERSION')
    }), { numRuns: 200 })
    // No version field at all is version 0.
    expect((thrown(() => c.decode(new Uint8Array(0))) as FabricError).code).toBe('UNSUPPORTED_VERSION')
  })

  it('decodes an encoding of exactly MAX_ROSTER_MESSAGE bytes; one byte more is TooLargeError, before parsing', () => {
    fc.assert(fc.property(c.arb, (m) => {
      const exact = paddedTo(c.raw(m), MAX_ROSTER_MESSAGE)
      expect(exact.length).toBe(MAX_ROSTER_MESSAGE)
      expect(c.decode(exact)).toEqual(m)
      expect(thrown(() => c.decode(paddedTo(c.raw(m), MAX_ROSTER_MESSAGE + 1)))).toBeInstanceOf(TooLargeError)
    }), { numRuns: 5 })
    // Bytes that would not parse either: the size is checked first.
    const err = thrown(() => c.decode(new Uint8Array(MAX_ROSTER_MESSAGE + 1).fill(0xff)))
    expect(err).toBeInstanceOf(TooLargeError)
    expect(err).toMatchObject({ limit: MAX_ROSTER_MESSAGE, actual: MAX_ROSTER_MESSAGE + 1 })
  })

  it('refuses bytes that do not parse with MalformedError (the protons error as cause)', () => {
    const samples = [
      Uint8Array.of(0x08, 0x01, 0x12, 0x05, 0x41), // a string field announcing 5 bytes, 1 there
      Uint8Array.of(0x08, 0x01, 0x10, 0x80, 0x80, 0x80), // an unterminated varint at the end
      Uint8Array.of(0x08, 0x01, 0x7f), // field 15 of wire type 7, which does not exist
      Uint8Array.of(0x08, 0x01, 0x7a, 0xff, 0xff, 0xff, 0xff, 0x0f), // an unknown field of 4 GiB
      Uint8Array.of(0x08, 0x01, 0x7c), // an end-group with no start
      new Uint8Array(200_000).fill(0x7b), // deeply nested start-groups
    ]
    for (const b of samples) expect(thrown(() => c.decode(b)), Buffer.from(b.subarray(0, 8)).toString('hex')).toBeInstanceOf(MalformedError)
    const err = thrown(() => c.decode(Uint8Array.of(0x08, 0x01, 0x12, 0x05, 0x41))) as MalformedError
    expect(err.cause).toBeInstanceOf(Error)
  })

  it('yields a message or a typed error for random bytes, and what it accepts re-encodes unchanged', () => {
    fc.assert(fc.property(bytes(0, 120), (b) => { checkConsistent(c, decodeOrTypedError(() => c.decode(b))) }), { numRuns: 3000 })
  })

  it('yields a message or a typed error for mutated and cut valid encodings', () => {
    const mutated = fc.tuple(c.arb, fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()))
    fc.assert(fc.property(mutated, ([m, flips, cut]) => {
      const b = c.encode(m).slice()
      for (const [at, bit] of flips) b[at % b.length]! ^= 1 << bit
      const cutAt = cut === null ? b.length : cut % (b.length + 1)
      checkConsistent(c, decodeOrTypedError(() => c.decode(b.subarray(0, cutAt))))
    }), { numRuns: 1500 })
  })

  it('yields a message or a typed error for a valid message followed by random bytes', () => {
    fc.assert(fc.property(c.arb, bytes(1, 80), (m, tail) => {
      checkConsistent(c, decodeOrTypedError(() => c.decode(Uint8Array.of(...c.raw(m), ...tail))))
    }), { numRuns: 1000 })
  })
})

// ---------------------------------------------------------------------------
// RosterOpen rules

describe('RosterOpen rules', () => {
  it('refuses every cut of a valid encoding: MalformedError, or UNSUPPORTED_VERSION when nothing is left', () => {
    fc.assert(fc.property(rosterOpenArb, fc.nat(), (m, n) => {
      const b = encodeRosterOpen(m)
      const cut = n % b.length
      const err = thrown(() => decodeRosterOpen(b.subarray(0, cut)))
      if (cut === 0) expect((err as FabricError).code).toBe('UNSUPPORTED_VERSION')
      else expect(err).toBeInstanceOf(MalformedError)
    }), { numRuns: 500 })
  })

  it('requires a valid owner: empty or outside [A-Za-z0-9] is MalformedError, over 128 characters TooLargeError', () => {
    expect(decodeRosterOpen(RosterOpen.encode(openOf(idOfLength(MAX_IDENTITY), 's'))).owner).toHaveLength(MAX_IDENTITY)
    for (const [owner, error] of BAD_IDENTITIES) {
      expect(thrown(() => decodeRosterOpen(RosterOpen.encode(openOf(owner, 's')))), owner).toBeInstanceOf(error)
      expect(thrown(() => encodeRosterOpen(openOf(owner, 's'))), owner).toBeInstanceOf(error)
    }
  })

  it('requires a valid stream name: empty or outside the charset is MalformedError, over 128 characters TooLargeError', () => {
    expect(decodeRosterOpen(RosterOpen.encode(openOf(OWNER, 'a'.repeat(MAX_STREAM_NAME)))).stream).toHaveLength(MAX_STREAM_NAME)
    const bad: Array<[string, typeof MalformedError | typeof TooLargeError]> = [
      ['', MalformedError], ['a/b', MalformedError], ['-x', MalformedError], ['.', MalformedError], ['a b', MalformedError],
      ['a'.repeat(MAX_STREAM_NAME + 1), TooLargeError],
    ]
    for (const [stream, error] of bad) {
      expect(thrown(() => decodeRosterOpen(RosterOpen.encode(openOf(OWNER, stream)))), stream).toBeInstanceOf(error)
      expect(thrown(() => encodeRosterOpen(openOf(OWNER, stream))), stream).toBeInstanceOf(error)
    }
  })
})

// ---------------------------------------------------------------------------
// RosterUpdate rules

/** A raw RosterUpdate of version 1: the unchecked protons encoding. */
const rawUpdate = (m: Partial<RosterUpdate>): Uint8Array => RosterUpdate.encode({ version: 1, epoch: 0n, members: [], ...m })

/** `n` distinct valid identities with leaves 0..n-1. */
const roster = (n: number, length = 20): RosterLeaf[] => Array.from({ length: n }, (_, i) => ({ identity: idOfLength(length, i), leaf: i }))

describe('RosterUpdate rules', () => {
  // protons-runtime 7.1.2 reads a u64 varint with at most four bytes left as
  // if its fourth byte were the last; decodeBounded's field-framing walk
  // catches the cut (src/wire/message-codec.ts checkFieldFraming).
  it('refuses an epoch varint cut after four continuation bytes with MalformedError', () => {
    for (const tail of [[0x80, 0x80, 0x80, 0x80], [0xff, 0xff, 0xff, 0xff]]) {
      expect(thrown(() => decodeRosterUpdate(Uint8Array.of(0x08, 0x01, 0x18, ...tail)))).toBeInstanceOf(MalformedError)
    }
  })

  it('refuses every cut inside a field with MalformedError; a cut at a field boundary is the shorter roster', () => {
    fc.assert(fc.property(rosterUpdateArb, (m) => {
      const b = encodeRosterUpdate(m)
      // The encoding is its fields in order: version, error, epoch, then each member.
      const prefixes: RosterUpdate[] = [
        { version: 1, epoch: 0n, members: [] },
        ...(m.error === undefined ? [] : [{ version: 1, error: m.error, epoch: 0n, members: [] }]),
        ...m.members.map((_, k) => ({ ...m, members: m.members.slice(0, k) })),
      ]
      const atBoundary = new Map(prefixes.map((p) => [RosterUpdate.encode(p).length, p]))
      atBoundary.set(b.length, m)
      for (let cut = 0; cut <= b.length; cut++) {
        const prefix = b.subarray(0, cut)
        if (cut === 0) {
          expect((thrown(() => decodeRosterUpdate(prefix)) as FabricError).code).toBe('UNSUPPORTED_VERSION')
        } else if (atBoundary.has(cut)) {
          const decoded = decodeRosterUpdate(prefix)
          expect(decoded).toEqual(atBoundary.get(cut))
          expect(encodeRosterUpdate(decoded)).toEqual(prefix)
        } else {
          expect(thrown(() => decodeRosterUpdate(prefix)), `cut at ${cut} of ${b.length}`).toBeInstanceOf(MalformedError)
        }
      }
    }), { numRuns: 300 })
  })

  it('refuses an identity twice, even at another leaf (MalformedError, encoder and decoder)', () => {
    fc.assert(fc.property(members(8).filter((ms) => ms.length > 0), fc.nat(), fc.nat(), u64, (ms, i, j, epoch) => {
      const taken = new Set(ms.map((x) => x.leaf))
      let leaf = 0
      while (taken.has(leaf)) leaf++
      const twice = [...ms]
      twice.splice(i % (twice.length + 1), 0, { identity: ms[j % ms.length]!.identity, leaf })
      const bad = { version: 1, epoch, members: twice }
      expect(thrown(() => decodeRosterUpdate(RosterUpdate.encode(bad)))).toBeInstanceOf(MalformedError)
      expect(thrown(() => encodeRosterUpdate(bad))).toBeInstanceOf(MalformedError)
      // The same member sent twice as it is (same leaf too) is refused as well.
      const same = [...ms, ms[j % ms.length]!]
      expect(thrown(() => decodeRosterUpdate(rawUpdate({ epoch, members: same })))).toBeInstanceOf(MalformedError)
    }), { numRuns: 200 })
  })

  it('refuses a leaf twice, for two identities (MalformedError, encoder and decoder)', () => {
    fc.assert(fc.property(members(8).filter((ms) => ms.length > 0), fc.nat(), fc.nat(), u64, (ms, i, j, epoch) => {
      const names = new Set(ms.map((x) => x.identity))
      let k = 0
      while (names.has(`other${k}`)) k++
      const twice = [...ms]
      twice.splice(i % (twice.length + 1), 0, { identity: `other${k}`, leaf: ms[j % ms.length]!.leaf })
      const bad = { version: 1, epoch, members: twice }
      expect(thrown(() => decodeRosterUpdate(RosterUpdate.encode(bad)))).toBeInstanceOf(MalformedError)
      expect(thrown(() => encodeRosterUpdate(bad))).toBeInstanceOf(MalformedError)
    }), { numRuns: 200 })
  })

  it('takes a leaf of MAX_LEAF_INDEX and refuses any above it with MalformedError', () => {
    expect(decodeRosterUpdate(rawUpdate({ members: [{ identity: OWNER, leaf: MAX_LEAF_INDEX }] })).members).toEqual([{ identity: OWNER, leaf: MAX_LEAF_INDEX }])
    expect(encodeRosterUpdate({ epoch: 0n, members: [{ identity: OWNER, leaf: MAX_LEAF_INDEX }] })).toEqual(rawUpdate({ members: [{ identity: OWNER, leaf: MAX_LEAF_INDEX }] }))
    expect(thrown(() => decodeRosterUpdate(rawUpdate({ members: [{ identity: OWNER, leaf: MAX_LEAF_INDEX + 1 }] })))).toBeInstanceOf(MalformedError)
    expect(thrown(() => encodeRosterUpdate({ epoch: 0n, members: [{ identity: OWNER, leaf: MAX_LEAF_INDEX + 1 }] }))).toBeInstanceOf(MalformedError)
    fc.assert(fc.property(members(6), fc.nat(), fc.integer({ min: MAX_LEAF_INDEX + 1, max: 0xffffffff }), (ms, i, leaf) => {
      const names = new Set(ms.map((x) => x.identity))
      const identity = names.has('wide') ? 'wider' : 'wide'
      const bad = [...ms]
      bad.splice(i % (bad.length + 1), 0, { identity, leaf })
      expect(thrown(() => decodeRosterUpdate(rawUpdate({ members: bad })))).toBeInstanceOf(MalformedError)
      expect(thrown(() => encodeRosterUpdate({ epoch: 0n, members: bad }))).toBeInstanceOf(MalformedError)
    }), { numRuns: 200 })
  })

  it('refuses a leaf that is negative or not an integer on encode', () => {
    for (const leaf of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(thrown(() => encodeRosterUpdate({ epoch: 0n, members: [{ identity: OWNER, leaf }] })), String(leaf)).toBeInstanceOf(MalformedError)
    }
  })

  it('requires each member to be a valid identity: MalformedError, or TooLargeError over 128 characters', () => {
    expect(decodeRosterUpdate(rawUpdate({ members: [{ identity: idOfLength(MAX_IDENTITY), leaf: 1 }] })).members[0]!.identity).toHaveLength(MAX_IDENTITY)
    for (const [identity, error] of BAD_IDENTITIES) {
      const ms = [...roster(3), { identity, leaf: 7 }]
      expect(thrown(() => decodeRosterUpdate(rawUpdate({ epoch: 5n, members: ms }))), identity).toBeInstanceOf(error)
      expect(thrown(() => encodeRosterUpdate({ epoch: 5n, members: ms })), identity).toBeInstanceOf(error)
    }
  })

  it('refuses an error beside members or a non-zero epoch (MalformedError, encoder and decoder)', () => {
    fc.assert(fc.property(wireError, members(5).filter((ms) => ms.length > 0), fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), (error, ms, epoch) => {
      for (const bad of [{ version: 1, error, epoch: 0n, members: ms }, { version: 1, error, epoch, members: [] }, { version: 1, error, epoch, members: ms }]) {
        expect(thrown(() => decodeRosterUpdate(RosterUpdate.encode(bad)))).toBeInstanceOf(MalformedError)
        expect(thrown(() => encodeRosterUpdate(bad))).toBeInstanceOf(MalformedError)
      }
    }), { numRuns: 200 })
  })

  it('checks the error body: a code of [A-Z][A-Z0-9_]* up to 32 characters, a message up to 1 KiB of UTF-8', () => {
    const withError = (code: string, message: string): Uint8Array => rawUpdate({ error: { code, message } })
    expect(decodeRosterUpdate(withError('X'.repeat(MAX_ERROR_CODE), 'é'.repeat(MAX_ERROR_MESSAGE / 2))).error?.code).toHaveLength(MAX_ERROR_CODE)
    expect(thrown(() => decodeRosterUpdate(withError('X'.repeat(MAX_ERROR_CODE + 1), '')))).toBeInstanceOf(TooLargeError)
    expect(thrown(() => decodeRosterUpdate(withError('NOT_FOUND', 'é'.repeat(MAX_ERROR_MESSAGE / 2 + 1))))).toBeInstanceOf(TooLargeError)
    for (const code of ['', 'lower', '1ABC', 'A-B']) {
      expect(thrown(() => decodeRosterUpdate(withError(code, ''))), code).toBeInstanceOf(MalformedError)
      expect(thrown(() => encodeRosterUpdate({ error: { code, message: '' }, epoch: 0n, members: [] })), code).toBeInstanceOf(MalformedError)
    }
    // An unknown but well-formed code passes: the reader maps it.
    expect(decodeRosterUpdate(withError('FROM_THE_FUTURE', 'x')).error).toEqual({ code: 'FROM_THE_FUTURE', message: 'x' })
  })

  it('takes MAX_ROSTER members and refuses one more with MalformedError (encoder and decoder)', () => {
    const full = roster(MAX_ROSTER)
    expect(decodeRosterUpdate(rawUpdate({ epoch: 9n, members: full })).members).toHaveLength(MAX_ROSTER)
    const over = [...full, { identity: idOfLength(20, MAX_ROSTER), leaf: MAX_ROSTER }]
    expect(thrown(() => decodeRosterUpdate(rawUpdate({ epoch: 9n, members: over })))).toBeInstanceOf(MalformedError)
    expect(thrown(() => encodeRosterUpdate({ epoch: 9n, members: over }))).toBeInstanceOf(MalformedError)
  })

  it('fits the largest roster the rules allow (MAX_ROSTER identities of 128 characters at wide leaves) in MAX_ROSTER_MESSAGE', () => {
    const largest = Array.from({ length: MAX_ROSTER }, (_, i) => ({ identity: idOfLength(MAX_IDENTITY, i), leaf: MAX_LEAF_INDEX - i }))
    const m: RosterUpdate = { version: 1, epoch: 2n ** 64n - 1n, members: largest }
    const b = encodeRosterUpdate(m)
    expect(b.byteLength).toBeLessThanOrEqual(MAX_ROSTER_MESSAGE)
    expect(decodeRosterUpdate(b)).toEqual(m)
  })

  it('refuses an epoch outside u64 on encode (RangeError)', () => {
    expect(thrown(() => encodeRosterUpdate({ epoch: -1n, members: [] }))).toBeInstanceOf(RangeError)
    expect(thrown(() => encodeRosterUpdate({ epoch: 2n ** 64n, members: [] }))).toBeInstanceOf(RangeError)
  })

  it('accepts a raw message exactly when it follows every rule, and refuses the rest with a typed error', () => {
    // Identities and leaves from small pools, so repeats, invalid ones and
    // wide leaves all come up; the verdict is checked against the rules as
    // the docstring states them.
    const names = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', 'QmX', OWNER, idOfLength(MAX_IDENTITY)) },
      { weight: 1, arbitrary: fc.constantFrom('', 'a/b', 'é', 'x'.repeat(MAX_IDENTITY + 1)) },
    )
    const leaves = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) },
      { weight: 1, arbitrary: fc.constantFrom(MAX_LEAF_INDEX, MAX_LEAF_INDEX + 1, 0xffffffff) },
    )
    const raw = fc.record({
      version: fc.constantFrom(0, 1, 1, 1, 1, 2),
      error: fc.option(fc.record({ code: fc.constantFrom('NOT_FOUND', 'bad', ''), message: fc.constant('m') }), { nil: undefined, freq: 4 }),
      epoch: fc.constantFrom(0n, 0n, 1n, 2n ** 64n - 1n),
      members: fc.array(fc.record({ identity: names, leaf: leaves }), { maxLength: 5 }),
    })
    const validIdentity = (s: string): boolean => /^[A-Za-z0-9]{1,128}$/.test(s)
    const follows = (m: RosterUpdate): boolean => {
      if (m.error !== undefined) return /^[A-Z][A-Z0-9_]*$/.test(m.error.code) && m.epoch === 0n && m.members.length === 0
      return m.members.every((x) => validIdentity(x.identity) && x.leaf <= MAX_LEAF_INDEX) &&
        new Set(m.members.map((x) => x.identity)).size === m.members.length &&
        new Set(m.members.map((x) => x.leaf)).size === m.members.length
    }
    fc.assert(fc.property(raw, (m) => {
      const r = decodeOrTypedError(() => decodeRosterUpdate(RosterUpdate.encode(m)))
      if (m.version !== 1) {
        expect(r).toBeInstanceOf(FabricError)
        expect((r as FabricError).code).toBe('UNSUPPORTED_VERSION')
      } else if (follows(m)) {
        expect(r).toEqual(m)
      } else {
        expect(r instanceof MalformedError || r instanceof TooLargeError, `accepted ${JSON.stringify(m, (_k, v) => typeof v === 'bigint' ? String(v) : v)}`).toBe(true)
      }
    }), { numRuns: 2000 })
  })
})

// ---------------------------------------------------------------------------
// The tree link's other messages: TreeHeartbeat (relay to home) and HomeMessage (home to relay)

describe('TreeHeartbeat and HomeMessage', () => {
  const assignment = fc.record({
    parent: identity,
    standby: fc.oneof(fc.constant(''), identity),
    depth: fc.integer({ min: 1, max: 0xffff_ffff }),
  })

  it('property: any heartbeat round-trips', () => {
    fc.assert(fc.property(u64, u64, fc.integer({ min: 0, max: 0xffff_ffff }), (framesForwarded, bytesForwarded, childrenServed) => {
      const m = { framesForwarded, bytesForwarded, childrenServed }
      expect(decodeTreeHeartbeat(encodeTreeHeartbeat(m))).toEqual(m)
    }))
  })

  it('property: any assignment, and any valid roster, round-trips as a HomeMessage', () => {
    fc.assert(fc.property(assignment, (a) => {
      expect(decodeHomeMessage(encodeHomeMessage({ assignment: a }))).toEqual({ assignment: a })
    }))
    const roster = { epoch: 3n, members: [{ identity: OWNER, leaf: 2 }] }
    expect(decodeHomeMessage(encodeHomeMessage({ roster }))).toEqual({ roster: { version: 1, ...roster } })
  })

  it('refuses a HomeMessage with no body, a bad parent or standby, depth 0, or a roster breaking its rules', () => {
    expect(thrown(() => decodeHomeMessage(new Uint8Array(0)))).toBeInstanceOf(MalformedError)
    const bad: Array<[Uint8Array, typeof MalformedError | typeof TooLargeError]> = [
      [HomeMessage.encode({ assignment: { parent: 'not/a/peer', standby: '', depth: 1 } }), MalformedError],
      [HomeMessage.encode({ assignment: { parent: OWNER, standby: 'x'.repeat(MAX_IDENTITY + 1), depth: 1 } }), TooLargeError],
      [HomeMessage.encode({ assignment: { parent: OWNER, standby: '', depth: 0 } }), MalformedError],
      [HomeMessage.encode({ roster: { version: 1, epoch: 1n, members: [{ identity: OWNER, leaf: 1 }, { identity: OWNER, leaf: 2 }] } }), MalformedError],
    ]
    for (const [b, cls] of bad) expect(thrown(() => decodeHomeMessage(b))).toBeInstanceOf(cls)
    expect(thrown(() => decodeHomeMessage(HomeMessage.encode({ roster: { version: 2, epoch: 0n, members: [] } })))).toMatchObject({ code: 'UNSUPPORTED_VERSION' })
    expect(thrown(() => encodeHomeMessage({ assignment: { parent: OWNER, standby: '', depth: 0 } }))).toBeInstanceOf(MalformedError)
  })

  it('property: hostile bytes give a message or a typed error, for both', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      for (const decode of [decodeHomeMessage, decodeTreeHeartbeat]) {
        try {
          decode(b)
        } catch (err) {
          expect(isTypedDecodeError(err), String(err)).toBe(true)
        }
      }
    }), { numRuns: 2000 })
  })
})
