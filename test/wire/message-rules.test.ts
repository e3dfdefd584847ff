/**
 * The field rules of each control message, one bound at a time: exactly at
 * the bound passes, one over fails with the documented error. Invalid
 * messages are built with protons' unchecked encoders.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MalformedError, TooLargeError } from '../../src/errors.js'
import {
  MAX_ADDED_PER_COMMIT, MAX_COMMIT, MAX_ERROR_CODE, MAX_ERROR_MESSAGE, MAX_GROUP_ID, MAX_KEY_PACKAGE,
  MAX_KEY_PACKAGES_PER_PUBLISH, MAX_REDEMPTION, MAX_ROSTER, MAX_WELCOME
} from '../../src/wire/limits.js'
import { MAX_ADDRESS_TEXT, MAX_GOING_AWAY_ADDRESSES, MAX_RETRY_AFTER_MS } from '../../src/wire/group-messages.js'
import { clipErrorText, MAX_ERROR_TEXT_UNITS } from '../../src/wire/message-codec.js'
import * as W from '../../src/wire/messages.js'

const kp = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(n).fill(7)
const id = (i: number): string => `12D3KooW${i.toString(36).padStart(8, 'A')}`
/** A stream owner as the wire sees it (a peer id string). */
const OWNER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
/** Identities the wire refuses, with the code: missing, outside the charset, too long. */
const BAD_IDENTITIES: Array<[string, typeof MalformedError | typeof TooLargeError]> = [
  ['', MalformedError], ['not/a/peer', MalformedError], ['12D3 KooW', MalformedError], ['é', MalformedError], ['x'.repeat(129), TooLargeError],
]
const dirPublish = (keyPackages: Array<Uint8Array<ArrayBuffer>>, lastResort = new Uint8Array(0)): Uint8Array =>
  W.DirectoryRequest.encode({ version: 1, publish: { keyPackages, lastResort, replace: false } })
const commitMsg = (c: Partial<W.GroupClientMessage['commit'] & object>): Uint8Array =>
  W.GroupClientMessage.encode({ version: 1, requestId: 1n, commit: { epoch: 0n, commit: kp(10), welcome: new Uint8Array(0), added: [], removed: [], ...c } })

describe('DirectoryRequest rules', () => {
  it('bounds KeyPackage size and count', () => {
    W.decodeDirectoryRequest(dirPublish([kp(MAX_KEY_PACKAGE)], kp(MAX_KEY_PACKAGE)))
    expect(() => W.decodeDirectoryRequest(dirPublish([kp(MAX_KEY_PACKAGE + 1)]))).toThrow(TooLargeError)
    expect(() => W.decodeDirectoryRequest(dirPublish([kp(1)], kp(MAX_KEY_PACKAGE + 1)))).toThrow(TooLargeError)
    W.decodeDirectoryRequest(dirPublish(Array.from({ length: MAX_KEY_PACKAGES_PER_PUBLISH }, () => kp(1))))
    expect(() => W.decodeDirectoryRequest(dirPublish(Array.from({ length: MAX_KEY_PACKAGES_PER_PUBLISH + 1 }, () => kp(1))))).toThrow(/too many elements/)
    expect(() => W.encodeDirectoryRequest({ publish: { keyPackages: Array.from({ length: 65 }, () => kp(1)), lastResort: new Uint8Array(0), replace: false } })).toThrow(MalformedError)
    expect(() => W.encodeDirectoryRequest({ publish: { keyPackages: [kp(MAX_KEY_PACKAGE + 1)], lastResort: new Uint8Array(0), replace: false } })).toThrow(TooLargeError)
  })

  it('refuses an empty publish, an empty KeyPackage and a missing body', () => {
    expect(() => W.decodeDirectoryRequest(dirPublish([]))).toThrow(MalformedError)
    expect(() => W.decodeDirectoryRequest(dirPublish([new Uint8Array(0)]))).toThrow(MalformedError)
    W.decodeDirectoryRequest(dirPublish([], kp(3)))
    expect(() => W.decodeDirectoryRequest(W.DirectoryRequest.encode({ version: 1 }))).toThrow(/no body/)
  })

  it('checks identities of fetch and count', () => {
    expect(() => W.decodeDirectoryRequest(W.DirectoryRequest.encode({ version: 1, fetch: { identity: '' } }))).toThrow(MalformedError)
    expect(() => W.decodeDirectoryRequest(W.DirectoryRequest.encode({ version: 1, count: { identity: 'x'.repeat(129) } }))).toThrow(TooLargeError)
    expect(() => W.encodeDirectoryRequest({ fetch: { identity: 'not/a/peer' } })).toThrow(MalformedError)
  })

  it('refuses two bodies on encode instead of silently dropping one', () => {
    expect(() => W.encodeDirectoryRequest({ fetch: { identity: 'a' }, count: { identity: 'b' } })).toThrow(RangeError)
  })

  it('carries replace, which changes none of the publish rules', () => {
    const publish = { keyPackages: [kp(3)], lastResort: new Uint8Array(0), replace: true }
    expect(W.decodeDirectoryRequest(W.encodeDirectoryRequest({ publish })).publish).toEqual(publish)
    expect(W.decodeDirectoryRequest(W.encodeDirectoryRequest({ publish: { ...publish, replace: false } })).publish?.replace).toBe(false)
    // replace alone is not a publish: it still needs a KeyPackage.
    expect(() => W.decodeDirectoryRequest(W.DirectoryRequest.encode({ version: 1, publish: { keyPackages: [], lastResort: new Uint8Array(0), replace: true } }))).toThrow(MalformedError)
    expect(() => W.encodeDirectoryRequest({ publish: { keyPackages: [], lastResort: new Uint8Array(0), replace: true } })).toThrow(MalformedError)
  })
})

