import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MalformedError, TooLargeError } from '../../src/errors.js'
import { validateIdentity } from '../../src/wire/identity.js'
import { streamTag, validateStreamName } from '../../src/wire/stream-tag.js'
import { identity, onlyFabricErrors, streamName } from './arbitraries.js'

describe('streamTag', () => {
  // Expected values from `printf 'fabric stream v1\0NAME' | openssl dgst -sha256`, first 8 bytes.
  it('matches independently computed SHA-256 prefixes', () => {
    expect(streamTag('lobby')).toBe(0x18dffd5343b661dbn)
    expect(streamTag('demo-1')).toBe(0x41fc9313afb131a9n)
    expect(streamTag('A')).toBe(0x478e569323b29231n)
  })

  it('is a deterministic u64 for every valid name', () => {
    fc.assert(fc.property(streamName, name => {
      const t = streamTag(name)
      expect(t).toBe(streamTag(name))
      expect(BigInt.asUintN(64, t)).toBe(t)
    }))
  })

  it('refuses invalid names', () => {
    expect(() => streamTag('')).toThrow(MalformedError)
    expect(() => streamTag('a b')).toThrow(MalformedError)
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
