/**
 * Properties every control-message wrapper must have: round trip, encoder
 * output identical to protons', decode of hostile bytes yields a message or
 * a FabricError and nothing else, frame and version bounds.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError, TooLargeError, isFabricError } from '../../src/errors.js'
import { MAX_ADDRESS_TEXT, MAX_GOING_AWAY_ADDRESSES, MAX_RETRY_AFTER_MS } from '../../src/wire/group-messages.js'
import { MAX_AV_MESSAGE, MAX_CONTROL_FRAME, MAX_REDEMPTION } from '../../src/wire/limits.js'
import * as W from '../../src/wire/messages.js'
import { bytes, onlyFabricErrors } from './arbitraries.js'
import * as A from './message-arbitraries.js'

interface Case {
  name: string
  arb: fc.Arbitrary<any>
  encode: (m: any) => Uint8Array
  decode: (b: Uint8Array) => any
  /** protons' own encoder: no checks, for crafting invalid messages */
  raw: (m: any) => Uint8Array
  max: number
  versioned: boolean
}

const cases: Case[] = [
  { name: 'DirectoryRequest', arb: A.directoryRequest, encode: W.encodeDirectoryRequest, decode: W.decodeDirectoryRequest, raw: m => W.DirectoryRequest.encode(m), max: MAX_CONTROL_FRAME, versioned: true },
  { name: 'DirectoryResponse', arb: A.directoryResponse, encode: W.encodeDirectoryResponse, decode: W.decodeDirectoryResponse, raw: m => W.DirectoryResponse.encode(m), max: MAX_CONTROL_FRAME, versioned: true },
  { name: 'GroupClientMessage', arb: A.groupClientMessage, encode: W.encodeGroupClientMessage, decode: W.decodeGroupClientMessage, raw: m => W.GroupClientMessage.encode(m), max: MAX_CONTROL_FRAME, versioned: true },
  { name: 'GroupServerMessage', arb: A.groupServerMessage, encode: W.encodeGroupServerMessage, decode: W.decodeGroupServerMessage, raw: m => W.GroupServerMessage.encode(m), max: MAX_CONTROL_FRAME, versioned: true },
  { name: 'PublishOpen', arb: A.publishOpen, encode: W.encodePublishOpen, decode: W.decodePublishOpen, raw: m => W.PublishOpen.encode(m), max: MAX_AV_MESSAGE, versioned: true },
  { name: 'SubscribeOpen', arb: A.subscribeOpen, encode: W.encodeSubscribeOpen, decode: W.decodeSubscribeOpen, raw: m => W.SubscribeOpen.encode(m), max: MAX_AV_MESSAGE, versioned: true },
  { name: 'OpenResult', arb: A.openResult, encode: W.encodeOpenResult, decode: W.decodeOpenResult, raw: m => W.OpenResult.encode(m), max: MAX_AV_MESSAGE, versioned: true },
  { name: 'PublisherNotice', arb: A.publisherNotice, encode: W.encodePublisherNotice, decode: W.decodePublisherNotice, raw: m => W.PublisherNotice.encode(m), max: MAX_AV_MESSAGE, versioned: false },
  { name: 'SubscriberNotice', arb: A.subscriberNotice, encode: W.encodeSubscriberNotice, decode: W.decodeSubscriberNotice, raw: m => W.SubscriberNotice.encode(m), max: MAX_AV_MESSAGE, versioned: false }
]

/** A decode that succeeded must survive re-encoding unchanged: encoder and decoder checks agree. */
function checkConsistent (c: Case, decoded: unknown): void {
  if (decoded instanceof FabricError) return
  expect(c.decode(c.encode(decoded))).toEqual(decoded)
}