describe('DirectoryResponse rules', () => {
  const base = { version: 1, accepted: 0, keyPackage: new Uint8Array(0), lastResort: false, count: 0, hasLastResort: false }
  it('bounds the KeyPackage and the error body', () => {
    W.decodeDirectoryResponse(W.DirectoryResponse.encode({ ...base, keyPackage: kp(MAX_KEY_PACKAGE) }))
    expect(() => W.decodeDirectoryResponse(W.DirectoryResponse.encode({ ...base, keyPackage: kp(MAX_KEY_PACKAGE + 1) }))).toThrow(TooLargeError)
    W.decodeDirectoryResponse(W.DirectoryResponse.encode({ ...base, error: { code: 'X'.repeat(MAX_ERROR_CODE), message: 'é'.repeat(MAX_ERROR_MESSAGE / 2) } }))
    expect(() => W.decodeDirectoryResponse(W.DirectoryResponse.encode({ ...base, error: { code: 'X'.repeat(MAX_ERROR_CODE + 1), message: '' } }))).toThrow(TooLargeError)
    expect(() => W.decodeDirectoryResponse(W.DirectoryResponse.encode({ ...base, error: { code: 'NO_KEY_PACKAGE', message: 'é'.repeat(MAX_ERROR_MESSAGE / 2 + 1) } }))).toThrow(TooLargeError)
    for (const code of ['', 'lower', '1ABC', 'A-B']) {
      expect(() => W.decodeDirectoryResponse(W.DirectoryResponse.encode({ ...base, error: { code, message: '' } })), code).toThrow(MalformedError)
    }
  })

  it('passes unknown but well-formed error codes, which map to INTERNAL', () => {
    const r = W.decodeDirectoryResponse(W.DirectoryResponse.encode({ ...base, error: { code: 'FROM_THE_FUTURE', message: '' } }))
    expect(W.toErrorCode(r.error!.code)).toBe('INTERNAL')
    expect(W.toErrorCode('NO_KEY_PACKAGE')).toBe('NO_KEY_PACKAGE')
    // A resuming member that must join again is told so by a code of its own, known on both sides.
    expect(W.toErrorCode('REJOIN_NEEDED')).toBe('REJOIN_NEEDED')
    expect(W.ERROR_CODES).toContain('REJOIN_NEEDED')
    expect(W.ERROR_CODES).toHaveLength(25)
  })
})

