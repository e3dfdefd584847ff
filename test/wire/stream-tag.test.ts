import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MalformedError, TooLargeError } from '../../src/errors.js'
import { validateIdentity } from '../../src/wire/identity.js'
import { parseStreamKey, streamGroupId, streamKey, streamTag, validateStreamName } from '../../src/wire/stream-tag.js'
import { identity, onlyFabricErrors, streamName } from './arbitraries.js'

const OWNER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

describe('streamTag', () => {
  // Expected values from `printf 'fabric stream v2\0OWNER/NAME' | openssl dgst -sha256`, first 8 bytes (protocol/chunk.md).
  it('matches independently computed SHA-256 prefixes', () => {
    expect(streamTag(`${OWNER}/lobby`)).toBe(0x5e2e0677154fe3c8n)
    expect(streamTag(`${OWNER}/demo-1`)).toBe(0xc4deb389e849145bn)
    expect(streamTag('a/A')).toBe(0xb540bd6503993e4dn)
  })

  it('is a deterministic u64 for every valid address, and differs between owners of one name', () => {
    fc.assert(fc.property(identity, identity, streamName, (a, b, name) => {
      const t = streamTag(streamKey(a, name))
      expect(t).toBe(streamTag(streamKey(a, name)))
      expect(BigInt.asUintN(64, t)).toBe(t)
      if (a !== b) expect(streamTag(streamKey(b, name))).not.toBe(t)
    }))
  })

  it('refuses invalid addresses, a bare name among them', () => {
    for (const bad of ['', 'lobby', '/lobby', `${OWNER}/`, `${OWNER}/a b`, 'a-b/lobby']) {
      expect(() => streamTag(bad), bad).toThrow(MalformedError)
    }
  })
})

describe('stream addresses', () => {
  it('join and split owner and name', () => {
    fc.assert(fc.property(identity, streamName, (owner, name) => {
      expect(parseStreamKey(streamKey(owner, name))).toEqual({ owner, name })
    }))
  })

  // Expected from `printf 'fabric group v1\0OWNER/lobby' | openssl dgst -sha256` (protocol/admission.md).
  it('give the group id as an independently computed SHA-256', () => {
    expect(Buffer.from(streamGroupId(`${OWNER}/lobby`)).toString('hex')).toBe('9a7480440186ce562e56478e660baf982e2e25cb3c426be811c9652ff85ab3f9')
  })
})

describe('validateStreamName', () => {
  it('accepts the charset at both length extremes', () => {
    validateStreamName('a')
    validateStreamName('Z9._-'.padEnd(128, 'x'))
  })

  it('refuses empty, a leading punctuation mark, and characters outside the set', () => {
    for (const bad of ['', '.', '..', '-rf', '_x', 'a b', 'a/b', 'é', 'a\u0000', 'a\n', '\uD800']) {
      expect(() => validateStreamName(bad), JSON.stringify(bad)).toThrow(MalformedError)
    }
    expect(() => validateStreamName(42 as unknown as string)).toThrow(MalformedError)
  })

  it('refuses more than 128 characters with TooLargeError', () => {
    expect(() => validateStreamName('a'.repeat(129))).toThrow(TooLargeError)
  })

  it('throws only FabricErrors on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), s => { onlyFabricErrors(() => validateStreamName(s)) }))
  })
})

describe('validateIdentity', () => {
  it('accepts peer-id shaped strings up to 128 characters', () => {
    validateIdentity('12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN')
    fc.assert(fc.property(identity, id => { validateIdentity(id) }))
  })

  it('refuses empty, non-alphanumeric and oversize identities', () => {
    for (const bad of ['', 'a-b', 'a b', 'ä', '12D3/']) expect(() => validateIdentity(bad)).toThrow(MalformedError)
    expect(() => validateIdentity('a'.repeat(129))).toThrow(TooLargeError)
  })
})
