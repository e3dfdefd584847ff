/**
 * KeyPackages (RFC 9420 section 10): generation for a member, validation for
 * a committer or a directory, and the member's private half as bytes so it can
 * be stored or handed to another process until a Welcome arrives.
 *
 * On the wire a KeyPackage is always an MLSMessage with wire format
 * mls_key_package (RFC 9420 section 6), as protocol/directory.proto says.
 */
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey } from 'ts-mls'
import type { CiphersuiteImpl, Extension, KeyPackage, PrivateKeyPackage } from 'ts-mls'
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js'
import { verifyLeafNodeSignatureKeyPackage } from 'ts-mls/leafNode.js'
import { FabricError, MalformedError } from '../errors.js'
import { equalBytes } from './bytes.js'
import { credentialBindsKey, credentialFor, identityOfCredential } from './credentials.js'
import type { MemberIdentity } from './identity.js'
import { checkSize, MAX_KEY_PACKAGE_BYTES, MAX_PRIVATE_STATE_BYTES } from './limits.js'
import { decodeWholeMlsMessage, suiteNumberOf, toFabricError } from './mls-message.js'
import { DEFAULT_CIPHER_SUITE, suiteImpl } from './suite.js'
import { FABRIC_EXTENSION_TYPES } from './admission/extensions.js'

/**
 * Extension type of last_resort (draft-ietf-mls-extensions, IANA "MLS
 * Extension Types" 0x000A): marks a KeyPackage a directory hands out when it
 * has no other, and never consumes.
 */
export const LAST_RESORT_EXTENSION_TYPE = 0x000a

/** Default KeyPackage lifetime, in seconds (28 days). */
export const DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS = 28 * 24 * 3600

/**
 * How far before its creation a KeyPackage claims validity, in seconds, so a
 * committer whose clock runs a little behind still accepts it.
 */
export const KEY_PACKAGE_CLOCK_SKEW_SECONDS = 300

/** Most KeyPackages one `generateKeyPackages` call makes. */
export const MAX_KEY_PACKAGES_PER_BATCH = 256

const PRIVATE_STATE_VERSION = 1

/** Options for generating KeyPackages. */
export interface GenerateKeyPackageOptions {
  /** Current time, ms since the Unix epoch: the lifetime starts here. */
  nowMs: number
  /** MLS cipher suite id; default 1 (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519). */
  cipherSuite?: number
  /** Lifetime after nowMs, in seconds; default 28 days. */
  lifetimeSeconds?: number
}

/** One generated KeyPackage and its private half. */
export interface KeyPackageBundle {
  /** The identity (libp2p peer id) the KeyPackage's credential names. */
  identity: string
  /** MLSMessage(mls_key_package) bytes to publish to the directory. */
  keyPackage: Uint8Array
  /**
   * The private keys (init, leaf HPKE, signature) as opaque bytes; pass them
   * to AvSession.joinFromWelcome together with `keyPackage`. Secret: keep
   * them in the member only, and delete them once used (unless last-resort).
   */
  privateState: Uint8Array
  /** KeyPackageRef (RFC 9420 section 5.2), the name a Welcome uses for it. */
  ref: Uint8Array
  /** True when the KeyPackage carries the last_resort extension. */
  lastResort: boolean
}

/** What a validated KeyPackage says. */
export interface KeyPackageInfo {
  /** libp2p peer id from the basic credential. */
  identity: string
  /** MLS cipher suite id. */
  cipherSuite: number
  /** KeyPackageRef (RFC 9420 section 5.2). */
  ref: Uint8Array
  /** True when it carries the last_resort extension. */
  lastResort: boolean
  /** Validity window, seconds since the Unix epoch, both ends inclusive. */
  notBefore: bigint
  /** See notBefore. */
  notAfter: bigint
  /**
   * Total extension_data bytes of the KeyPackage's extensions and of its leaf
   * node's extensions (type and length prefixes not counted), for a directory
   * to bound: MLS limits them only by the KeyPackage's own size.
   */
  extensionBytes: number
}

/** A validated KeyPackage: what it says, and the decoded structure for ts-mls. */
export interface ValidatedKeyPackage extends KeyPackageInfo {
  /** The decoded ts-mls structure. */
  keyPackage: KeyPackage
}

/**
 * Generates one KeyPackage for `identity` (RFC 9420 section 10), signed with
 * the identity's own Ed25519 key, which is also its leaf signature key
 * (identity.ts), and a fresh init and leaf HPKE key.
 *
 * @throws MalformedError when the peer id is empty or longer than MAX_IDENTITY_BYTES (128) bytes of UTF-8
 * @throws FabricError UNSUPPORTED_SUITE when the suite is unknown, unavailable or not an Ed25519 one
 * @throws FabricError INVALID_STATE when lifetimeSeconds or nowMs is out of range
 */