describe('GroupClientMessage rules', () => {
  it('checks create and join', () => {
    const create = (stream: string, groupId: Uint8Array<ArrayBuffer>): Uint8Array => W.GroupClientMessage.encode({ version: 1, requestId: 0n, create: { stream, groupId } })
    W.decodeGroupClientMessage(create('s', kp(MAX_GROUP_ID)))
    expect(() => W.decodeGroupClientMessage(create('s', kp(MAX_GROUP_ID + 1)))).toThrow(TooLargeError)
    expect(() => W.decodeGroupClientMessage(create('s', new Uint8Array(0)))).toThrow(MalformedError)
    expect(() => W.decodeGroupClientMessage(create('bad name', kp(1)))).toThrow(MalformedError)
    expect(() => W.decodeGroupClientMessage(create('s'.repeat(129), kp(1)))).toThrow(TooLargeError)
    expect(() => W.decodeGroupClientMessage(W.GroupClientMessage.encode({ version: 1, requestId: 0n, join: { stream: '', owner: OWNER, redemption: new Uint8Array(0) } }))).toThrow(MalformedError)
  })

  const join = (j: Partial<NonNullable<W.GroupClientMessage['join']>>): Uint8Array =>
    W.GroupClientMessage.encode({ version: 1, requestId: 1n, join: { stream: 's', owner: OWNER, redemption: new Uint8Array(0), ...j } })

  it('requires a join to name a valid owner', () => {
    expect(W.decodeGroupClientMessage(join({})).join).toEqual({ stream: 's', owner: OWNER, redemption: new Uint8Array(0) })
    W.decodeGroupClientMessage(join({ owner: 'x'.repeat(128) }))
    // An old-style join without an owner (field 2 absent) is refused, not read as anyone's stream.
    expect(() => W.decodeGroupClientMessage(W.GroupClientMessage.encode({ version: 1, requestId: 1n, join: { stream: 's' } as any }))).toThrow(MalformedError)
    for (const [owner, error] of BAD_IDENTITIES) {
      expect(() => W.decodeGroupClientMessage(join({ owner })), owner).toThrow(error)
      expect(() => W.encodeGroupClientMessage({ requestId: 1n, join: { stream: 's', owner, redemption: new Uint8Array(0) } }), owner).toThrow(error)
    }
  })

  it('bounds a join\'s redemption at 2 KiB', () => {
    expect(MAX_REDEMPTION).toBe(2048)
    expect(W.decodeGroupClientMessage(join({ redemption: kp(MAX_REDEMPTION) })).join?.redemption.byteLength).toBe(MAX_REDEMPTION)
    expect(() => W.decodeGroupClientMessage(join({ redemption: kp(MAX_REDEMPTION + 1) }))).toThrow(TooLargeError)
    expect(() => W.encodeGroupClientMessage({ requestId: 1n, join: { stream: 's', owner: OWNER, redemption: kp(MAX_REDEMPTION + 1) } })).toThrow(TooLargeError)
  })

  it('checks a deny: a valid identity and a reason of at most 1 KiB of UTF-8', () => {
    const deny = (identity: string, reason: string): Uint8Array => W.GroupClientMessage.encode({ version: 1, requestId: 2n, deny: { identity, reason } })
    expect(W.decodeGroupClientMessage(deny(id(1), '')).deny).toEqual({ identity: id(1), reason: '' })
    expect(W.decodeGroupClientMessage(deny(id(1), 'x'.repeat(MAX_ERROR_MESSAGE))).deny?.reason).toHaveLength(MAX_ERROR_MESSAGE)
    // The bound is in bytes: 512 two-byte characters fit, one more does not.
    W.decodeGroupClientMessage(deny(id(1), 'é'.repeat(MAX_ERROR_MESSAGE / 2)))
    expect(() => W.decodeGroupClientMessage(deny(id(1), 'é'.repeat(MAX_ERROR_MESSAGE / 2 + 1)))).toThrow(TooLargeError)
    expect(() => W.decodeGroupClientMessage(deny(id(1), 'x'.repeat(MAX_ERROR_MESSAGE + 1)))).toThrow(TooLargeError)
    expect(() => W.encodeGroupClientMessage({ requestId: 2n, deny: { identity: id(1), reason: 'x'.repeat(MAX_ERROR_MESSAGE + 1) } })).toThrow(TooLargeError)
    for (const [identity, error] of BAD_IDENTITIES) {
      expect(() => W.decodeGroupClientMessage(deny(identity, 'no')), identity).toThrow(error)
      expect(() => W.encodeGroupClientMessage({ requestId: 2n, deny: { identity, reason: 'no' } }), identity).toThrow(error)
    }
  })

  it('bounds commit, welcome, added and removed', () => {
    W.decodeGroupClientMessage(commitMsg({ commit: kp(MAX_COMMIT) }))
    expect(() => W.decodeGroupClientMessage(commitMsg({ commit: kp(MAX_COMMIT + 1) }))).toThrow(TooLargeError)
    expect(() => W.decodeGroupClientMessage(commitMsg({ commit: new Uint8Array(0) }))).toThrow(MalformedError)
    W.decodeGroupClientMessage(commitMsg({ welcome: kp(MAX_WELCOME), added: [id(1)] }))
    expect(() => W.decodeGroupClientMessage(commitMsg({ welcome: kp(MAX_WELCOME + 1), added: [id(1)] }))).toThrow(TooLargeError)
    const added = Array.from({ length: MAX_ADDED_PER_COMMIT }, (_, i) => id(i))
    W.decodeGroupClientMessage(commitMsg({ welcome: kp(1), added }))
    expect(() => W.decodeGroupClientMessage(commitMsg({ welcome: kp(1), added: [...added, id(MAX_ADDED_PER_COMMIT)] }))).toThrow(/too many elements/)
    expect(() => W.decodeGroupClientMessage(commitMsg({ removed: ['bad-id'] }))).toThrow(MalformedError)
  })

  it('requires a Welcome exactly when members are added', () => {
    expect(() => W.decodeGroupClientMessage(commitMsg({ added: [id(1)] }))).toThrow(/welcome/)
    expect(() => W.decodeGroupClientMessage(commitMsg({ welcome: kp(5) }))).toThrow(/welcome/)
  })

  it('checks a resume: a valid stream name and owner, a u64 epoch', () => {
    const resume = (r: Partial<NonNullable<W.GroupClientMessage['resume']>>): Uint8Array =>
      W.GroupClientMessage.encode({ version: 1, requestId: 3n, resume: { stream: 's', owner: OWNER, epoch: 7n, ...r } })
    expect(W.decodeGroupClientMessage(resume({})).resume).toEqual({ stream: 's', owner: OWNER, epoch: 7n })
    expect(W.decodeGroupClientMessage(resume({ epoch: 2n ** 64n - 1n, stream: 'a'.repeat(128) })).resume?.epoch).toBe(2n ** 64n - 1n)
    expect(() => W.decodeGroupClientMessage(resume({ stream: '' }))).toThrow(MalformedError)
    expect(() => W.decodeGroupClientMessage(resume({ stream: 'bad name' }))).toThrow(MalformedError)
    expect(() => W.decodeGroupClientMessage(resume({ stream: 'a'.repeat(129) }))).toThrow(TooLargeError)
    for (const [owner, error] of BAD_IDENTITIES) {
      expect(() => W.decodeGroupClientMessage(resume({ owner })), owner).toThrow(error)
      expect(() => W.encodeGroupClientMessage({ requestId: 3n, resume: { stream: 's', owner, epoch: 0n } }), owner).toThrow(error)
    }
    expect(() => W.encodeGroupClientMessage({ requestId: 3n, resume: { stream: 's', owner: OWNER, epoch: 2n ** 64n } })).toThrow(RangeError)
    expect(() => W.encodeGroupClientMessage({ requestId: 3n, resume: { stream: 's', owner: OWNER, epoch: -1n } })).toThrow(RangeError)
  })

  it('carries an end, which has no fields, as a body of its own', () => {
    const end = W.decodeGroupClientMessage(W.encodeGroupClientMessage({ requestId: 4n, end: {} }))
    expect(end).toEqual({ version: 1, requestId: 4n, end: {} })
    expect(() => W.encodeGroupClientMessage({ requestId: 4n, end: {}, leave: {} })).toThrow(RangeError)
  })

  it('refuses a missing body', () => {
    expect(() => W.decodeGroupClientMessage(W.GroupClientMessage.encode({ version: 1, requestId: 5n }))).toThrow(MalformedError)
  })

  it('refuses u64 fields out of range on encode', () => {
    expect(() => W.encodeGroupClientMessage({ requestId: -1n, ack: { epoch: 0n } })).toThrow(RangeError)
    expect(() => W.encodeGroupClientMessage({ requestId: 0n, ack: { epoch: 2n ** 64n } })).toThrow(RangeError)
  })

  it('refuses a message whose last varint is cut short (protons would read past the end)', () => {
    // version=1, then field 2 (request_id) with a 3-byte unterminated varint.
    expect(() => W.decodeGroupClientMessage(new Uint8Array([0x08, 0x01, 0x10, 0x80, 0x80, 0x80]))).toThrow(/ends inside a field/)
  })

  it('turns a stack overflow from deeply nested unknown groups into MalformedError', () => {
    // 0x7b = field 15, wire type 3 (start group): protons skips groups recursively.
    expect(() => W.decodeGroupClientMessage(new Uint8Array(200_000).fill(0x7b))).toThrow(MalformedError)
  })

  it('reports parser failures as MalformedError with the protons error as cause', () => {
    try {
      W.decodeGroupClientMessage(new Uint8Array([0x2a, 0x05, 0x08]))
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(MalformedError)
      expect((err as Error).cause).toBeInstanceOf(RangeError)
    }
  })
})