describe.each(cases)('$name', c => {
  it('round-trips arbitrary valid messages, byte-identical to protons', () => {
    fc.assert(fc.property(c.arb, m => {
      const b = c.encode(m)
      expect(b).toEqual(c.raw(m))
      expect(c.decode(b)).toEqual(m)
    }), { numRuns: 300 })
  })

  if (c.versioned) {
    it('writes version 1 when the caller leaves it out, refuses to write another', () => {
      fc.assert(fc.property(c.arb, m => {
        const { version, ...rest } = m
        expect(c.decode(c.encode(rest))).toEqual(m)
        expect(() => c.encode({ ...m, version: 2 })).toThrow(RangeError)
      }), { numRuns: 50 })
    })

    it('rejects any other version with UNSUPPORTED_VERSION', () => {
      fc.assert(fc.property(c.arb, fc.oneof(fc.constant(0), fc.integer({ min: 2, max: 0xffffffff })), (m, v) => {
        const r = onlyFabricErrors(() => c.decode(c.raw({ ...m, version: v })))
        expect(isFabricError(r, 'UNSUPPORTED_VERSION')).toBe(true)
      }), { numRuns: 100 })
    })
  }

  it('rejects a frame above its bound before parsing', () => {
    expect(() => c.decode(new Uint8Array(c.max + 1))).toThrow(TooLargeError)
  })

  it('yields a message or a FabricError for random bytes', () => {
    fc.assert(fc.property(bytes(0, 80), b => { checkConsistent(c, onlyFabricErrors(() => c.decode(b))) }), { numRuns: 2000 })
  })

  it('yields a message or a FabricError for mutated valid encodings', () => {
    const mutated = fc.tuple(c.arb, fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()))
    fc.assert(fc.property(mutated, ([m, flips, cut]) => {
      const b = c.encode(m).slice()
      if (b.length === 0) return
      for (const [at, bit] of flips) b[at % b.length] ^= 1 << bit
      const cutAt = cut === null ? b.length : cut % (b.length + 1)
      checkConsistent(c, onlyFabricErrors(() => c.decode(b.subarray(0, cutAt))))
    }), { numRuns: 1000 })
  })
})

describe('message arbitraries', () => {
  // The round-trip properties above only cover what the arbitraries make:
  // every body and the new fields' ranges must come up.
  it('generate every group body, owners, redemptions across 0..2 KiB, deny reasons, resumes, going-away notices and replace', () => {
    const client = fc.sample(A.groupClientMessage, 2000)
    const server = fc.sample(A.groupServerMessage, 2000)
    for (const body of ['create', 'join', 'commit', 'ack', 'leave', 'deny', 'resume', 'end']) {
      expect(client.some(m => (m as any)[body] !== undefined), body).toBe(true)
    }
    for (const body of ['ok', 'error', 'joinRequested', 'joinWithdrawn', 'leaveRequested', 'commit', 'welcome', 'roster', 'epochReady', 'goingAway']) {
      expect(server.some(m => (m as any)[body] !== undefined), body).toBe(true)
    }
    const redemptions = [
      ...client.flatMap(m => m.join === undefined ? [] : [m.join.redemption.byteLength]),
      ...server.flatMap(m => m.joinRequested === undefined ? [] : [m.joinRequested.redemption.byteLength]),
    ]
    expect(redemptions).toContain(0)
    expect(redemptions.some(n => n > 1024)).toBe(true)
    expect(Math.max(...redemptions)).toBeLessThanOrEqual(MAX_REDEMPTION)
    expect(client.some(m => m.join !== undefined && m.join.owner.length > 0)).toBe(true)
    expect(client.some(m => m.deny !== undefined && m.deny.reason === '')).toBe(true)
    expect(client.some(m => m.deny !== undefined && m.deny.reason !== '')).toBe(true)
    // Resumes from any epoch; going-away notices up to every bound, on group and publish streams.
    expect(client.some(m => m.resume !== undefined && m.resume.epoch > 2n ** 63n)).toBe(true)
    const notices = [
      ...server.flatMap(m => m.goingAway === undefined ? [] : [m.goingAway]),
      ...fc.sample(A.publisherNotice, 500).flatMap(m => m.goingAway === undefined ? [] : [m.goingAway]),
    ]
    expect(notices.some(g => g.addresses.length === MAX_GOING_AWAY_ADDRESSES)).toBe(true)
    expect(notices.some(g => g.addresses.length === 0)).toBe(true)
    const addressBytes = notices.flatMap(g => g.addresses.map(a => Buffer.byteLength(a, 'utf8')))
    expect(addressBytes.some(n => n > MAX_ADDRESS_TEXT / 2)).toBe(true)
    expect(Math.max(...addressBytes)).toBeLessThanOrEqual(MAX_ADDRESS_TEXT)
    expect(notices.some(g => g.retryAfterMs === MAX_RETRY_AFTER_MS)).toBe(true)
    expect(Math.max(...notices.map(g => g.retryAfterMs))).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS)
    expect(fc.sample(A.publisherNotice, 200).some(m => m.keyframeRequest !== undefined)).toBe(true)
    const replace = fc.sample(A.directoryRequest, 500).flatMap(m => m.publish === undefined ? [] : [m.publish.replace])
    expect(new Set(replace)).toEqual(new Set([true, false]))
    for (const open of [...fc.sample(A.publishOpen, 50), ...fc.sample(A.subscribeOpen, 50)]) expect(open.owner).toMatch(/^[A-Za-z0-9]{1,128}$/)
  })
})