export async function generateKeyPackage (identity: MemberIdentity, options: GenerateKeyPackageOptions): Promise<KeyPackageBundle> {
  return await generateOne(identity, options, false)
}

/**
 * Generates `count` ordinary KeyPackages, and with `lastResort: true` one more
 * carrying the last_resort extension, for publishing in one batch.
 *
 * @param options.count      1..256 ordinary KeyPackages
 * @param options.lastResort also make a last-resort KeyPackage
 * @returns the ordinary bundles, and the last-resort one when asked for
 * @throws as generateKeyPackage; FabricError INVALID_STATE on a bad count
 */
export async function generateKeyPackages (
  identity: MemberIdentity,
  options: GenerateKeyPackageOptions & { count: number, lastResort?: boolean },
): Promise<{ keyPackages: KeyPackageBundle[], lastResort?: KeyPackageBundle }> {
  const { count } = options
  if (!Number.isInteger(count) || count < 1 || count > MAX_KEY_PACKAGES_PER_BATCH) {
    throw new FabricError('INVALID_STATE', `count ${count} outside 1..${MAX_KEY_PACKAGES_PER_BATCH}`)
  }
  const keyPackages: KeyPackageBundle[] = []
  for (let i = 0; i < count; i++) keyPackages.push(await generateOne(identity, options, false))
  if (options.lastResort !== true) return { keyPackages }
  return { keyPackages, lastResort: await generateOne(identity, options, true) }
}

async function generateOne (identity: MemberIdentity, options: GenerateKeyPackageOptions, lastResort: boolean): Promise<KeyPackageBundle> {
  const { publicPackage, privatePackage, cs } = await generateKeyPackageObjects(identity, options, lastResort)
  return {
    identity: identity.peerId,
    keyPackage: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage }),
    privateState: encodePrivateState(privatePackage),
    ref: await makeKeyPackageRef(publicPackage, cs.hash),
    lastResort,
  }
}

/**
 * Generates a KeyPackage as ts-mls structures, for a member that uses it in
 * the same process (the creator of a group makes its own first leaf so).
 *
 * @throws as generateKeyPackage
 */
export async function generateKeyPackageObjects (
  identity: MemberIdentity,
  options: GenerateKeyPackageOptions,
  lastResort = false,
): Promise<{ publicPackage: KeyPackage, privatePackage: PrivateKeyPackage, cs: CiphersuiteImpl }> {
  const { nowMs } = options
  const suite = options.cipherSuite ?? DEFAULT_CIPHER_SUITE
  const lifetimeSeconds = options.lifetimeSeconds ?? DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new FabricError('INVALID_STATE', `nowMs ${nowMs} is not a time`)
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1) {
    throw new FabricError('INVALID_STATE', `lifetimeSeconds ${lifetimeSeconds} must be a positive integer`)
  }
  const credential = credentialFor(identity.peerId)
  const cs = await suiteImpl(suite)
  const nowSeconds = BigInt(Math.floor(nowMs / 1000))
  const skew = BigInt(KEY_PACKAGE_CLOCK_SKEW_SECONDS)
  const lifetime = {
    notBefore: nowSeconds > skew ? nowSeconds - skew : 0n,
    notAfter: nowSeconds + BigInt(lifetimeSeconds),
  }
  const capabilities = defaultCapabilities()
  // Members declare the non-default extensions they use (RFC 9420 section 7.2),
  // so every KeyPackage lists last_resort, marked or not.
  capabilities.extensions = [...capabilities.extensions, LAST_RESORT_EXTENSION_TYPE, ...FABRIC_EXTENSION_TYPES]
  const extensions: Extension[] = lastResort
    ? [{ extensionType: LAST_RESORT_EXTENSION_TYPE, extensionData: new Uint8Array(0) }]
    : []
  try {
    // The identity's own arrays, not copies: crypto/ed25519.ts caches the
    // signing-key import per array (~430 µs against a ~40 µs signature), and
    // nothing zeroes a signature key (the private state copies it out).
    const signatureKeyPair = { signKey: identity.seed, publicKey: identity.publicKey }
    const generated = await generateKeyPackageWithKey(credential, capabilities, lifetime, extensions, signatureKeyPair, cs)
    return { ...generated, cs }
  } catch (err) {
    throw toFabricError('generating a KeyPackage', err, 'INTERNAL')
  }
}

/**
 * Decodes and checks a KeyPackage as a committer or a directory must before
 * trusting it (RFC 9420 section 10.1): MLSMessage framing, version mls10, a
 * well-formed basic credential whose peer id names the leaf's signature key
 * (identity.ts), both signatures (KeyPackageTBS and the leaf
 * node's LeafNodeTBS), init key distinct from the leaf's encryption key, and
 * when `nowMs` is given the lifetime.
 *
 * @param bytes MLSMessage(mls_key_package), at most 64 KiB
 * @param nowMs current time, ms since the Unix epoch; omit to skip the lifetime check
 * @throws TooLargeError above 64 KiB
 * @throws MalformedError when it does not decode, a check fails, or a signature does not verify
 * @throws FabricError IDENTITY_MISMATCH when the signature key is not the one its peer id names
 * @throws FabricError UNSUPPORTED_SUITE when its suite is not available here (its
 *         signatures cannot be checked then)
 */