describe('GroupServerMessage rules', () => {
  const server = (body: Partial<W.GroupServerMessage>): Uint8Array => W.GroupServerMessage.encode({ version: 1, requestId: 0n, ...body })
  it('bounds the roster and checks its identities', () => {
    const members = Array.from({ length: MAX_ROSTER }, (_, i) => id(i))
    expect(W.decodeGroupServerMessage(server({ roster: { epoch: 3n, members, committer: id(0) } })).roster?.members).toHaveLength(MAX_ROSTER)
    expect(() => W.decodeGroupServerMessage(server({ roster: { epoch: 3n, members: [...members, id(MAX_ROSTER)], committer: id(0) } }))).toThrow(/too many elements/)
    expect(() => W.decodeGroupServerMessage(server({ roster: { epoch: 3n, members: [], committer: '' } }))).toThrow(MalformedError)
  })

  it('bounds a forwarded redemption at 2 KiB, as the join it came from', () => {
    const requested = (redemption: Uint8Array<ArrayBuffer>): Uint8Array => server({ joinRequested: { identity: id(2), redemption } })
    expect(W.decodeGroupServerMessage(requested(kp(MAX_REDEMPTION))).joinRequested?.redemption.byteLength).toBe(MAX_REDEMPTION)
    expect(W.decodeGroupServerMessage(requested(new Uint8Array(0))).joinRequested).toEqual({ identity: id(2), redemption: new Uint8Array(0) })
    expect(() => W.decodeGroupServerMessage(requested(kp(MAX_REDEMPTION + 1)))).toThrow(TooLargeError)
    expect(() => W.encodeGroupServerMessage({ requestId: 0n, joinRequested: { identity: id(2), redemption: kp(MAX_REDEMPTION + 1) } })).toThrow(TooLargeError)
  })

  it('bounds deliveries and checks requested identities', () => {
    expect(() => W.decodeGroupServerMessage(server({ commit: { epoch: 1n, commit: kp(MAX_COMMIT + 1) } }))).toThrow(TooLargeError)
    expect(() => W.decodeGroupServerMessage(server({ welcome: { epoch: 1n, welcome: new Uint8Array(0) } }))).toThrow(MalformedError)
    expect(() => W.decodeGroupServerMessage(server({ joinRequested: { identity: 'x'.repeat(129), redemption: new Uint8Array(0) } }))).toThrow(TooLargeError)
    expect(() => W.decodeGroupServerMessage(server({ leaveRequested: { identity: '' } }))).toThrow(MalformedError)
    expect(() => W.decodeGroupServerMessage(server({ joinWithdrawn: { identity: '' } }))).toThrow(MalformedError)
    expect(() => W.decodeGroupServerMessage(server({ joinWithdrawn: { identity: 'x'.repeat(129) } }))).toThrow(TooLargeError)
    expect(W.decodeGroupServerMessage(W.encodeGroupServerMessage({ requestId: 0n, joinWithdrawn: { identity: id(3) } })).joinWithdrawn).toEqual({ identity: id(3) })
    const stale = W.decodeGroupServerMessage(W.encodeGroupServerMessage({ requestId: 9n, error: { code: 'STALE_EPOCH', message: 'epoch 4 is current', currentEpoch: 4n } }))
    expect(stale.error?.currentEpoch).toBe(4n)
  })
})

