/**
 * The hex examples of protocol/framing.md and protocol/control.md, produced
 * by the encoders: if one of these fails, the doc or the code is wrong.
 */
import { describe, expect, it } from 'vitest'
import { encodeFrame, framePrefix } from '../../src/wire/framing.js'
import { MAX_AV_MESSAGE, MAX_CONTROL_FRAME, MAX_DIRECTORY_FRAME, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import * as W from '../../src/wire/messages.js'
import { readFileSync } from 'node:fs'
import { hex } from '../crypto/helpers.js'

/** `hex` as the docs print it: byte pairs separated by spaces. */
const spaced = (h: string): string => h.replace(/(..)(?!$)/g, '$1 ')
const doc = (name: string): string => readFileSync(new URL(`../../protocol/${name}`, import.meta.url), 'utf8')

const id = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
/** The id's 52 ASCII bytes, which the docs abbreviate as `31 32 44 ...`. */
const idHex = Buffer.from(id).toString('hex')
const noRedemption = new Uint8Array(0)

describe('protocol/framing.md examples', () => {
  it('varint prefixes', () => {
    const table: Array<[number, string]> = [[0, '00'], [127, '7f'], [128, '8001'], [300, 'ac02'], [MAX_AV_MESSAGE, '8020'], [MAX_DIRECTORY_FRAME, '808014'], [MAX_MEDIA_FRAME, 'b88040'], [MAX_CONTROL_FRAME, '80808001']]
    for (const [n, h] of table) expect(hex(framePrefix(n)), String(n)).toBe(h)
  })

  it('a framed PublishOpen', () => {
    expect(idHex).toHaveLength(2 * 52)
    expect(idHex.startsWith('313244334b')).toBe(true) // "12D3K", as the doc shows the owner's first bytes
    expect(hex(encodeFrame(W.encodePublishOpen({ stream: 'lobby', owner: id })))).toBe('3f' + '0801' + '1205' + '6c6f626279' + '1a34' + idHex)
  })
})

describe('protocol/control.md examples', () => {
  it('directory', () => {
    expect(hex(W.encodeDirectoryRequest({ fetch: { identity: id } }))).toBe('08011a360a34' + Buffer.from(id).toString('hex'))
    const none = { accepted: 0, keyPackage: new Uint8Array(0), lastResort: false, count: 0, hasLastResort: false, home: '' }
    expect(hex(W.encodeDirectoryResponse({ ...none, error: { code: 'NO_KEY_PACKAGE', message: '' } }))).toBe('080112100a0e4e4f5f4b45595f5041434b414745')
  })

  it('group', () => {
    expect(hex(W.encodeGroupClientMessage({ requestId: 7n, join: { stream: 'lobby', owner: id, redemption: noRedemption } })))
      .toBe('08011007' + '223d' + '0a056c6f626279' + '1234' + idHex)
    expect(hex(W.encodeGroupServerMessage({ requestId: 7n, ok: { epoch: 3n } }))).toBe('080110071a020803')
    expect(hex(W.encodeGroupServerMessage({ requestId: 8n, error: { code: 'STALE_EPOCH', message: '', currentEpoch: 4n } })))
      .toBe('08011008220f0a0b5354414c455f45504f43481804')
    expect(hex(W.encodeGroupClientMessage({ requestId: 0n, ack: { epoch: 4n } }))).toBe('080132020804')
    expect(hex(W.encodeGroupClientMessage({ requestId: 9n, deny: { identity: id, reason: 'no' } })))
      .toBe('08011009' + '423a' + '0a34' + idHex + '12026e6f')
    expect(hex(W.encodeGroupServerMessage({ requestId: 0n, joinWithdrawn: { identity: id } }))).toBe('0801' + '5a36' + '0a34' + idHex)
  })

  it('media', () => {
    expect(hex(W.encodePublishOpen({ stream: 'lobby', owner: id }))).toBe('08011205' + '6c6f626279' + '1a34' + idHex)
    expect(hex(W.encodeSubscribeOpen({ stream: 'lobby', owner: id, subscriberPublicKey: new Uint8Array(32).fill(0x11), relay: false })))
      .toBe('08011205' + '6c6f626279' + '1a20' + '11'.repeat(32) + '2a34' + idHex)
    expect(hex(W.encodeOpenResult({ relayPublicKey: new Uint8Array(0) }))).toBe('0801')
    expect(hex(W.encodeOpenResult({ relayPublicKey: new Uint8Array(0), error: { code: 'NOT_MEMBER', message: '' } }))).toBe('0801120c0a0a4e4f545f4d454d424552')
    expect(hex(W.encodeSubscriberNotice({ keyframeRequest: { track: 0x300 } }))).toBe('0a03088006')
    expect(hex(W.encodePublisherNotice({ keyframeRequest: { track: 0 } }))).toBe('0a00')
  })
})

describe('the docs print these bytes', () => {
  // The docs abbreviate the 52-byte id as "31 32 44 ..." (or shorter); every
  // byte up to that point must be the encoder's.
  it('framing.md', () => {
    const text = doc('framing.md')
    expect(text).toContain('| 327 680 (`MAX_DIRECTORY_FRAME`) | `80 80 14` |')
    for (const line of ['3f ', '08 01 ', '12 05 6c 6f 62 62 79 ', '1a 34 31 32 44 33 4b ...']) expect(text).toContain(line)
  })

  it('control.md', () => {
    const text = doc('control.md')
    const join = hex(W.encodeGroupClientMessage({ requestId: 7n, join: { stream: 'lobby', owner: id, redemption: noRedemption } }))
    const deny = hex(W.encodeGroupClientMessage({ requestId: 9n, deny: { identity: id, reason: 'no' } }))
    const withdrawn = hex(W.encodeGroupServerMessage({ requestId: 0n, joinWithdrawn: { identity: id } }))
    const publish = hex(W.encodePublishOpen({ stream: 'lobby', owner: id }))
    const subscribe = hex(W.encodeSubscribeOpen({ stream: 'lobby', owner: id, subscriberPublicKey: new Uint8Array(32).fill(0x11), relay: false }))
    const lines = [
      spaced(join.slice(0, 12)), spaced(join.slice(12, 26)), `${spaced(join.slice(26, 40))} ...`,
      spaced(deny.slice(0, 12)), `${spaced(deny.slice(12, 26))} ...`, spaced(deny.slice(-8)),
      spaced(withdrawn.slice(0, 8)), `${spaced(withdrawn.slice(8, 22))} ...`,
      `${spaced(publish.slice(0, 28))} ...`,
      `${spaced(subscribe.slice(0, 26))} ... 11`, `${spaced(subscribe.slice(-108, -98))} ...`,
    ]
    for (const line of lines) expect(text, line).toContain(line)
  })
})
