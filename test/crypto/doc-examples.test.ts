/**
 * The worked examples of protocol/sframe.md section 9 (one chunk on stream
 * OWNER/lobby) and protocol/link-seal.md section 7 (its transit key and link
 * packets), produced by the code and compared with the hex read out of the
 * docs at test time: if one of these fails, the doc or the code is wrong.
 */
import { x25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { nodeBackend } from '../../src/platform/node/backend-node.js'
import { hkdfExpand, hkdfExtract } from '../../src/platform/node/hkdf.js'
import { LinkOpener, LinkSealer } from '../../src/crypto/link-seal.js'
import {
  deriveSFrameKeyMaterial, SFrameSender, sframeKeyLabel, sframeNonce, sframeSaltLabel, sframeSecret, sframeSuite, sframeUnprotect,
} from '../../src/crypto/sframe/index.js'
import { deriveTransitKey } from '../../src/crypto/transit-key.js'
import { encodeKid } from '../../src/session/kid.js'
import { CHUNK_META_LENGTH, encodeChunk, encodeChunkMeta, makeTrack, parseChunk, TrackContext, type ChunkMeta } from '../../src/wire/chunk.js'
import { streamKey, streamTag } from '../../src/wire/stream-tag.js'
import { backends, errorOf, fromHex, hex } from './helpers.js'

const doc = (name: string): string => readFileSync(new URL(`../../protocol/${name}`, import.meta.url), 'utf8')

/** The text from the heading that starts with `from` up to the next `## ` heading. */
function section (text: string, from: string): string {
  const start = text.indexOf(`\n${from}`)
  if (start < 0) throw new Error(`no heading "${from}"`)
  const end = text.indexOf('\n## ', start + 1)
  return text.slice(start, end < 0 ? undefined : end)
}

/** The first fenced block after `marker` in `text`, without its fences. */
function blockAfter (text: string, marker: string): string {
  const at = text.indexOf(marker)
  if (at < 0) throw new Error(`no "${marker}"`)
  const m = /\n```\n([\s\S]*?)\n```/.exec(text.slice(at))
  if (m === null) throw new Error(`no code block after "${marker}"`)
  return m[1]
}

/** One line of a block: bytes (spaces removed; undefined when not hex) and the annotation after two or more spaces. */
interface Line { label: string, hex: string | undefined, note: string }

/**
 * Splits a block into lines. A line that starts in column 0 of a labelled
 * block begins with its label; indented lines continue the label above.
 * Bytes and annotation are separated by two or more spaces; single spaces
 * inside the bytes are dropped.
 */
function lines (block: string, labelled: boolean): Line[] {
  const out: Line[] = []
  let label = ''
  for (const raw of block.split('\n')) {
    if (raw.trim() === '') continue
    let rest = raw
    if (labelled && !/^\s/.test(raw)) {
      const m = /^(\S.*?)(?:\s{2,}|$)/.exec(raw)
      label = m === null ? '' : m[1]
      rest = raw.slice(m === null ? 0 : m[0].length)
    }
    const [bytes, ...notes] = rest.trim().split(/\s{2,}/)
    const h = bytes.replace(/ /g, '')
    out.push({ label, hex: /^([0-9a-f]{2})+$/.test(h) ? h : undefined, note: notes.join('  ') })
  }
  return out
}

function bytesOf (l: Line): string {
  if (l.hex === undefined) throw new Error(`not hex bytes in line ${JSON.stringify(l)}`)
  return l.hex
}

/** All bytes of an unlabelled block, joined. */
const blockHex = (block: string): string => lines(block, false).map(bytesOf).join('')

/** The bytes of `label` in a labelled block (its continuation lines included). */
function field (block: string, label: string): string {
  const found = lines(block, true).filter((l) => l.label === label)
  if (found.length === 0) throw new Error(`no field "${label}"`)
  return found.map(bytesOf).join('')
}

/** Every annotation in quotes is the ASCII of the bytes on its line. */
function expectQuotedNotesMatch (block: string, labelled: boolean): void {
  for (const l of lines(block, labelled)) {
    const m = /^"([^"]*)"/.exec(l.note)
    if (m !== null) expect(Buffer.from(bytesOf(l), 'hex').toString('latin1'), l.note).toBe(m[1])
  }
}