/**
 * The bounds of a going-away notice, the same on a group stream (GoingAway)
 * and a publish stream (NodeGoingAway): at most 16 addresses of at most 512
 * bytes each, a wait of at most 60 000 ms, a reason of at most 1 KiB.
 */
const goingAwayCases: Array<{ name: string, encode: (g: GoingAway) => Uint8Array, raw: (g: GoingAway) => Uint8Array, decode: (b: Uint8Array) => GoingAway | undefined }> = [
  {
    name: 'GroupServerMessage.going_away',
    encode: (g) => W.encodeGroupServerMessage({ requestId: 0n, goingAway: g }),
    raw: (g) => W.GroupServerMessage.encode({ version: 1, requestId: 0n, goingAway: g }),
    decode: (b) => W.decodeGroupServerMessage(b).goingAway,
  },
  {
    name: 'PublisherNotice.going_away',
    encode: (g) => W.encodePublisherNotice({ goingAway: g }),
    raw: (g) => W.PublisherNotice.encode({ goingAway: g }),
    decode: (b) => W.decodePublisherNotice(b).goingAway,
  },
]

interface GoingAway { reason: string, addresses: string[], retryAfterMs: number }

describe.each(goingAwayCases)('$name rules', (c) => {
  const notice = (g: Partial<GoingAway>): GoingAway => ({ reason: 'restarting', addresses: [], retryAfterMs: 500, ...g })
  /** The largest notice that still fits a 4 KiB publisher notice: 7 addresses of 512 bytes. */
  const fits = c.name.startsWith('Publisher') ? 7 : MAX_GOING_AWAY_ADDRESSES

  it('round-trips a notice at every bound', () => {
    const full = notice({
      addresses: Array.from({ length: fits }, (_, i) => String(i).padEnd(MAX_ADDRESS_TEXT, 'x')),
      retryAfterMs: MAX_RETRY_AFTER_MS,
    })
    expect(c.decode(c.encode(full))).toEqual(full)
    expect(c.decode(c.encode(notice({ reason: '', retryAfterMs: 0 })))).toEqual(notice({ reason: '', retryAfterMs: 0 }))
    const longReason = notice({ reason: 'x'.repeat(MAX_ERROR_MESSAGE) })
    expect(c.decode(c.encode(longReason))).toEqual(longReason)
  })

  it('bounds the number of addresses at 16', () => {
    expect(MAX_GOING_AWAY_ADDRESSES).toBe(16)
    const short = (n: number): string[] => Array.from({ length: n }, (_, i) => `/ip4/10.0.0.${i}/tcp/4001`)
    expect(c.decode(c.raw(notice({ addresses: short(16) })))?.addresses).toHaveLength(16)
    expect(() => c.decode(c.raw(notice({ addresses: short(17) })))).toThrow(MalformedError)
    expect(() => c.encode(notice({ addresses: short(17) }))).toThrow(MalformedError)
  })

  it('bounds each address at 512 bytes of UTF-8', () => {
    expect(MAX_ADDRESS_TEXT).toBe(512)
    expect(c.decode(c.raw(notice({ addresses: ['a'.repeat(512)] })))?.addresses[0]).toHaveLength(512)
    // In bytes: 256 two-byte characters fit, one more does not.
    c.decode(c.raw(notice({ addresses: ['é'.repeat(256)] })))
    for (const address of ['a'.repeat(513), 'é'.repeat(257)]) {
      expect(() => c.decode(c.raw(notice({ addresses: [address] })))).toThrow(MalformedError)
      expect(() => c.encode(notice({ addresses: ['ok', address] }))).toThrow(MalformedError)
    }
  })

  it('bounds the wait at 60 000 ms', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(60_000)
    expect(c.decode(c.raw(notice({ retryAfterMs: 60_000 })))?.retryAfterMs).toBe(60_000)
    for (const retryAfterMs of [60_001, 0xffffffff]) {
      expect(() => c.decode(c.raw(notice({ retryAfterMs }))), String(retryAfterMs)).toThrow(MalformedError)
      expect(() => c.encode(notice({ retryAfterMs })), String(retryAfterMs)).toThrow(MalformedError)
    }
  })

  it('the encoder refuses a wait that is not a uint32, as the decoder would', () => {
    for (const retryAfterMs of [-1, 1.5, Number.NaN]) {
      expect(() => c.encode(notice({ retryAfterMs })), String(retryAfterMs)).toThrow()
    }
  })

  it('bounds the reason at 1 KiB of UTF-8', () => {
    c.decode(c.raw(notice({ reason: 'é'.repeat(MAX_ERROR_MESSAGE / 2) })))
    for (const reason of ['x'.repeat(MAX_ERROR_MESSAGE + 1), 'é'.repeat(MAX_ERROR_MESSAGE / 2 + 1)]) {
      expect(() => c.decode(c.raw(notice({ reason })))).toThrow(TooLargeError)
      expect(() => c.encode(notice({ reason }))).toThrow(TooLargeError)
    }
  })
})

