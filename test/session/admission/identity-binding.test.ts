/**
 * Identity binding: a member's MLS signature key is the Ed25519 key its peer
 * id names, and nothing that breaks that gets into a group: not a KeyPackage
 * (validateKeyPackage, prepareAdd), not a leaf in a Commit or in a Welcome
 * built with ts-mls directly.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { createGroup } from 'ts-mls'
import { defaultClientConfig } from 'ts-mls/clientConfig.js'
import { describe, expect, it } from 'vitest'
import { admissionExtensions, emptyLedger, signPolicy } from '../../../src/session/admission/index.js'
import { AvSession } from '../../../src/session/av-session.js'
import { inspectKeyPackage } from '../../../src/session/inspect.js'
import {
  generateIdentity, identityFromPrivateKey, identityFromSeed, peerIdHasKey, privateKeyOfIdentity, publicKeyOfPeerId, publicKeyOfSeed,
  signWithDomain, verifyByPeer, verifyWithDomain,
} from '../../../src/session/identity.js'
import { generateKeyPackage, validateKeyPackage } from '../../../src/session/key-package.js'
import { suiteImpl } from '../../../src/session/suite.js'
import { streamGroupId, streamKey } from '../../../src/wire/stream-tag.js'
import { expectCode, expectCodeSync, hex, makeJoiner, peer, peerId, STREAM, wire } from '../helpers.js'
import { expectRefusedByAll, groupWithRogue } from './fixture.js'
import { addOf, keyPackageOf, RawMember, rawKeyPackage } from './raw.js'

const now = Date.now()

describe('identities', () => {
  it('are deterministic per seed, and a peer id names exactly its key (property)', async () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
      const x = identityFromSeed(a)
      expect(identityFromSeed(Uint8Array.from(a))).toEqual(x)
      expect(x.peerId.startsWith('12D3KooW')).toBe(true)
      expect(hex(publicKeyOfPeerId(x.peerId))).toBe(hex(x.publicKey))
      expect(hex(publicKeyOfSeed(a))).toBe(hex(x.publicKey))
      expect(identityFromPrivateKey(privateKeyOfIdentity(x))).toEqual(x)
      expect(peerIdHasKey(x.peerId, x.publicKey)).toBe(true)
      const y = identityFromSeed(b)
      if (hex(a) !== hex(b)) {
        expect(y.peerId).not.toBe(x.peerId)
        expect(peerIdHasKey(x.peerId, y.publicKey)).toBe(false)
      }
    }), { numRuns: 50 })
    await expect(generateIdentity()).resolves.toMatchObject({ peerId: expect.stringMatching(/^12D3KooW/) })
  })

  it('refuses seeds, keys and peer ids that cannot name an Ed25519 member', async () => {
    expectCodeSync(() => identityFromSeed(new Uint8Array(31)), 'MALFORMED')
    const secp = await generateKeyPair('secp256k1')
    expectCodeSync(() => identityFromPrivateKey(secp), 'UNSUPPORTED_SUITE')
    expectCodeSync(() => publicKeyOfPeerId(peerIdFromPrivateKey(secp).toString()), 'MALFORMED')
    // The same peer id spelt as a CID is not the canonical string the wire compares.
    const cid = peerIdFromString(peerId(1)).toCID().toString()
    expect(cid).not.toBe(peerId(1))
    expectCodeSync(() => publicKeyOfPeerId(cid), 'MALFORMED')
    expect(peerIdHasKey(cid, peer(1).publicKey)).toBe(false)
    expectCodeSync(() => publicKeyOfPeerId('alice'), 'MALFORMED')
    expectCodeSync(() => publicKeyOfPeerId(''), 'MALFORMED')
    expect(peerIdHasKey('alice', peer(1).publicKey)).toBe(false)
    expect(peerIdHasKey(peerId(1), peer(1).publicKey.subarray(0, 31))).toBe(false)
  })

  it('signatures are bound to their domain and their signer', () => {
    const content = new TextEncoder().encode('content')
    const sig = signWithDomain(peer(1).seed, 'fabric admission policy v1', content)
    expect(verifyByPeer(peerId(1), 'fabric admission policy v1', content, sig)).toBe(true)
    expect(verifyByPeer(peerId(1), 'fabric invitation v1', content, sig)).toBe(false)
    expect(verifyByPeer(peerId(1), 'fabric invitation redemption v1', content, sig)).toBe(false)
    expect(verifyByPeer(peerId(2), 'fabric admission policy v1', content, sig)).toBe(false)
    expect(verifyByPeer('not-a-peer', 'fabric admission policy v1', content, sig)).toBe(false)
    expect(verifyWithDomain(peer(1).publicKey, 'fabric admission policy v1', Uint8Array.of(...content, 0), sig)).toBe(false)
  })
})

describe('KeyPackages that speak for someone else', () => {
  it('a KeyPackage naming one peer but signed with another key is refused by validateKeyPackage and prepareAdd (IDENTITY_MISMATCH)', async () => {
    const owner = await AvSession.create({ identity: peer(0), stream: STREAM, admission: { admission: 'open' }, nowMs: now })
    // Built with ts-mls directly: credential peer 1, keys of peer 2 (signatures valid under peer 2's key).
    const impostors = [
      (await rawKeyPackage(peer(2), now, peerId(1))).bytes,
      (await rawKeyPackage(peer(2), now, 'alice')).bytes,
      (await generateKeyPackage({ ...peer(2), peerId: peerId(1) }, { nowMs: now })).keyPackage,
    ]
    for (const kp of impostors) {
      await expectCode(validateKeyPackage(kp, now), 'IDENTITY_MISMATCH')
      await expectCode(inspectKeyPackage(kp), 'IDENTITY_MISMATCH')
      await expectCode(owner.prepareAdd([kp], { nowMs: now }), 'IDENTITY_MISMATCH')
    }
    expect(owner.pending).toBeUndefined()
    // The genuine ones pass.
    const genuine = await rawKeyPackage(peer(1), now)
    expect((await validateKeyPackage(genuine.bytes, now)).identity).toBe(peerId(1))
    expect((await owner.prepareAdd([genuine.bytes], { nowMs: now })).addedIdentities).toEqual([peerId(1)])
  })

  it('a Commit adding such a leaf, made with ts-mls, is refused by every member, which keeps its epoch', async () => {
    const f = await groupWithRogue({ rules: { admission: 'open' }, members: [1, 2], rogue: 10, nowMs: now })
    const impostor = await rawKeyPackage(peer(4), now, peerId(3))
    // ts-mls refuses the credential through fabric's AuthenticationService.
    await expectRefusedByAll(f.honest, (await f.rogue.commit([addOf(impostor.publicPackage)])).commit, ['MALFORMED'], now)
    // With a genuine leaf beside it, all the same.
    const genuine = await rawKeyPackage(peer(5), now)
    await expectRefusedByAll(f.honest, (await f.rogue.commit([addOf(genuine.publicPackage), addOf(impostor.publicPackage)])).commit, ['MALFORMED'], now)
    // A genuine one alone is taken (the stream is open).
    const ok = await f.rogue.commit([addOf(genuine.publicPackage)])
    for (const s of f.honest) expect((await s.processCommit(wire(ok.commit), now)).added).toEqual([peerId(5)])
  })

  it('a Welcome whose tree holds such a leaf, made with ts-mls, is refused by the joiner', async () => {
    // The owner runs ts-mls directly and adds bob and an impostor in one Commit.
    const raw = await RawMember.createGroup(peer(0), STREAM, { admission: 'open' }, now)
    const bob = await makeJoiner(1, now)
    const impostor = await rawKeyPackage(peer(4), now, peerId(3))
    const c = await raw.commit([addOf(keyPackageOf(bob.keyPackage)), addOf(impostor.publicPackage)])
    await expectCode(bob.join(c.welcome!, now), 'MALFORMED')
    // The same group without the impostor is fine.
    const good = await raw.commit([addOf(keyPackageOf(bob.keyPackage))])
    const s = await bob.join(good.welcome!, now)
    expect(s.members().map((m) => m.identity)).toEqual([peerId(0), peerId(1)])
  })

  it('a group whose creator leaf speaks for the owner with another key is refused by the joiner', async () => {
    // Creator leaf: credential peer 0 (the owner), keys of peer 7; the policy is the owner's real one.
    const cs = await suiteImpl(1)
    const leaf = await rawKeyPackage(peer(7), now, peerId(0))
    const state = await createGroup(streamGroupId(streamKey(peerId(0), STREAM)), leaf.publicPackage, leaf.privatePackage,
      admissionExtensions(signPolicy(peer(0), STREAM, { admission: 'open' }, 0n).bytes, emptyLedger().bytes), cs, defaultClientConfig)
    const raw = new RawMember(state, cs)
    const bob = await makeJoiner(1, now)
    const c = await raw.commit([addOf(keyPackageOf(bob.keyPackage))])
    await expectCode(bob.join(c.welcome!, now), 'MALFORMED')
  })
})