/** Text with every run of whitespace made one space, so re-wrapping a paragraph does not matter. */
const prose = (text: string): string => text.replace(/\s+/g, ' ')

/** A backtick-quoted hex string right after `before` in the prose. */
function proseHex (text: string, before: string): string {
  const flat = prose(text)
  const at = flat.indexOf(before)
  if (at < 0) throw new Error(`no "${before}"`)
  const m = /^\s*`([0-9a-f]+)`/.exec(flat.slice(at + before.length))
  if (m === null) throw new Error(`no hex after "${before}"`)
  return m[1]
}

// The example's fixed inputs, as the prose of the two sections states them.
const OWNER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const STREAM = streamKey(OWNER, 'lobby')
const BASE_KEY = fromHex('000102030405060708090a0b0c0d0e0f')
const SUITE = 0x0004
const KID = encodeKid({ context: TrackContext.video, senderLeafIndex: 1, epoch: 3n })
const FRAME = new TextEncoder().encode('fabric')
const META: ChunkMeta = {
  keyframe: true,
  discardable: false,
  spatialLayer: 0,
  temporalLayer: 0,
  streamTag: streamTag(STREAM),
  track: makeTrack(1, TrackContext.video),
  sequence: 0,
  timestampUs: 1_700_000_000_000_000n,
}
// RFC 7748 section 6.1: Alice is the subscriber, Bob the relay.
const SUBSCRIBER_PRIVATE = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
const RELAY_PRIVATE = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')

const sframeDoc = section(doc('sframe.md'), '## 9. Worked example')
const linkDoc = section(doc('link-seal.md'), '## 7. Worked example')

/** The chunk of sframe.md section 9, built by the encoders and SFrameSender. */
function buildChunk (backend = nodeBackend): { meta: Uint8Array, sframe: Uint8Array, chunk: Uint8Array, sender: SFrameSender } {
  const meta = encodeChunkMeta(META)
  const sender = new SFrameSender({ backend, suite: SUITE, kid: KID, baseKey: BASE_KEY })
  const sframe = sender.protect(meta, FRAME)
  return { meta, sframe, chunk: encodeChunk(META, sframe), sender }
}

describe('protocol/sframe.md section 9', () => {
  it('names the owner and the inputs the test uses', () => {
    expect(prose(sframeDoc)).toContain(`\`OWNER\` = \`${OWNER}\``)
    expect(prose(sframeDoc)).toContain('stream `OWNER/lobby`')
    expect(KID).toBe(0x103n)
    const keys = blockAfter(sframeDoc, 'implementation (Python')
    expect(field(keys, 'base_key')).toBe(hex(BASE_KEY))
    expect(keys).toMatch(/^KID\s+0x103\s+CTR 0$/m)
  })

  it.each(backends.map((b) => [b === nodeBackend ? 'node' : 'noble', b] as const))('key schedule (%s backend)', (_, backend) => {
    const keys = blockAfter(sframeDoc, 'implementation (Python')
    const suite = sframeSuite(SUITE)
    const material = deriveSFrameKeyMaterial(backend, suite, KID, BASE_KEY)
    expect(hex(sframeKeyLabel(KID, SUITE))).toBe(field(keys, 'key_label'))
    expect(hex(sframeSaltLabel(KID, SUITE))).toBe(field(keys, 'salt_label'))
    expect(hex(sframeSecret(backend, suite, BASE_KEY))).toBe(field(keys, 'sframe_secret'))
    expect(hex(material.key)).toBe(field(keys, 'sframe_key'))
    expect(hex(material.salt)).toBe(field(keys, 'sframe_salt'))
    expect(hex(sframeNonce(material.salt, 0n))).toBe(field(keys, 'nonce (CTR 0)'))
    expect(hex(sframeNonce(material.salt, 1n))).toBe(field(keys, 'nonce (CTR 1)'))
  })

  it('metadata: 28 bytes with the tag of OWNER/lobby', () => {
    const block = blockAfter(sframeDoc, 'Metadata (28 bytes')
    const { meta } = buildChunk()
    expect(meta.byteLength).toBe(CHUNK_META_LENGTH)
    expect(blockHex(block)).toBe(hex(meta))
    const tagLine = lines(block, false).find((l) => l.note === 'stream_tag("OWNER/lobby")')
    expect(tagLine?.hex).toBe(META.streamTag.toString(16).padStart(16, '0'))
    expect(tagLine?.hex).toBe('5e2e0677154fe3c8') // protocol/chunk.md "Stream tag"
  })

  it.each(backends.map((b) => [b === nodeBackend ? 'node' : 'noble', b] as const))('protection and the published chunk (%s backend)', (_, backend) => {
    const block = blockAfter(sframeDoc, 'Protection:')
    const { meta, sframe, chunk, sender } = buildChunk(backend)
    expectQuotedNotesMatch(block, true)
    expect(field(block, 'frame')).toBe(hex(FRAME))
    expect(field(block, 'header')).toBe('900103')
    expect(field(block, 'AAD')).toBe('900103' + hex(meta))
    expect(field(block, 'sframe')).toBe(hex(sframe))
    const parts = lines(block, true).filter((l) => l.label === 'sframe')
    expect(parts.map((l) => [l.note, bytesOf(l).length / 2])).toEqual([['header', 3], ['ciphertext (6 bytes)', 6], ['tag (16 bytes)', 16]])

    const published = blockAfter(sframeDoc, 'The chunk as published (53 bytes)')
    expect(chunk.byteLength).toBe(53)
    expect(blockHex(published)).toBe(hex(chunk))
    expect(hex(parseChunk(chunk, META.streamTag).payload)).toBe(hex(sframe))

    // It opens again, and the next frame would begin 91 01 03 (CTR 1).
    const material = deriveSFrameKeyMaterial(backend, sframeSuite(SUITE), KID, BASE_KEY)
    expect(hex(sframeUnprotect(backend, material, meta, sframe).plaintext)).toBe(hex(FRAME))
    expect(prose(sframeDoc)).toContain('begin `91 01 03`')
    expect(hex(sender.protect(meta, FRAME).subarray(0, 3))).toBe('910103')
  })
})