describe('av message rules', () => {
  it('requires a 32-byte subscriber key', () => {
    for (const n of [0, 31, 33]) {
      expect(() => W.decodeSubscribeOpen(W.SubscribeOpen.encode({ version: 1, stream: 's', owner: OWNER, subscriberPublicKey: kp(n), relay: false }))).toThrow(/32/)
    }
    W.decodeSubscribeOpen(W.SubscribeOpen.encode({ version: 1, stream: 's', owner: OWNER, subscriberPublicKey: kp(32), relay: false }))
    expect(() => W.encodeSubscribeOpen({ stream: 's', owner: OWNER, subscriberPublicKey: kp(31), relay: false })).toThrow(MalformedError)
  })

  it('allows an empty or 32-byte relay key, and no key beside an error', () => {
    W.decodeOpenResult(W.encodeOpenResult({ relayPublicKey: new Uint8Array(0) }))
    expect(() => W.decodeOpenResult(W.OpenResult.encode({ version: 1, relayPublicKey: kp(16) }))).toThrow(MalformedError)
    expect(() => W.decodeOpenResult(W.OpenResult.encode({ version: 1, relayPublicKey: kp(32), error: { code: 'NOT_MEMBER', message: '' } }))).toThrow(MalformedError)
  })

  it('checks stream names of opens', () => {
    W.decodePublishOpen(W.PublishOpen.encode({ version: 1, stream: 'a'.repeat(128), owner: OWNER }))
    expect(() => W.decodePublishOpen(W.PublishOpen.encode({ version: 1, stream: '', owner: OWNER }))).toThrow(MalformedError)
    expect(() => W.decodePublishOpen(W.PublishOpen.encode({ version: 1, stream: 'a'.repeat(129), owner: OWNER }))).toThrow(TooLargeError)
    expect(() => W.encodePublishOpen({ stream: '-x', owner: OWNER })).toThrow(MalformedError)
    expect(() => W.decodeSubscribeOpen(W.SubscribeOpen.encode({ version: 1, stream: 'a/b', owner: OWNER, subscriberPublicKey: kp(32), relay: false }))).toThrow(MalformedError)
  })

  it('requires opens to name a valid owner', () => {
    const key = kp(32)
    expect(W.decodePublishOpen(W.encodePublishOpen({ stream: 's', owner: OWNER }))).toEqual({ version: 1, stream: 's', owner: OWNER })
    // An open without an owner (the field absent) names no stream.
    expect(() => W.decodePublishOpen(W.PublishOpen.encode({ version: 1, stream: 's' }))).toThrow(MalformedError)
    expect(() => W.decodeSubscribeOpen(W.SubscribeOpen.encode({ version: 1, stream: 's', subscriberPublicKey: key, relay: true }))).toThrow(MalformedError)
    for (const [owner, error] of BAD_IDENTITIES) {
      expect(() => W.decodePublishOpen(W.PublishOpen.encode({ version: 1, stream: 's', owner })), owner).toThrow(error)
      expect(() => W.encodePublishOpen({ stream: 's', owner }), owner).toThrow(error)
      expect(() => W.decodeSubscribeOpen(W.SubscribeOpen.encode({ version: 1, stream: 's', owner, subscriberPublicKey: key, relay: false })), owner).toThrow(error)
      expect(() => W.encodeSubscribeOpen({ stream: 's', owner, subscriberPublicKey: key, relay: false }), owner).toThrow(error)
    }
  })

  it('requires a notice body', () => {
    expect(() => W.decodePublisherNotice(new Uint8Array(0))).toThrow(MalformedError)
    expect(() => W.decodeSubscriberNotice(new Uint8Array(0))).toThrow(MalformedError)
    expect(() => W.encodePublisherNotice({})).toThrow(MalformedError)
    expect(() => W.encodeSubscriberNotice({ keyframeRequest: { track: -1 } })).toThrow(RangeError)
  })
})

