/**
 * The member state record (src/client/member-state.ts): it round-trips,
 * refuses what is not a record with a typed error and a bound, and is
 * checked against the member and stream it is used for.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkMemberState, decodeMemberState, encodeMemberState, MAX_MEMBER_STATE_RECORD, MAX_RESERVED_KIDS, type MemberState,
} from '../../src/client/member-state.js'
import { FabricError } from '../../src/errors.js'
import { peer } from './helpers.js'

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })

const stateArb: fc.Arbitrary<MemberState> = fc.record({
  owner: fc.constantFrom(peer(0), peer(1)),
  stream: fc.stringMatching(/^[A-Za-z0-9._-]{1,16}$/),
  identity: fc.constantFrom(peer(1), peer(2)),
  session: fc.uint8Array({ maxLength: 300 }),
  ctrReserved: fc.uniqueArray(fc.tuple(u64, u64), { maxLength: 8, selector: ([kid]) => kid }).map((e) => new Map(e)),
  redemption: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
}).map((s) => (s.redemption === undefined ? (({ redemption: _r, ...rest }) => rest)(s) : s))

describe('member state record', () => {
  it('round-trips every record', () => {
    fc.assert(fc.property(stateArb, (s) => {
      const back = decodeMemberState(encodeMemberState(s))
      expect(back.owner).toBe(s.owner)
      expect(back.stream).toBe(s.stream)
      expect(back.identity).toBe(s.identity)
      expect([...back.session]).toEqual([...s.session])
      expect([...back.ctrReserved]).toEqual([...s.ctrReserved])
      expect(back.redemption === undefined ? undefined : [...back.redemption]).toEqual(s.redemption === undefined ? undefined : [...s.redemption])
    }))
  })

  it('refuses any other bytes with MALFORMED or TOO_LARGE, never another error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeMemberState(bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(FabricError)
        expect(['MALFORMED', 'TOO_LARGE']).toContain((err as FabricError).code)
      }
    }))
    const good = JSON.parse(new TextDecoder().decode(encodeMemberState({ owner: peer(0), stream: 's', identity: peer(1), session: new Uint8Array(4), ctrReserved: new Map() })))
    const bad = [
      { ...good, v: 2 },
      { ...good, ctr: [['1', '-1']] },
      { ...good, ctr: [['1', String(1n << 64n)]] },
      { ...good, ctr: Array.from({ length: MAX_RESERVED_KIDS + 1 }, (_, i) => [String(i), '1']) },
      { ...good, session: 'not base64!' },
      { ...good, redemption: 7 },
      { ...good, owner: undefined },
    ]
    for (const o of bad) {
      expect(() => decodeMemberState(new TextEncoder().encode(JSON.stringify(o))), JSON.stringify(o).slice(0, 80)).toThrow(FabricError)
    }
    expect(() => decodeMemberState(new Uint8Array(MAX_MEMBER_STATE_RECORD + 1))).toThrow(/limit/)
  })

  it('is used only by its own member, for its own stream', () => {
    const s: MemberState = { owner: peer(0), stream: 'call', identity: peer(1), session: new Uint8Array(1), ctrReserved: new Map() }
    expect(() => { checkMemberState(s, peer(1), peer(0), 'call') }).not.toThrow()
    expect(() => { checkMemberState(s, peer(1), undefined, undefined) }).not.toThrow()
    expect(() => { checkMemberState(s, peer(2), undefined, undefined) }).toThrow(expect.objectContaining({ code: 'IDENTITY_MISMATCH' }))
    expect(() => { checkMemberState(s, peer(1), peer(2), undefined) }).toThrow(expect.objectContaining({ code: 'OWNER_MISMATCH' }))
    expect(() => { checkMemberState(s, peer(1), undefined, 'other') }).toThrow(expect.objectContaining({ code: 'OWNER_MISMATCH' }))
  })
})
