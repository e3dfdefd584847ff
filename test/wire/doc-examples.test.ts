/**
 * The hex examples of protocol/framing.md and protocol/control.md, produced
 * by the encoders: if one of these fails, the doc or the code is wrong.
 */
import { describe, expect, it } from 'vitest'
import { encodeFrame, framePrefix } from '../../src/wire/framing.js'
import { MAX_AV_MESSAGE, MAX_CONTROL_FRAME, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import * as W from '../../src/wire/messages.js'
import { hex } from '../crypto/helpers.js'

const id = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

describe('protocol/framing.md examples', () => {
  it('varint prefixes', () => {
    const table: Array<[number, string]> = [[0, '00'], [127, '7f'], [128, '8001'], [300, 'ac02'], [MAX_AV_MESSAGE, '8020'], [MAX_MEDIA_FRAME, 'b88040'], [MAX_CONTROL_FRAME, '80808001']]
    for (const [n, h] of table) expect(hex(framePrefix(n)), String(n)).toBe(h)
  })

  it('a framed PublishOpen', () => {
    expect(hex(encodeFrame(W.encodePublishOpen({ stream: 'lobby' })))).toBe('09' + '08011205' + '6c6f626279')
  })
})

describe('protocol/control.md examples', () => {
  it('directory', () => {
    expect(hex(W.encodeDirectoryRequest({ fetch: { identity: id } }))).toBe('08011a360a34' + Buffer.from(id).toString('hex'))
    const none = { accepted: 0, keyPackage: new Uint8Array(0), lastResort: false, count: 0, hasLastResort: false }
    expect(hex(W.encodeDirectoryResponse({ ...none, error: { code: 'NO_KEY_PACKAGE', message: '' } }))).toBe('080112100a0e4e4f5f4b45595f5041434b414745')
  })

  it('group', () => {
    expect(hex(W.encodeGroupClientMessage({ requestId: 7n, join: { stream: 'lobby' } }))).toBe('080110072207' + '0a056c6f626279')
    expect(hex(W.encodeGroupServerMessage({ requestId: 7n, ok: { epoch: 3n } }))).toBe('080110071a020803')
    expect(hex(W.encodeGroupServerMessage({ requestId: 8n, error: { code: 'STALE_EPOCH', message: '', currentEpoch: 4n } })))
      .toBe('08011008220f0a0b5354414c455f45504f43481804')
    expect(hex(W.encodeGroupClientMessage({ requestId: 0n, ack: { epoch: 4n } }))).toBe('080132020804')
  })

  it('media', () => {
    expect(hex(W.encodePublishOpen({ stream: 'lobby' }))).toBe('08011205' + '6c6f626279')
    expect(hex(W.encodeSubscribeOpen({ stream: 'lobby', subscriberPublicKey: new Uint8Array(32).fill(0x11), relay: false })))
      .toBe('08011205' + '6c6f626279' + '1a20' + '11'.repeat(32))
    expect(hex(W.encodeOpenResult({ relayPublicKey: new Uint8Array(0) }))).toBe('0801')
    expect(hex(W.encodeOpenResult({ relayPublicKey: new Uint8Array(0), error: { code: 'NOT_MEMBER', message: '' } }))).toBe('0801120c0a0a4e4f545f4d454d424552')
    expect(hex(W.encodeSubscriberNotice({ keyframeRequest: { track: 0x300 } }))).toBe('0a03088006')
    expect(hex(W.encodePublisherNotice({ keyframeRequest: { track: 0 } }))).toBe('0a00')
  })
})
