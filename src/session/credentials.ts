/**
 * Credentials (RFC 9420 section 5.3): a member is named by a basic credential
 * whose identity is its libp2p peer id string, UTF-8 encoded, and its leaf's
 * signature key must be the Ed25519 key that peer id names (identity.ts).
 * Every member checks that binding for every leaf it meets, so no node or
 * member can put a leaf in the tree that speaks for another peer.
 */
import type { AuthenticationService, ClientConfig, Credential, LeafNode } from 'ts-mls'
import { defaultClientConfig } from 'ts-mls/clientConfig.js'
import { MalformedError } from '../errors.js'
import { peerIdHasKey } from './identity.js'
import { MAX_IDENTITY_BYTES } from './limits.js'

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

/**
 * The basic credential for `identity`.
 *
 * @param identity libp2p peer id string; 1..MAX_IDENTITY_BYTES bytes as UTF-8
 * @throws MalformedError when identity is empty or too long
 */
export function credentialFor (identity: string): Credential {
  const bytes = utf8Encoder.encode(identity)
  if (bytes.length === 0 || bytes.length > MAX_IDENTITY_BYTES) {
    throw new MalformedError(`identity must be 1..${MAX_IDENTITY_BYTES} bytes of UTF-8, got ${bytes.length}`)
  }
  return { credentialType: 'basic', identity: bytes }
}

/**
 * The identity string a credential names.
 *
 * @throws MalformedError when the credential is not basic, or its identity is
 *         empty, longer than MAX_IDENTITY_BYTES, or not valid UTF-8
 */
export function identityOfCredential (credential: Credential): string {
  if (credential.credentialType !== 'basic') {
    throw new MalformedError(`credential type ${String(credential.credentialType)} is not basic`)
  }
  const bytes = credential.identity
  if (bytes.length === 0 || bytes.length > MAX_IDENTITY_BYTES) {
    throw new MalformedError(`credential identity must be 1..${MAX_IDENTITY_BYTES} bytes, got ${bytes.length}`)
  }
  try {
    return utf8Decoder.decode(bytes)
  } catch (err) {
    throw new MalformedError('credential identity is not valid UTF-8', { cause: err })
  }
}

/** The identity string of a leaf node's credential (throws as identityOfCredential). */
export function identityOfLeaf (leaf: LeafNode): string {
  return identityOfCredential(leaf.credential)
}

/**
 * True when `signaturePublicKey` is the key the credential's peer id names,
 * the binding every fabric leaf must satisfy; false for anything malformed.
 */
export function credentialBindsKey (credential: Credential, signaturePublicKey: Uint8Array): boolean {
  let identity: string
  try {
    identity = identityOfCredential(credential)
  } catch {
    return false
  }
  return peerIdHasKey(identity, signaturePublicKey)
}

/**
 * The AuthenticationService (RFC 9420 section 5.3.1) ts-mls consults for
 * every credential it meets (every leaf of a Welcome's tree, every Add, every
 * Commit's sender): a well-formed basic credential whose peer id names the
 * leaf's signature key.
 */
export const fabricAuthService: AuthenticationService = {
  async validateCredential (credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
    return credentialBindsKey(credential, signaturePublicKey)
  },
}

/** The ts-mls client configuration every fabric session uses. */
export const fabricClientConfig: ClientConfig = {
  ...defaultClientConfig,
  authService: fabricAuthService,
  // ts-mls keeps past epochs' secret trees to decrypt late MLS application
  // messages; fabric sends none (media goes under SFrame), so keep one only.
  keyRetentionConfig: { ...defaultClientConfig.keyRetentionConfig, retainKeysForEpochs: 1 },
}