describe('protocol/link-seal.md section 7', () => {
  const keys = blockAfter(linkDoc, 'implementation (Python')
  const subscriberPublic = x25519.getPublicKey(SUBSCRIBER_PRIVATE)
  const relayPublic = x25519.getPublicKey(RELAY_PRIVATE)
  const common = { subscriberPublicKey: subscriberPublic, relayPublicKey: relayPublic, stream: STREAM }
  const atRelay = deriveTransitKey({ ...common, privateKey: RELAY_PRIVATE, peerPublicKey: subscriberPublic })

  it('names the owner, and the chunk is the one of sframe.md section 9', () => {
    expect(prose(linkDoc)).toContain(`\`OWNER\` = \`${OWNER}\``)
    expect(prose(linkDoc)).toContain('the stream is `OWNER/lobby`')
    expect(prose(linkDoc)).toContain('53-byte chunk of [sframe.md](sframe.md) section 9')
    const chunk = blockHex(blockAfter(linkDoc, 'The chunk:'))
    expect(chunk).toBe(hex(buildChunk().chunk))
    expect(chunk).toBe(blockHex(blockAfter(sframeDoc, 'The chunk as published')))
  })

  it('keys and shared secret (RFC 7748 section 6.1)', () => {
    expect(field(keys, 'subscriber private')).toBe(hex(SUBSCRIBER_PRIVATE))
    expect(field(keys, 'relay private')).toBe(hex(RELAY_PRIVATE))
    expect(field(keys, 'subscriber public')).toBe(hex(subscriberPublic))
    expect(field(keys, 'relay public')).toBe(hex(relayPublic))
    expect(field(keys, 'shared')).toBe(hex(x25519.getSharedSecret(SUBSCRIBER_PRIVATE, relayPublic)))
    expect(field(keys, 'shared')).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742')
  })

  it('info, PRK, key and salt: what deriveTransitKey gives on both sides', () => {
    const infoLabel = lines(keys, true).map((l) => l.label).find((l) => l.startsWith('info ('))
    const info = field(keys, infoLabel ?? 'info')
    expect(infoLabel).toBe(`info (${info.length / 2} bytes)`)
    expect(info).toBe(hex(Buffer.concat([Buffer.from('fabric/link/1'), subscriberPublic, relayPublic, Buffer.from(STREAM, 'utf8')])))
    expect(info.length / 2).toBe(13 + 32 + 32 + 58)
    expectQuotedNotesMatch(keys, true)
    const addressNotes = lines(keys, true).filter((l) => l.label === infoLabel).slice(3).map((l) => /^"([^"]*)"/.exec(l.note)?.[1]).join('')
    expect(addressNotes).toBe(STREAM)

    const shared = fromHex(field(keys, 'shared'))
    const prk = hkdfExtract('sha256', new TextEncoder().encode('fabric link seal v1'), shared)
    expect(hex(prk)).toBe(field(keys, 'PRK'))
    const okm = hkdfExpand('sha256', fromHex(field(keys, 'PRK')), fromHex(info), 28)
    const atSubscriber = deriveTransitKey({ ...common, privateKey: SUBSCRIBER_PRIVATE, peerPublicKey: relayPublic })
    for (const transit of [atRelay, atSubscriber]) {
      expect(hex(transit.key)).toBe(field(keys, 'key'))
      expect(hex(transit.salt)).toBe(field(keys, 'salt'))
      expect(hex(transit.key) + hex(transit.salt)).toBe(hex(okm))
    }
  })

  it('sealed with sequences 0, 1 and 0x0102030405', () => {
    const { chunk } = buildChunk()
    const sealer = new LinkSealer(atRelay)
    const seq0 = sealer.seal(chunk)
    const seq1 = sealer.seal(chunk)
    const seqX = new LinkSealer(atRelay, { firstSequence: 0x0102030405n }).seal(chunk)

    const block0 = blockAfter(linkDoc, 'Sealed with sequence 0')
    expect(prose(linkDoc)).toContain('the salt, XOR 0), 81 bytes:')
    expect(seq0.byteLength).toBe(81)
    expect(blockHex(block0)).toBe(hex(seq0))
    expect(lines(block0, false).map((l) => [bytesOf(l).length / 2, l.note.split(':')[0]]))
      .toEqual([[12, 'header'], [28, ''], [25, 'ciphertext (53 bytes)'], [16, 'tag (16 bytes)']])
    expect(blockHex(blockAfter(linkDoc, 'The same chunk sealed with sequence 1'))).toBe(hex(seq1))
    expect(blockHex(blockAfter(linkDoc, 'and with sequence `0x0102030405`'))).toBe(hex(seqX))

    // The nonces in the prose: salt XOR (00000000 || sequence).
    const nonce = (sequence: bigint): string => {
      const n = Buffer.from(atRelay.salt)
      n.writeBigUInt64BE(n.readBigUInt64BE(4) ^ sequence, 4)
      return n.toString('hex')
    }
    expect(proseHex(linkDoc, 'Sealed with sequence 0: nonce')).toBe(nonce(0n))
    expect(proseHex(linkDoc, 'sealed with sequence 1 (nonce')).toBe(nonce(1n))
    expect(proseHex(linkDoc, '`0x0102030405` (nonce')).toBe(nonce(0x0102030405n))
    const salt = hex(atRelay.salt)
    const xor = (a: string, b: string): string => (parseInt(a, 16) ^ parseInt(b, 16)).toString(16).padStart(8, '0')
    expect(prose(linkDoc)).toContain(`\`${salt.slice(16)} XOR 02030405\` = \`${xor(salt.slice(16), '02030405')}\``)
    expect(prose(linkDoc)).toContain(`\`${salt.slice(8, 16)} XOR 00000001\` = \`${xor(salt.slice(8, 16), '00000001')}\``)
  })

  it('opens; a second open is REPLAY, a flipped bit AUTH_FAILED with the window unchanged', () => {
    const sealed = fromHex(blockHex(blockAfter(linkDoc, 'Sealed with sequence 0')))
    const atSubscriber = deriveTransitKey({ ...common, privateKey: SUBSCRIBER_PRIVATE, peerPublicKey: relayPublic })
    const opener = new LinkOpener(atSubscriber)
    const flipped = sealed.slice()
    flipped[40] ^= 0x01
    expect((errorOf(() => opener.open(flipped)) as { code?: string }).code).toBe('AUTH_FAILED')
    expect(opener.highestSequence).toBeUndefined()
    expect(hex(opener.open(sealed))).toBe(blockHex(blockAfter(linkDoc, 'The chunk:')))
    expect((errorOf(() => opener.open(sealed)) as { code?: string }).code).toBe('REPLAY')
    expect(opener.highestSequence).toBe(0n)
  })
})
