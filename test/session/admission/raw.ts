/**
 * Raw ts-mls members for the admission tests: they hold a ClientState of
 * their own, made and advanced with ts-mls directly (with ts-mls's default
 * client configuration, which accepts any credential), so they can make the
 * Commits and Welcomes an honest AvSession never would: a rogue committer.
 */
import {
  createCommit, createGroup, decodeMlsMessage, defaultCapabilities, emptyPskIndex, encodeMlsMessage, generateKeyPackageWithKey,
  joinGroup, makePskIndex, processPublicMessage, type CiphersuiteImpl, type ClientState, type Extension, type KeyPackage,
  type PrivateKeyPackage, type Proposal,
} from 'ts-mls'
import { defaultClientConfig } from 'ts-mls/clientConfig.js'
import { admissionExtensions, emptyLedger, FABRIC_EXTENSION_TYPES, signPolicy, type AdmissionRules } from '../../../src/session/admission/index.js'
import { credentialFor } from '../../../src/session/credentials.js'
import type { MemberIdentity } from '../../../src/session/identity.js'
import { LAST_RESORT_EXTENSION_TYPE } from '../../../src/session/key-package.js'
import { suiteImpl } from '../../../src/session/suite.js'
import { streamGroupId, streamKey } from '../../../src/wire/stream-tag.js'

/** A KeyPackage made with ts-mls directly, its encoding and its private half. */
export interface RawKeyPackage {
  publicPackage: KeyPackage
  privatePackage: PrivateKeyPackage
  /** MLSMessage(mls_key_package) bytes. */
  bytes: Uint8Array
}

/**
 * A KeyPackage whose credential names `named` (default: the signer itself)
 * and that is signed with `signer`'s key, with the capabilities fabric's
 * own KeyPackages list.
 */
export async function rawKeyPackage (signer: MemberIdentity, nowMs: number, named: string = signer.peerId): Promise<RawKeyPackage> {
  const cs = await suiteImpl(1)
  const capabilities = defaultCapabilities()
  capabilities.extensions = [...capabilities.extensions, LAST_RESORT_EXTENSION_TYPE, ...FABRIC_EXTENSION_TYPES]
  const now = BigInt(Math.floor(nowMs / 1000))
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    credentialFor(named), capabilities, { notBefore: now - 300n, notAfter: now + 86_400n }, [],
    { signKey: Uint8Array.from(signer.seed), publicKey: Uint8Array.from(signer.publicKey) }, cs,
  )
  return { publicPackage, privatePackage, bytes: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage }) }
}

/** The KeyPackage of MLSMessage bytes (fabric's generateKeyPackage output, say). */
export function keyPackageOf (bytes: Uint8Array): KeyPackage {
  const msg = decodeMlsMessage(bytes, 0)![0]
  if (msg.wireformat !== 'mls_key_package') throw new Error('not a KeyPackage')
  return msg.keyPackage
}

/** What a raw Commit produced, as bytes. */
export interface RawCommit {
  commit: Uint8Array
  welcome?: Uint8Array
  newState: ClientState
}

/** A member that runs ts-mls directly. */
export class RawMember {
  state: ClientState
  readonly cs: CiphersuiteImpl

  constructor (state: ClientState, cs: CiphersuiteImpl) {
    this.state = state
    this.cs = cs
  }

  /**
   * Creates the group of `owner`'s stream as AvSession.create would (same
   * group id, same admission extensions), or with the extensions given.
   */
  static async createGroup (owner: MemberIdentity, stream: string, rules: AdmissionRules, nowMs: number, extensions?: Extension[]): Promise<RawMember> {
    const cs = await suiteImpl(1)
    const kp = await rawKeyPackage(owner, nowMs)
    const ext = extensions ?? admissionExtensions(signPolicy(owner, stream, rules, 0n).bytes, emptyLedger().bytes)
    const state = await createGroup(streamGroupId(streamKey(owner.peerId, stream)), kp.publicPackage, kp.privatePackage, ext, cs, defaultClientConfig)
    return new RawMember(state, cs)
  }

  /** Joins from Welcome bytes with a raw KeyPackage. */
  static async join (welcome: Uint8Array, kp: RawKeyPackage): Promise<RawMember> {
    const cs = await suiteImpl(1)
    const msg = decodeMlsMessage(welcome, 0)![0]
    if (msg.wireformat !== 'mls_welcome') throw new Error('not a Welcome')
    const state = await joinGroup(msg.welcome, kp.publicPackage, kp.privatePackage, emptyPskIndex, cs, undefined, undefined, defaultClientConfig)
    return new RawMember(state, cs)
  }

  get epoch (): bigint {
    return this.state.groupContext.epoch
  }

  get extensions (): Extension[] {
    return this.state.groupContext.extensions
  }

  /** A Commit of `proposals` from the current state; the state does not move (call adopt). */
  async commit (proposals: Proposal[]): Promise<RawCommit> {
    const r = await createCommit({ state: this.state, cipherSuite: this.cs }, { extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: true })
    return {
      commit: encodeMlsMessage(r.commit),
      ...(r.welcome === undefined ? {} : { welcome: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: r.welcome }) }),
      newState: r.newState,
    }
  }

  /** Moves to the state of own Commit `c` (the group took it). */
  adopt (c: RawCommit): void {
    this.state = c.newState
  }

  /** Processes another member's Commit. */
  async process (commit: Uint8Array): Promise<void> {
    const msg = decodeMlsMessage(commit, 0)![0]
    if (msg.wireformat !== 'mls_public_message') throw new Error('not a PublicMessage')
    const r = await processPublicMessage(this.state, msg.publicMessage, makePskIndex(this.state, {}), this.cs)
    this.state = r.newState
  }

  /** The leaf index of `identity`, or undefined. */
  leafOf (identity: string): number | undefined {
    const tree = this.state.ratchetTree
    for (let node = 0; node < tree.length; node += 2) {
      const n = tree[node]
      if (n?.nodeType === 'leaf' && new TextDecoder().decode((n.leaf.credential as { identity: Uint8Array }).identity) === identity) return node / 2
    }
    return undefined
  }
}

/** An Add proposal of a KeyPackage. */
export function addOf (kp: KeyPackage): Proposal {
  return { proposalType: 'add', add: { keyPackage: kp } }
}

/** A Remove proposal of a leaf. */
export function removeOf (leafIndex: number): Proposal {
  return { proposalType: 'remove', remove: { removed: leafIndex } }
}

/** The GroupContextExtensions proposal that sets the admission extensions. */
export function contextOf (signedPolicy: Uint8Array, ledger: Uint8Array): Proposal {
  return { proposalType: 'group_context_extensions', groupContextExtensions: { extensions: admissionExtensions(signedPolicy, ledger) } }
}