export async function validateKeyPackage (bytes: Uint8Array, nowMs?: number): Promise<ValidatedKeyPackage> {
  checkSize('KeyPackage', bytes, MAX_KEY_PACKAGE_BYTES)
  const msg = decodeWholeMlsMessage('KeyPackage', bytes)
  if (msg.wireformat !== 'mls_key_package') throw new MalformedError(`expected an MLSMessage KeyPackage, got ${msg.wireformat}`)
  const kp = msg.keyPackage
  if (kp.version !== 'mls10') throw new MalformedError(`KeyPackage version ${String(kp.version)} is not mls10`)
  if (kp.leafNode.leafNodeSource !== 'key_package') throw new MalformedError('KeyPackage leaf node source is not key_package')
  const cipherSuite = suiteNumberOf(kp.cipherSuite)
  const identity = identityOfCredential(kp.leafNode.credential)
  const cs = await suiteImpl(cipherSuite)
  if (!credentialBindsKey(kp.leafNode.credential, kp.leafNode.signaturePublicKey)) {
    throw new FabricError('IDENTITY_MISMATCH', `KeyPackage signature key is not the key of peer id ${identity}`)
  }
  let signaturesValid: boolean
  try {
    signaturesValid = await verifyLeafNodeSignatureKeyPackage(kp.leafNode, cs.signature) && await verifyKeyPackage(kp, cs.signature)
  } catch (err) {
    // Signature backends throw on keys or signatures of the wrong length.
    throw new MalformedError('KeyPackage signature could not be checked', { cause: err })
  }
  if (!signaturesValid) throw new MalformedError('KeyPackage signature does not verify')
  if (equalBytes(kp.initKey, kp.leafNode.hpkePublicKey)) throw new MalformedError('KeyPackage init key equals its leaf encryption key')
  const { notBefore, notAfter } = kp.leafNode.lifetime
  if (nowMs !== undefined) {
    const now = BigInt(Math.floor(nowMs / 1000))
    if (now < notBefore || now > notAfter) {
      throw new MalformedError(`KeyPackage lifetime ${notBefore}..${notAfter} does not cover now (${now})`)
    }
  }
  return {
    identity,
    cipherSuite,
    ref: await makeKeyPackageRef(kp, cs.hash),
    lastResort: kp.extensions.some(e => e.extensionType === LAST_RESORT_EXTENSION_TYPE),
    notBefore,
    notAfter,
    extensionBytes: [...kp.extensions, ...kp.leafNode.extensions].reduce((n, e) => n + e.extensionData.byteLength, 0),
    keyPackage: kp,
  }
}

/**
 * Serialises the private half of a KeyPackage: a version byte (1), then the
 * init, leaf HPKE and signature private keys, each as a 2-byte big-endian
 * length and the key bytes.
 */
export function encodePrivateState (p: PrivateKeyPackage): Uint8Array {
  const parts = [p.initPrivateKey, p.hpkePrivateKey, p.signaturePrivateKey]
  const out = new Uint8Array(1 + parts.reduce((n, k) => n + 2 + k.length, 0))
  out[0] = PRIVATE_STATE_VERSION
  let o = 1
  for (const k of parts) {
    out[o] = k.length >> 8
    out[o + 1] = k.length & 0xff
    out.set(k, o + 2)
    o += 2 + k.length
  }
  return out
}

/**
 * Parses what encodePrivateState made. The result holds fresh copies.
 *
 * @throws TooLargeError above 4 KiB
 * @throws MalformedError on a wrong version, truncation, trailing bytes or an empty key
 */
export function decodePrivateState (bytes: Uint8Array): PrivateKeyPackage {
  checkSize('KeyPackage private state', bytes, MAX_PRIVATE_STATE_BYTES)
  if (bytes.length < 1 || bytes[0] !== PRIVATE_STATE_VERSION) throw new MalformedError('KeyPackage private state has an unknown version')
  const keys: Uint8Array[] = []
  let o = 1
  for (let i = 0; i < 3; i++) {
    if (o + 2 > bytes.length) throw new MalformedError('KeyPackage private state is truncated')
    const len = (bytes[o]! << 8) | bytes[o + 1]!
    if (len === 0 || o + 2 + len > bytes.length) throw new MalformedError('KeyPackage private state is truncated')
    keys.push(bytes.slice(o + 2, o + 2 + len))
    o += 2 + len
  }
  if (o !== bytes.length) throw new MalformedError('KeyPackage private state has trailing bytes')
  return { initPrivateKey: keys[0]!, hpkePrivateKey: keys[1]!, signaturePrivateKey: keys[2]! }
}