describe('text fields', () => {
  // Text that is not valid UTF-8 would be read into lone surrogates, which the encoder writes back as
  // U+FFFD: the decoders refuse it (message-codec.ts checkText). Here two flipped bits in a
  // going-away address (a random mutation found it).
  it('a decoded message whose text was not valid UTF-8 re-encodes to itself, or is refused', () => {
    const address = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
    const bytes = W.encodePublisherNotice({ goingAway: { reason: '\u{10000}', addresses: [address], retryAfterMs: 60_000 } }).slice()
    for (const [at, bit] of [[2147213292, 7], [10, 0]] as const) bytes[at % bytes.length]! ^= 1 << bit
    let decoded: W.PublisherNotice
    try {
      decoded = W.decodePublisherNotice(bytes)
    } catch (err) {
      expect(err).toBeInstanceOf(MalformedError)
      return
    }
    expect(W.decodePublisherNotice(W.encodePublisherNotice(decoded))).toEqual(decoded)
  })
})

describe('error texts', () => {
  it('a clipped error text always fits the 1 KiB bound, whatever its characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
      const clipped = clipErrorText(text)
      expect(Buffer.byteLength(clipped, 'utf8')).toBeLessThanOrEqual(MAX_ERROR_MESSAGE)
      expect(() => W.encodeOpenResult({ version: 1, relayPublicKey: new Uint8Array(0), error: { code: 'NOT_MEMBER', message: clipped } })).not.toThrow()
      if (text.length <= MAX_ERROR_TEXT_UNITS) expect(clipped).toBe(text)
      else expect(clipped.endsWith('\u2026') && text.startsWith(clipped.slice(0, -1))).toBe(true)
    }))
  })
})
