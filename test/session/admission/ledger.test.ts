/**
 * The admission ledger: nextLedger over random histories of admissions and
 * removals, and readLedger's refusal of any byte form but the canonical one.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { emptyLedger, nextLedger, readLedger, type LedgerState, type NewAdmission } from '../../../src/session/admission/index.js'
import { decodeAdmissionLedger, encodeAdmissionLedger, type Admission, type Redemption } from '../../../src/wire/admission-messages.js'
import { expectCodeSync, hex, peerId } from '../helpers.js'

/** Identities 0..29 and invitations 0..4. */
const IDENTITIES = 30
const invitationId = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(16).fill(0xa0 + n)

/** A Redemption shaped as the ledger codec wants it (signatures are the check's business, not the ledger's). */
function redemption (joiner: string, invitation: number, salt: number): Redemption {
  return {
    invitation: { invitation: new Uint8Array(12).fill(invitation + 1), signature: new Uint8Array(64).fill(salt & 0xff) },
    joiner,
    signature: new Uint8Array(64).fill((salt * 7 + 1) & 0xff),
  }
}

/** One step of a history: members leave, then joiners come in on evidence. */
const step = fc.record({
  leave: fc.array(fc.nat(), { maxLength: 4 }),
  join: fc.array(fc.record({ who: fc.nat({ max: IDENTITIES - 1 }), invitation: fc.nat({ max: 4 }), salt: fc.nat({ max: 255 }) }), { maxLength: 4 }),
})

describe('nextLedger (property)', () => {
  it('counts uses that never decrease, keeps entries for survivors only, and encodes canonically', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
      let ledger: LedgerState = emptyLedger()
      let members = new Set<string>([peerId(0)])
      for (const s of steps) {
        // Who leaves: picked among the members (never the owner, peer 0).
        const current = [...members].filter((m) => m !== peerId(0))
        const leaving = new Set(s.leave.filter(() => current.length > 0).map((i) => current[i % current.length]!))
        // Who joins: non-members, each once.
        const joining = new Map<string, NewAdmission>()
        for (const j of s.join) {
          const id = peerId(j.who)
          if (members.has(id) && !leaving.has(id)) continue
          if (joining.has(id)) continue
          joining.set(id, { admission: { identity: id, evidence: redemption(id, j.invitation, j.salt) }, invitationId: invitationId(j.invitation) })
        }
        const admissions = [...joining.values()]
        const survivors = new Set([...members].filter((m) => !leaving.has(m)))
        for (const id of joining.keys()) survivors.add(id)

        const bytes = nextLedger(ledger, survivors, admissions)
        const next = readLedger(bytes)
        // Canonical: re-encoding the content gives the same bytes, and reading again the same state.
        expect(hex(encodeAdmissionLedger(next.ledger))).toBe(hex(bytes))
        expect(hex(readLedger(Uint8Array.from(bytes)).bytes)).toBe(hex(bytes))

        // Uses: old counts plus one per admission; never lower, never dropped; old order kept, new ones appended.
        const added = new Map<string, number>()
        for (const a of admissions) added.set(hex(a.invitationId), (added.get(hex(a.invitationId)) ?? 0) + 1)
        for (const [id, n] of ledger.uses) expect(next.uses.get(id)).toBe(n + (added.get(id) ?? 0))
        for (const [id, n] of added) expect(next.uses.get(id)).toBe((ledger.uses.get(id) ?? 0) + n)
        expect(next.uses.size).toBe(new Set([...ledger.uses.keys(), ...added.keys()]).size)
        expect(next.ledger.spent.slice(0, ledger.ledger.spent.length).map((x) => hex(x.invitationId))).toEqual(ledger.ledger.spent.map((x) => hex(x.invitationId)))

        // Entries: survivors only; old survivors' entries unchanged and in order, then the new ones in Add order.
        for (const id of next.admitted.keys()) expect(survivors.has(id)).toBe(true)
        const kept: Admission[] = ledger.ledger.admitted.filter((a) => survivors.has(a.identity) && !joining.has(a.identity))
        expect(next.ledger.admitted).toEqual([...kept, ...admissions.map((a) => a.admission)])

        ledger = next
        members = survivors
      }
    }), { numRuns: 100 })
  })

  it('an admission that does not change the group leaves the bytes unchanged only when nothing happened', () => {
    const first = readLedger(nextLedger(emptyLedger(), new Set([peerId(1)]), [
      { admission: { identity: peerId(1), evidence: redemption(peerId(1), 0, 1) }, invitationId: invitationId(0) },
    ]))
    expect(hex(nextLedger(first, new Set([peerId(1)]), []))).toBe(hex(first.bytes))
    // The entry of a member who left is pruned by the next ledger change.
    expect(readLedger(nextLedger(first, new Set(), [])).admitted.size).toBe(0)
    expect([...readLedger(nextLedger(first, new Set(), [])).uses.values()]).toEqual([1])
  })
})

