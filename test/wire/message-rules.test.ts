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
  MAX_KEY_PACKAGES_PER_PUBLISH, MAX_ROSTER, MAX_WELCOME
} from '../../src/wire/limits.js'
import { clipErrorText, MAX_ERROR_TEXT_UNITS } from '../../src/wire/message-codec.js'
import * as W from '../../src/wire/messages.js'

const kp = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(n).fill(7)
const id = (i: number): string => `12D3KooW${i.toString(36).padStart(8, 'A')}`
const dirPublish = (keyPackages: Array<Uint8Array<ArrayBuffer>>, lastResort = new Uint8Array(0)): Uint8Array =>
  W.DirectoryRequest.encode({ version: 1, publish: { keyPackages, lastResort } })
const commitMsg = (c: Partial<W.GroupClientMessage['commit'] & object>): Uint8Array =>
  W.GroupClientMessage.encode({ version: 1, requestId: 1n, commit: { epoch: 0n, commit: kp(10), welcome: new Uint8Array(0), added: [], removed: [], ...c } })

describe('DirectoryRequest rules', () => {
  it('bounds KeyPackage size and count', () => {
    W.decodeDirectoryRequest(dirPublish([kp(MAX_KEY_PACKAGE)], kp(MAX_KEY_PACKAGE)))
    expect(() => W.decodeDirectoryRequest(dirPublish([kp(MAX_KEY_PACKAGE + 1)]))).toThrow(TooLargeError)
    expect(() => W.decodeDirectoryRequest(dirPublish([kp(1)], kp(MAX_KEY_PACKAGE + 1)))).toThrow(TooLargeError)
    W.decodeDirectoryRequest(dirPublish(Array.from({ length: MAX_KEY_PACKAGES_PER_PUBLISH }, () => kp(1))))
    expect(() => W.decodeDirectoryRequest(dirPublish(Array.from({ length: MAX_KEY_PACKAGES_PER_PUBLISH + 1 }, () => kp(1))))).toThrow(/too many elements/)
    expect(() => W.encodeDirectoryRequest({ publish: { keyPackages: Array.from({ length: 65 }, () => kp(1)), lastResort: new Uint8Array(0) } })).toThrow(MalformedError)
    expect(() => W.encodeDirectoryRequest({ publish: { keyPackages: [kp(MAX_KEY_PACKAGE + 1)], lastResort: new Uint8Array(0) } })).toThrow(TooLargeError)
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
    expect(W.ERROR_CODES).toHaveLength(24)
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
    expect(() => W.decodeGroupClientMessage(W.GroupClientMessage.encode({ version: 1, requestId: 0n, join: { stream: '' } }))).toThrow(MalformedError)
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

  it('bounds deliveries and checks requested identities', () => {
    expect(() => W.decodeGroupServerMessage(server({ commit: { epoch: 1n, commit: kp(MAX_COMMIT + 1) } }))).toThrow(TooLargeError)
    expect(() => W.decodeGroupServerMessage(server({ welcome: { epoch: 1n, welcome: new Uint8Array(0) } }))).toThrow(MalformedError)
    expect(() => W.decodeGroupServerMessage(server({ joinRequested: { identity: 'x'.repeat(129) } }))).toThrow(TooLargeError)
    expect(() => W.decodeGroupServerMessage(server({ leaveRequested: { identity: '' } }))).toThrow(MalformedError)
    const stale = W.decodeGroupServerMessage(W.encodeGroupServerMessage({ requestId: 9n, error: { code: 'STALE_EPOCH', message: 'epoch 4 is current', currentEpoch: 4n } }))
    expect(stale.error?.currentEpoch).toBe(4n)
  })
})

describe('av message rules', () => {
  it('requires a 32-byte subscriber key', () => {
    for (const n of [0, 31, 33]) {
      expect(() => W.decodeSubscribeOpen(W.SubscribeOpen.encode({ version: 1, stream: 's', subscriberPublicKey: kp(n), relay: false }))).toThrow(MalformedError)
    }
    expect(() => W.encodeSubscribeOpen({ stream: 's', subscriberPublicKey: kp(31), relay: false })).toThrow(MalformedError)
  })

  it('allows an empty or 32-byte relay key, and no key beside an error', () => {
    W.decodeOpenResult(W.encodeOpenResult({ relayPublicKey: new Uint8Array(0) }))
    expect(() => W.decodeOpenResult(W.OpenResult.encode({ version: 1, relayPublicKey: kp(16) }))).toThrow(MalformedError)
    expect(() => W.decodeOpenResult(W.OpenResult.encode({ version: 1, relayPublicKey: kp(32), error: { code: 'NOT_MEMBER', message: '' } }))).toThrow(MalformedError)
  })

  it('checks stream names of opens', () => {
    expect(() => W.decodePublishOpen(W.PublishOpen.encode({ version: 1, stream: '' }))).toThrow(MalformedError)
    expect(() => W.decodePublishOpen(W.PublishOpen.encode({ version: 1, stream: 'a'.repeat(129) }))).toThrow(TooLargeError)
    expect(() => W.encodePublishOpen({ stream: '-x' })).toThrow(MalformedError)
  })

  it('requires a notice body', () => {
    expect(() => W.decodePublisherNotice(new Uint8Array(0))).toThrow(MalformedError)
    expect(() => W.decodeSubscriberNotice(new Uint8Array(0))).toThrow(MalformedError)
    expect(() => W.encodePublisherNotice({})).toThrow(MalformedError)
    expect(() => W.encodeSubscriberNotice({ keyframeRequest: { track: -1 } })).toThrow(RangeError)
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