describe('readLedger: canonical encoding only', () => {
  const a1: Admission = { identity: peerId(1), evidence: redemption(peerId(1), 0, 3) }
  const a2: Admission = { identity: peerId(2), evidence: redemption(peerId(2), 1, 4) }
  const content = { admitted: [a1, a2], spent: [{ invitationId: invitationId(0), uses: 1 }, { invitationId: invitationId(1), uses: 2 }] }
  const canonical = encodeAdmissionLedger(content)

  const version = Uint8Array.of(0x08, 0x01)

  function varint (n: number): number[] {
    const out: number[] = []
    while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7 }
    out.push(n)
    return out
  }
  /** A varint one byte longer than it needs to be (a trailing 0x00 group). */
  function paddedVarint (n: number): number[] {
    const v = varint(n)
    v[v.length - 1]! |= 0x80
    return [...v, 0x00]
  }
  /** The top-level records of `bytes` in order, each as [tag byte, body] (body undefined for a varint). */
  function records (bytes: Uint8Array): Array<{ raw: Uint8Array, tag: number, body?: Uint8Array }> {
    const out: Array<{ raw: Uint8Array, tag: number, body?: Uint8Array }> = []
    let o = 0
    while (o < bytes.length) {
      const start = o
      const tag = bytes[o++]!
      if ((tag & 7) === 0) {
        while ((bytes[o++]! & 0x80) !== 0);
        out.push({ raw: bytes.subarray(start, o), tag })
      } else {
        let len = 0
        let shift = 0
        let b: number
        do { b = bytes[o++]!; len |= (b & 0x7f) << shift; shift += 7 } while ((b & 0x80) !== 0)
        out.push({ raw: bytes.subarray(start, o + len), tag, body: bytes.subarray(o, o + len) })
        o += len
      }
    }
    return out
  }
  const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))
  const recs = records(canonical)
  const [v, e1, e2, s1, s2] = recs.map((r) => r.raw) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]

  it('reads the canonical form', () => {
    expect(recs).toHaveLength(5)
    expect(hex(v)).toBe(hex(version))
    expect(readLedger(canonical).ledger).toEqual(decodeAdmissionLedger(canonical))
  })

  /** The Spent record of s2 with its `uses` varint (2) written in two bytes. */
  const s2Padded = ((): Uint8Array => {
    const body = recs[4]!.body!
    const usesAt = body.length - 2
    expect([...body.subarray(usesAt)]).toEqual([0x10, 0x02])
    const newBody = concat(body.subarray(0, usesAt), Uint8Array.of(0x10, ...paddedVarint(2)))
    return concat(Uint8Array.of(0x1a, ...varint(newBody.length)), newBody)
  })()
  /** The first Admission record with its length prefix one byte longer. */
  const e1Padded = concat(Uint8Array.of(0x12, ...paddedVarint(recs[1]!.body!.length)), recs[1]!.body!)

  const variants: Array<[string, Uint8Array]> = [
    ['spent before admitted', concat(v, s1, s2, e1, e2)],
    ['version last', concat(e1, e2, s1, s2, v)],
    ['spent entries interleaved with admitted ones', concat(v, e1, s1, e2, s2)],
    ['version written twice', concat(v, v, e1, e2, s1, s2)],
    ['version first written as its default (0), then as 1', concat(Uint8Array.of(0x08, 0x00), v, e1, e2, s1, s2)],
    ['a use count in a padded varint', concat(v, e1, e2, s1, s2Padded)],
    ['a length prefix in a padded varint', concat(v, e1Padded, e2, s1, s2)],
    ['the version in a padded varint', concat(Uint8Array.of(0x08, ...paddedVarint(1)), e1, e2, s1, s2)],
    ['an unknown field at its default (0)', concat(v, e1, e2, s1, s2, Uint8Array.of(0x20, 0x00))],
    ['an unknown empty bytes field', concat(v, e1, e2, s1, s2, Uint8Array.of(0x7a, 0x00))],
  ]

  it.each(variants)('refuses the same content with %s (MALFORMED)', (_, bytes) => {
    expect(hex(bytes)).not.toBe(hex(canonical))
    // The decoder alone reads the same ledger out of it...
    expect(decodeAdmissionLedger(bytes)).toEqual(decodeAdmissionLedger(canonical))
    // ...but members compare ledgers byte for byte, so only one form is accepted.
    expectCodeSync(() => readLedger(bytes), 'MALFORMED')
  })
})
