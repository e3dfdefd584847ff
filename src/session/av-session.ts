/**
 * AvSession: one member's view of the MLS group (RFC 9420) that keys one
 * fabric stream, and the SFrame base keys it yields (RFC 9605 section 5.2).
 *
 * Sans-IO: every input and output is bytes (MLSMessage encodings), time
 * enters only as `nowMs` arguments, and nothing is sent: the caller carries
 * Commits and Welcomes through the group service. Handshake messages are
 * PublicMessages so that the group service can read their epochs, and
 * Commits that add members put the ratchet tree in the Welcome (ratchet_tree
 * extension, RFC 9420 section 12.4.3.3) since joiners are other processes.
 *
 * Admission (protocol/admission.md): the group's GroupContext holds the
 * owner's signed policy and the admission ledger (admission/), and the
 * session enforces them on both sides: it refuses to prepare a Commit that
 * adds someone the policy does not admit, refuses to process one (keeping
 * its epoch), and refuses a Welcome into a group of another owner or one
 * holding a member without standing.
 */
import {
  createCommit,
  createGroup,
  decodeGroupState,
  encodeGroupState,
  type Extension,
  emptyPskIndex,
  encodeMlsMessage,
  joinGroup,
  makePskIndex,
  mlsExporter,
  processPublicMessage,
  type CiphersuiteImpl,
  type ClientState,
  type Proposal,
  type PublicMessage,
} from 'ts-mls'
import { FabricError, MalformedError } from '../errors.js'
import { streamGroupId, streamKey, validateStreamName, type StreamKey } from '../wire/stream-tag.js'
import {
  admissionExtensions, admitsByName, approveKnock, checkCommitAdmission, checkGroupAdmitted, createInvitation, decideJoin,
  emptyLedger, epochCode, identityFingerprint, mayInvite, nextLedger, readAdmissionExtensions, readAdmissionState, rulesOf, signPolicy,
  DEFAULT_INVITATION_LIFETIME_SECONDS,
  type AdmissionRules, type AdmissionState, type JoinDecision, type NewAdmission, type ParsedToken,
} from './admission/index.js'
import { equalBytes } from './bytes.js'
import { fabricClientConfig } from './credentials.js'
import type { MemberIdentity } from './identity.js'
import { EpochKeyRing, type EpochKey, type EpochKeyRingOptions } from './key-ring.js'
import { decodePrivateState, generateKeyPackageObjects, validateKeyPackage } from './key-package.js'
import { decodeKid, encodeKid } from './kid.js'
import { MAX_LEAF_INDEX } from '../wire/limits.js'
import {
  checkSize,
  MAX_ADDS_PER_COMMIT,
  MAX_COMMIT_BYTES,
  MAX_KEY_PACKAGE_BYTES,
  MAX_WELCOME_BYTES,
} from './limits.js'
import { decodeWholeMlsMessage, suiteNumberOf, toFabricError } from './mls-message.js'
import { checkUniqueIdentities, diffRosters, membersOfTree, type Member } from './roster.js'
import { DEFAULT_CIPHER_SUITE, suiteImpl } from './suite.js'

/** Exporter label for the SFrame base key (RFC 9605 section 5.2). */
export const SFRAME_EXPORTER_LABEL = 'SFrame 1.0 Base Key'

/** Default SFrame key length Nk, in bytes: 16 for AES_128_GCM_SHA256_128 (RFC 9605 section 4.5). */
export const DEFAULT_SFRAME_KEY_LENGTH = 16

/** Options shared by creating and joining a session. */
export interface SessionOptions {
  /** SFrame Nk: length of the base keys the key ring holds, in bytes (1..64); default 16. */
  sframeKeyLength?: number
  /** Retention of superseded epochs' keys; defaults 10 000 ms and 8 epochs. */
  keyRing?: EpochKeyRingOptions
}

/** Options of AvSession.create. */
export interface CreateSessionOptions extends SessionOptions {
  /** The creator: it becomes the stream's owner and its leaf 0. */
  identity: MemberIdentity
  /** The stream's name; with the owner it gives the MLS group id (wire/stream-tag.ts streamGroupId). */
  stream: string
  /** Who may join; default: nobody but the owner until it allows or invites. */
  admission?: AdmissionRules
  /** Current time, ms since the Unix epoch (KeyPackage lifetime, key ring). */
  nowMs: number
  /** MLS cipher suite id; default 1. */
  cipherSuite?: number
}

/** Options of AvSession.joinFromWelcome. */
export interface JoinSessionOptions extends SessionOptions {
  /** MLSMessage(mls_welcome) bytes, at most 1 MiB. */
  welcome: Uint8Array
  /** The joiner's own KeyPackage, MLSMessage(mls_key_package) bytes as generated. */
  keyPackage: Uint8Array
  /** The private state generated with that KeyPackage. */
  privateState: Uint8Array
  /** The joiner's libp2p peer id; must be the KeyPackage's identity. */
  identity: string
  /** The stream the joiner asked to join: a Welcome into any other group is refused (OWNER_MISMATCH). */
  expect: { owner: string, stream: string }
  /** Current time, ms (key ring). */
  nowMs: number
}

/** Options of AvSession.restore. */
export interface RestoreSessionOptions extends SessionOptions {
  /** What exportState returned, at most MAX_SESSION_STATE_BYTES. */
  state: Uint8Array
  /** The member's libp2p peer id; must be the state's own leaf's identity. */
  identity: string
  /** The stream the state must be of (OWNER_MISMATCH otherwise). */
  expect: { owner: string, stream: string }
  /** Current time, ms (key ring). */
  nowMs: number
}

/**
 * Largest exported session state restore reads, bytes: the group's ratchet
 * tree dominates (a few hundred bytes per member), so 4 MiB holds the
 * largest group the wire allows with room.
 */
export const MAX_SESSION_STATE_BYTES = 4 * 1024 * 1024

/** Options of AvSession.prepareAdd. */
export interface PrepareAddOptions {
  /** Current time, ms since the Unix epoch: each KeyPackage's lifetime must cover it. */
  nowMs: number
  /**
   * The identities the caller asked for, one per KeyPackage in the same
   * order (e.g. the peers whose join requests these answer). A KeyPackage
   * naming another identity is refused.
   */
  expectedIdentities?: string[]
  /**
   * The evidence of joiners the policy does not admit by name (decideJoin's
   * `evidence` decisions, approveKnock's results), recorded in the ledger by
   * the same Commit. A KeyPackage of an identity neither admitted by name
   * nor listed here is refused (NOT_ADMITTED).
   */
  admissions?: readonly NewAdmission[]
}

/** Options of AvSession.createInvitation. */
export interface SessionInvitationOptions {
  /** Peer id of the only identity that may use it; default: anyone holding the token. */
  invitee?: string
  /** Lifetime from nowMs, seconds; default 7 days. */
  lifetimeSeconds?: number
  /** How many identities it may admit; default 1. */
  maxUses?: number
  /** Current time, ms since the Unix epoch. */
  nowMs: number
}

/**
 * A Commit this member made but the group has not yet taken. Nothing in the
 * session changes until `applyPending`; if the group service refuses it (a
 * competing Commit won the epoch), `discardPending`, process the winner, and
 * prepare again.
 */
export interface PendingCommit {
  /** MLSMessage(mls_public_message) bytes of the Commit. */
  readonly commit: Uint8Array
  /** MLSMessage(mls_welcome) bytes for every joiner, one Welcome for all; absent when nobody joins. */
  readonly welcome?: Uint8Array
  /** The epoch the Commit was created in (what the group service compares). */
  readonly fromEpoch: bigint
  /** The epoch the group enters when the Commit is applied (fromEpoch + 1). */
  readonly epoch: bigint
  /** Identities the Commit adds, in KeyPackage order. */
  readonly addedIdentities: readonly string[]
  /** Identities the Commit removes. */
  readonly removedIdentities: readonly string[]
  /** True when the Commit changes the admission policy. */
  readonly policyChange: boolean
}

/** What a Commit did, from this member's point of view. */
export interface CommitOutcome {
  /** The epoch the group entered. After own removal this member stays behind at epoch - 1. */
  epoch: bigint
  /** True when the Commit removed this member; the session is then dead. */
  removedSelf: boolean
  /** Identities that joined. */
  added: string[]
  /** Identities that left. */
  removed: string[]
}

/** The key an SFrame KID names, with the KID's fields. */
export interface KidKey extends EpochKey {
  /** Track context of the KID. */
  context: number
  /** Sender leaf index of the KID. */
  senderLeafIndex: number
}

interface Pending {
  token: PendingCommit
  newState: ClientState
  consumed: Uint8Array[]
  admission: AdmissionState
}

/** The members of one ratchet tree, with both lookups. */
interface Roster {
  tree: ClientState['ratchetTree']
  members: Member[]
  byLeaf: Map<number, string>
  byIdentity: Map<string, number>
}

/** The roster of `tree`. */
function rosterOf (tree: ClientState['ratchetTree']): Roster {
  const members = membersOfTree(tree)
  const byLeaf = new Map<number, string>()
  const byIdentity = new Map<string, number>()
  for (const m of members) {
    byLeaf.set(m.leafIndex, m.identity)
    // The first leaf of an identity wins, as a search in leaf order would.
    if (!byIdentity.has(m.identity)) byIdentity.set(m.identity, m.leafIndex)
  }
  return { tree, members, byLeaf, byIdentity }
}

/**
 * One member's MLS group state for one stream, with its SFrame key ring.
 * Mutating operations run one at a time in call order (each is async only
 * because the crypto is).
 */
export class AvSession {
  /** This member's libp2p peer id. */
  readonly identity: string
  /** MLS cipher suite id of the group. */
  readonly cipherSuite: number
  /** SFrame base keys by epoch, updated on every epoch change. */
  readonly keyRing: EpochKeyRing
  /** SFrame Nk in bytes. */
  readonly sframeKeyLength: number
  #state: ClientState
  readonly #cs: CiphersuiteImpl
  #pending: Pending | undefined
  #removed = false
  #queue: Promise<unknown> = Promise.resolve()
  /** The admission policy and ledger of `#state`'s GroupContext, verified. */
  #admission: AdmissionState
  /**
   * The roster of `#state`'s tree, derived once per tree: ts-mls states are
   * immutable, so the tree object identifies its contents. Naming a frame's
   * sender happens per decrypted frame, and rebuilding the roster (a UTF-8
   * decode per leaf) cost ~26 µs at 128 members.
   */
  #roster: Roster | undefined

  private constructor (identity: string, state: ClientState, cs: CiphersuiteImpl, admission: AdmissionState, options: SessionOptions) {
    this.identity = identity
    this.#state = state
    this.#admission = admission
    this.#cs = cs
    this.cipherSuite = suiteNumberOf(state.groupContext.cipherSuite)
    this.sframeKeyLength = options.sframeKeyLength ?? DEFAULT_SFRAME_KEY_LENGTH
    this.keyRing = new EpochKeyRing(options.keyRing)
  }

  /**
   * Creates the group of stream `stream` owned by this member, at epoch 0
   * with this member alone at leaf 0 (RFC 9420 section 11): its group id is
   * the stream's (streamGroupId of owner/stream) and its GroupContext holds
   * the owner's signed policy (serial 0) and an empty ledger. Installs the
   * epoch 0 SFrame base key.
   *
   * @throws MalformedError on a bad identity or stream name, or identities in the rules
   * @throws FabricError TOO_LARGE when the rules list too many identities
   * @throws FabricError UNSUPPORTED_SUITE when the suite is not available
   * @throws FabricError INVALID_STATE on a bad sframeKeyLength or key ring option
   */
  static async create (options: CreateSessionOptions): Promise<AvSession> {
    checkKeyLength(options.sframeKeyLength)
    validateStreamName(options.stream)
    const suite = options.cipherSuite ?? DEFAULT_CIPHER_SUITE
    const owner = options.identity
    const groupId = streamGroupId(streamKey(owner.peerId, options.stream))
    const policy = signPolicy(owner, options.stream, options.admission ?? {}, 0n)
    const extensions: Extension[] = admissionExtensions(policy.bytes, emptyLedger().bytes)
    const { publicPackage, privatePackage, cs } = await generateKeyPackageObjects(owner, { nowMs: options.nowMs, cipherSuite: suite })
    let state: ClientState
    try {
      state = await createGroup(groupId, publicPackage, privatePackage, extensions, cs, fabricClientConfig)
    } catch (err) {
      throw toFabricError('creating the group', err, 'INTERNAL')
    }
    // The creator's KeyPackage is never sent, so its init key has no use.
    privatePackage.initPrivateKey.fill(0)
    const session = new AvSession(owner.peerId, state, cs, readAdmissionState(state.groupContext.extensions), options)
    await session.#installEpochKey(options.nowMs)
    return session
  }

  /**
   * Joins a group from a Welcome (RFC 9420 section 12.4.3.1), using only
   * bytes: the Welcome, this member's own KeyPackage and its private state.
   * The ratchet tree comes from the Welcome's ratchet_tree extension, and
   * ts-mls checks it (signatures, parent and tree hashes) against the signed
   * GroupInfo. The KeyPackage's init private key is consumed; the caller
   * should delete its copy of `privateState` unless it is a last-resort one.
   *
   * @throws TooLargeError on a Welcome above 1 MiB or KeyPackage above 64 KiB
   * @throws MalformedError when an input does not decode or the Welcome does not verify
   * @throws FabricError IDENTITY_MISMATCH when the KeyPackage is not `identity`'s
   * @throws FabricError NOT_FOUND when the Welcome has no secrets for this KeyPackage
   * @throws FabricError AUTH_FAILED when a signature or confirmation tag does not verify
   * @throws FabricError UNSUPPORTED_SUITE when the suite is not available
   * @throws FabricError OWNER_MISMATCH when the group is not `expect`'s (another
   *         owner, stream or group id, or a policy its owner did not sign)
   * @throws FabricError NOT_ADMITTED when a member of the group (this one
   *         included) has no standing under the group's policy
   */
  static async joinFromWelcome (options: JoinSessionOptions): Promise<AvSession> {
    checkKeyLength(options.sframeKeyLength)
    checkSize('Welcome', options.welcome, MAX_WELCOME_BYTES)
    checkSize('KeyPackage', options.keyPackage, MAX_KEY_PACKAGE_BYTES)
    const msg = decodeWholeMlsMessage('Welcome', options.welcome)
    if (msg.wireformat !== 'mls_welcome') throw new MalformedError(`expected an MLSMessage Welcome, got ${msg.wireformat}`)
    const welcome = msg.welcome
    const own = await validateKeyPackage(options.keyPackage)
    if (own.identity !== options.identity) {
      throw new FabricError('IDENTITY_MISMATCH', `KeyPackage names ${own.identity}, not ${options.identity}`)
    }
    if (suiteNumberOf(welcome.cipherSuite) !== own.cipherSuite) {
      throw new MalformedError(`Welcome suite ${welcome.cipherSuite} differs from the KeyPackage's ${own.cipherSuite}`)
    }
    if (!welcome.secrets.some(s => equalBytes(s.newMember, own.ref))) {
      throw new FabricError('NOT_FOUND', 'the Welcome holds no secrets for this KeyPackage')
    }
    const privateKeys = decodePrivateState(options.privateState)
    const cs = await suiteImpl(own.cipherSuite)
    let state: ClientState
    try {
      state = await joinGroup(welcome, own.keyPackage, privateKeys, emptyPskIndex, cs, undefined, undefined, fabricClientConfig)
    } catch (err) {
      throw toFabricError('joining from the Welcome', err, 'MALFORMED')
    } finally {
      privateKeys.initPrivateKey.fill(0)
    }
    const members = membersOfTree(state.ratchetTree)
    checkUniqueIdentities(members)
    if (members.find(m => m.leafIndex === state.privatePath.leafIndex)?.identity !== options.identity) {
      throw new FabricError('INTERNAL', 'own leaf does not carry own identity after joining')
    }
    const expectedGroupId = streamGroupId(streamKey(options.expect.owner, options.expect.stream))
    if (!equalBytes(state.groupContext.groupId, expectedGroupId)) {
      throw new FabricError('OWNER_MISMATCH', `the Welcome is into another group than ${options.expect.owner}/${options.expect.stream}`)
    }
    let admission: AdmissionState
    try {
      admission = readAdmissionState(state.groupContext.extensions, { ...options.expect, groupId: expectedGroupId })
    } catch (err) {
      // A group without a valid owner-signed policy is not the owner's group.
      if (err instanceof FabricError && (err.code === 'MALFORMED' || err.code === 'AUTH_FAILED')) {
        throw new FabricError('OWNER_MISMATCH', `the group is not ${options.expect.owner}'s: ${err.message}`, { cause: err })
      }
      throw err
    }
    checkGroupAdmitted(admission, members.map((m) => m.identity))
    const session = new AvSession(options.identity, state, cs, admission, options)
    await session.#installEpochKey(options.nowMs)
    return session
  }

  /**
   * Takes back a session from `exportState` bytes (a member restarted after
   * a crash, protocol/survival.md section 6): the same group state, epoch
   * and leaf, with the current epoch's SFrame key in the ring (older epochs'
   * keys are not kept). Checks it as a Welcome would: the own leaf is
   * `identity`'s, the group is `expect`'s and its policy the owner's.
   *
   * The caller must not send under the restored epoch's key with SFrame
   * CTRs it may already have used before the crash (a nonce reused under
   * one key breaks AES-GCM): StreamMember keeps a CTR reservation in its
   * state file for this.
   *
   * @throws TooLargeError above MAX_SESSION_STATE_BYTES
   * @throws MalformedError when the bytes do not decode to a group state
   * @throws FabricError IDENTITY_MISMATCH when the own leaf is not `identity`'s
   * @throws FabricError OWNER_MISMATCH when the group is not `expect`'s
   * @throws FabricError UNSUPPORTED_SUITE when the suite is not available
   */
  static async restore (options: RestoreSessionOptions): Promise<AvSession> {
    checkKeyLength(options.sframeKeyLength)
    checkSize('session state', options.state, MAX_SESSION_STATE_BYTES)
    let decoded: ReturnType<typeof decodeGroupState>
    try {
      decoded = decodeGroupState(options.state, 0)
    } catch (err) {
      throw new MalformedError('the session state does not decode', { cause: err })
    }
    if (decoded === undefined || decoded[1] !== options.state.byteLength) throw new MalformedError('the session state does not decode')
    const state: ClientState = { ...decoded[0], clientConfig: fabricClientConfig }
    const cs = await suiteImpl(suiteNumberOf(state.groupContext.cipherSuite))
    const members = membersOfTree(state.ratchetTree)
    checkUniqueIdentities(members)
    if (members.find(m => m.leafIndex === state.privatePath.leafIndex)?.identity !== options.identity) {
      throw new FabricError('IDENTITY_MISMATCH', 'the session state\'s own leaf is not this identity\'s')
    }
    const expectedGroupId = streamGroupId(streamKey(options.expect.owner, options.expect.stream))
    if (!equalBytes(state.groupContext.groupId, expectedGroupId)) {
      throw new FabricError('OWNER_MISMATCH', `the session state is of another group than ${options.expect.owner}/${options.expect.stream}`)
    }
    const admission = readAdmissionState(state.groupContext.extensions, { ...options.expect, groupId: expectedGroupId })
    const session = new AvSession(options.identity, state, cs, admission, options)
    await session.#installEpochKey(options.nowMs)
    return session
  }

  /**
   * The session's MLS group state (RFC 9420 GroupState, ts-mls's encoding)
   * for `restore`: secret (it holds the epoch secrets and this member's
   * private keys), so it goes only where the member's identity key goes.
   * @throws FabricError REMOVED after own removal
   */
  exportState (): Uint8Array {
    this.#checkAlive()
    const { clientConfig: _config, ...group } = this.#state
    return encodeGroupState(group)
  }

  /** The MLS group id (a copy). */
  get groupId (): Uint8Array {
    return Uint8Array.from(this.#state.groupContext.groupId)
  }

  /** The current MLS epoch; after own removal, the last epoch this member was in. */
  get epoch (): bigint {
    return this.#state.groupContext.epoch
  }

  /** This member's leaf index (also its SFrame KID sender index). */
  get ownLeafIndex (): number {
    return this.#state.privatePath.leafIndex
  }

  /** True once a processed Commit removed this member. */
  get removed (): boolean {
    return this.#removed
  }

  /** The stream's owner (peer id), from the group's policy. */
  get owner (): string {
    return this.#admission.policy.policy.owner
  }

  /** The stream's name, from the group's policy. */
  get stream (): string {
    return this.#admission.policy.policy.stream
  }

  /** The stream's address (owner/name). */
  get streamKey (): StreamKey {
    return streamKey(this.owner, this.stream)
  }

  /** The admission rules the group holds now, and the serial of that policy. */
  get admission (): Required<AdmissionRules> & { serial: bigint } {
    return { ...rulesOf(this.#admission.policy), serial: this.#admission.policy.policy.serial }
  }

  /** True when this member may sign invitations and approve knocks (the owner or a listed inviter). */
  get mayInvite (): boolean {
    return mayInvite(this.#admission.policy, this.identity)
  }

  /**
   * The epoch's safety code: 30 digits from the MLS epoch authenticator
   * (RFC 9420 section 8.7), equal at every member of this epoch exactly when
   * they share its key schedule (admission/safety-code.ts).
   *
   * @throws FabricError REMOVED after own removal
   */
  safetyCode (): string {
    this.#checkAlive()
    return epochCode(this.#state.keySchedule.epochAuthenticator)
  }

  /**
   * A member's identity fingerprint (20 digits of its key's hash), to
   * compare out of band.
   *
   * @throws MalformedError when `identity` is not an Ed25519 peer id
   */
  fingerprint (identity: string = this.identity): string {
    return identityFingerprint(identity)
  }

  /**
   * Decides a join request by the group's policy (committer side; see
   * admission/check.ts decideJoin). Changes nothing.
   *
   * @param redemption the joiner's Redemption bytes, if it presented one
   * @param pendingUses invitation uses (by hex id) already granted to joiners
   *        of the Commit being assembled
   */
  decideJoin (identity: string, redemption: Uint8Array | undefined, nowMs: number, pendingUses?: ReadonlyMap<string, number>): JoinDecision {
    return decideJoin(this.#admission, identity, redemption, secondsOf(nowMs), pendingUses)
  }

  /**
   * Approves a knock: makes the evidence that admits `joiner` (a one-use
   * invitation for it, signed with this member's key, and its redemption),
   * to pass to prepareAdd.
   *
   * @throws FabricError NOT_ADMITTED when this member may not invite
   * @throws FabricError REMOVED after own removal
   */
  approveKnock (joiner: string, nowMs: number): NewAdmission {
    this.#checkAlive()
    return approveKnock(this.#admission, this.#signer(), joiner, secondsOf(nowMs))
  }

  /**
   * Makes an invitation to this stream signed with this member's key.
   * Members accept it only while this member may invite under the policy
   * then in force.
   *
   * @returns the token (secret); its `text` is what an invitee passes to join
   * @throws FabricError NOT_ADMITTED when this member may not invite now
   * @throws FabricError REMOVED after own removal
   * @throws RangeError on a lifetime or use count out of range
   */
  createInvitation (options: SessionInvitationOptions): ParsedToken {
    this.#checkAlive()
    if (!this.mayInvite) throw new FabricError('NOT_ADMITTED', `${this.identity} may not invite to this stream: only the owner and listed inviters can`)
    const lifetime = options.lifetimeSeconds ?? DEFAULT_INVITATION_LIFETIME_SECONDS
    if (!Number.isInteger(lifetime) || lifetime < 1) throw new RangeError(`invitation lifetime ${lifetime} must be a positive number of seconds`)
    return createInvitation(this.#signer(), this.owner, this.stream, {
      invitee: options.invitee,
      expiresAtSeconds: secondsOf(options.nowMs) + BigInt(lifetime),
      maxUses: options.maxUses,
    })
  }

  /** The Commit prepared and not yet applied or discarded, if any. */
  get pending (): PendingCommit | undefined {
    return this.#pending?.token
  }

  /**
   * The members of the current epoch by ascending leaf index.
   *
   * @throws FabricError REMOVED after own removal
   */
  members (): Member[] {
    this.#checkAlive()
    return [...this.#currentRoster().members]
  }

  /**
   * The identity at `leafIndex` in the current epoch, or undefined for a blank
   * or absent leaf.
   *
   * @throws FabricError REMOVED after own removal
   */
  identityOf (leafIndex: number): string | undefined {
    this.#checkAlive()
    return this.#currentRoster().byLeaf.get(leafIndex)
  }

  /**
   * The leaf index of `identity` in the current epoch, or undefined when it is
   * not a member.
   *
   * @throws FabricError REMOVED after own removal
   */
  leafIndexOf (identity: string): number | undefined {
    this.#checkAlive()
    return this.#currentRoster().byIdentity.get(identity)
  }

  /**
   * MLS-Exporter("SFrame 1.0 Base Key", "", nk) of the current epoch
   * (RFC 9605 section 5.2; RFC 9420 section 8.5): the SFrame base key. The
   * caller owns the returned bytes.
   *
   * @param nk key length in bytes, 1..64; default the session's sframeKeyLength
   * @throws FabricError REMOVED after own removal
   * @throws FabricError INVALID_STATE on a bad nk
   */
  async exportSFrameBaseKey (nk: number = this.sframeKeyLength): Promise<Uint8Array> {
    this.#checkAlive()
    checkKeyLength(nk)
    return await this.#exportBaseKey(this.#state, nk)
  }

  /**
   * This member's SFrame KID for a track in the current epoch (RFC 9605 section 5.2).
   *
   * @param context track context, 0..255 (see TrackContext)
   * @throws FabricError REMOVED after own removal
   * @throws MalformedError when context or the leaf index is out of KID range
   */
  ownKid (context: number): bigint {
    this.#checkAlive()
    return encodeKid({ context, senderLeafIndex: this.ownLeafIndex, epoch: this.epoch })
  }

  /**
   * The base key a received frame's KID names, from the key ring (current
   * epoch, or a superseded one still inside its window).
   *
   * @returns the key and the KID's fields, or undefined when no key is held
   * @throws MalformedError when the KID does not fit the layout
   */
  baseKeyForKid (kid: bigint, nowMs: number): KidKey | undefined {
    const fields = decodeKid(kid)
    const key = this.keyRing.baseKeyForEpochBits(fields.epochLowBits, nowMs)
    return key === undefined ? undefined : { ...key, context: fields.context, senderLeafIndex: fields.senderLeafIndex }
  }

  /**
   * Prepares ONE Commit adding every KeyPackage, and ONE Welcome for all the
   * joiners (RFC 9420 sections 12.1.1, 12.4, 12.4.3), without changing the
   * session. Each KeyPackage is checked first (framing, suite, credential,
   * signatures, lifetime at nowMs, identity), then ts-mls checks them again
   * as RFC 9420 section 12.2 requires.
   *
   * @param keyPackages 1..256 MLSMessage(mls_key_package) byte strings
   * @throws FabricError REMOVED after own removal
   * @throws FabricError INVALID_STATE when another Commit is pending, or on an empty list
   * @throws TooLargeError on a KeyPackage above 64 KiB, or when the Welcome
   *         or Commit would exceed 1 MiB
   * @throws MalformedError on a KeyPackage that does not decode or verify, or is outside its lifetime
   * @throws FabricError UNSUPPORTED_SUITE on a KeyPackage of another suite than the group's
   * @throws FabricError IDENTITY_MISMATCH when expectedIdentities disagrees
   * @throws FabricError ALREADY_EXISTS when an identity is already a member or appears twice
   */
  async prepareAdd (keyPackages: Uint8Array[], options: PrepareAddOptions): Promise<PendingCommit> {
    return await this.#exclusive(async () => {
      this.#checkCanCommit()
      if (keyPackages.length === 0 || keyPackages.length > MAX_ADDS_PER_COMMIT) {
        throw new FabricError('INVALID_STATE', `prepareAdd takes 1..${MAX_ADDS_PER_COMMIT} KeyPackages, got ${keyPackages.length}`)
      }
      const expected = options.expectedIdentities
      if (expected !== undefined && expected.length !== keyPackages.length) {
        throw new FabricError('INVALID_STATE', `${keyPackages.length} KeyPackages but ${expected.length} expected identities`)
      }
      for (const kp of keyPackages) checkSize('KeyPackage', kp, MAX_KEY_PACKAGE_BYTES)
      const evidence = new Map((options.admissions ?? []).map((a) => [a.admission.identity, a]))
      const present = new Set(membersOfTree(this.#state.ratchetTree).map(m => m.identity))
      const proposals: Proposal[] = []
      const addedIdentities: string[] = []
      for (const [i, bytes] of keyPackages.entries()) {
        const kp = await validateKeyPackage(bytes, options.nowMs)
        if (kp.cipherSuite !== this.cipherSuite) {
          throw new FabricError('UNSUPPORTED_SUITE', `KeyPackage of ${kp.identity} uses suite ${kp.cipherSuite}, the group uses ${this.cipherSuite}`)
        }
        if (expected !== undefined && expected[i] !== kp.identity) {
          throw new FabricError('IDENTITY_MISMATCH', `KeyPackage ${i} names ${kp.identity}, expected ${expected[i]}`)
        }
        if (present.has(kp.identity)) throw new FabricError('ALREADY_EXISTS', `${kp.identity} is already a member or added twice`)
        present.add(kp.identity)
        addedIdentities.push(kp.identity)
        proposals.push({ proposalType: 'add', add: { keyPackage: kp.keyPackage } })
      }
      const admissions: NewAdmission[] = []
      for (const identity of addedIdentities) {
        const a = evidence.get(identity)
        if (a !== undefined && !admitsByName(this.#admission.policy, identity)) admissions.push(a)
      }
      // Evidence goes into the ledger by the same Commit; members recompute it.
      if (admissions.length > 0) {
        const ledger = nextLedger(this.#admission.ledger, present, admissions)
        proposals.push(contextProposal(admissionExtensions(this.#admission.policy.bytes, ledger)))
      }
      return await this.#prepare(proposals, addedIdentities, [], options.nowMs)
    })
  }

  /**
   * Prepares a Commit that replaces the admission policy with `rules`
   * (owner only: the policy carries the owner's signature), with the serial
   * one higher. Members refuse it unless everyone in the group is still
   * admitted, so first remove (prepareRemove) those a narrower policy no
   * longer admits.
   *
   * Removals cannot ride in the same Commit: a Remove needs an UpdatePath,
   * and ts-mls 1.6.4 encrypts an UpdatePath under the GroupContext without
   * the Commit's new extensions while it decrypts under the one with them
   * (ts-mls issue #742), so no member could process such a Commit.
   *
   * @throws FabricError NOT_ADMITTED when this member is not the owner, or a
   *         member would lose its standing
   * @throws FabricError INVALID_STATE when another Commit is pending
   * @throws FabricError REMOVED after own removal
   */
  async prepareUpdatePolicy (rules: AdmissionRules, nowMs: number): Promise<PendingCommit> {
    return await this.#exclusive(async () => {
      this.#checkCanCommit()
      if (this.identity !== this.owner) throw new FabricError('NOT_ADMITTED', 'only the stream\'s owner changes its admission policy')
      const policy = signPolicy(this.#signer(), this.stream, rules, this.#admission.policy.policy.serial + 1n)
      return await this.#prepare([contextProposal(admissionExtensions(policy.bytes, this.#admission.ledger.bytes))], [], [], nowMs)
    })
  }

  /**
   * Prepares a Commit removing members (RFC 9420 section 12.1.3), without
   * changing the session; apply or discard it as with prepareAdd. A member
   * cannot remove itself this way (RFC 9420 section 12.2): ask the committer.
   *
   * @param identities members to remove, at least one, no repeats
   * @throws FabricError REMOVED after own removal
   * @throws FabricError INVALID_STATE when another Commit is pending, the list
   *         is empty or repeats, or names this member
   * @throws FabricError NOT_MEMBER when an identity is not a member
   */
  async prepareRemove (identities: string[]): Promise<PendingCommit> {
    return await this.#exclusive(async () => {
      this.#checkCanCommit()
      if (identities.length === 0) throw new FabricError('INVALID_STATE', 'prepareRemove needs at least one identity')
      if (new Set(identities).size !== identities.length) throw new FabricError('INVALID_STATE', 'prepareRemove got an identity twice')
      const members = membersOfTree(this.#state.ratchetTree)
      const proposals: Proposal[] = []
      for (const identity of identities) {
        if (identity === this.identity) throw new FabricError('INVALID_STATE', 'a member cannot commit its own removal')
        const m = members.find(x => x.identity === identity)
        if (m === undefined) throw new FabricError('NOT_MEMBER', `${identity} is not a member`)
        proposals.push({ proposalType: 'remove', remove: { removed: m.leafIndex } })
      }
      // The clock only matters for Adds (invitation expiry); a removal adds nobody.
      return await this.#prepare(proposals, [], [...identities], 0)
    })
  }

  /**
   * Adopts the pending Commit once the group service accepted it: the session
   * enters the new epoch, the previous epoch's secrets are zeroed, and the new
   * SFrame base key goes into the key ring.
   *
   * @throws FabricError INVALID_STATE when `pending` is not the current pending Commit
   * @throws FabricError REMOVED after own removal
   */
  async applyPending (pending: PendingCommit, nowMs: number): Promise<CommitOutcome> {
    return await this.#exclusive(async () => await this.#applyPending(pending, nowMs))
  }

  /**
   * Drops the pending Commit (the group service refused it, or the caller
   * changed its mind) and zeroes the epoch secrets it would have started.
   * The session stays as it was.
   *
   * @param pending the Commit to drop; when given it must be the pending one
   * @throws FabricError INVALID_STATE when `pending` is given and is not the pending Commit
   */
  discardPending (pending?: PendingCommit): void {
    const p = this.#pending
    if (p === undefined) {
      if (pending === undefined) return
      throw new FabricError('INVALID_STATE', 'no Commit is pending')
    }
    if (pending !== undefined && pending !== p.token) throw new FabricError('INVALID_STATE', 'that Commit is not the pending one')
    this.#pending = undefined
    // The new epoch's key schedule is derived afresh for the candidate state,
    // so zeroing it leaves the current state intact.
    for (const v of Object.values(p.newState.keySchedule)) if (v instanceof Uint8Array) v.fill(0)
  }

  /**
   * Processes a Commit another member made and the group service delivered
   * (RFC 9420 section 12.4.2). When the bytes are this member's own pending
   * Commit (the service echoed it, or replayed it to a member that resumed
   * not knowing whether it was accepted), that Commit is applied instead;
   * another Commit of the pending one's epoch discards the pending one (it
   * lost the epoch).
   *
   * Fabric only accepts Commits whose proposals are Add, Remove or one
   * GroupContextExtensions (the admission state), sent by value, from a
   * member, as PublicMessage. Before moving to the new epoch the session
   * checks the Commit against the group's admission policy
   * (admission/check.ts checkCommitAdmission); a Commit that adds someone
   * the policy does not admit, or tampers with the policy or ledger, is
   * refused and the session stays in its epoch.
   *
   * @param commit MLSMessage(mls_public_message) bytes, at most 1 MiB
   * @param nowMs  current time, ms (key ring)
   * @returns the new epoch and the roster change; `removedSelf` when this
   *          member was removed, after which every operation throws REMOVED
   *          and the key ring is emptied
   * @throws FabricError REMOVED after own removal
   * @throws FabricError INVALID_STATE while another Commit of this member is pending,
   *         or for a Commit sent from this member's own leaf
   * @throws TooLargeError above 1 MiB
   * @throws MalformedError when it does not decode, is for another group, is
   *         not a Commit, or breaks the rules above or RFC 9420's
   * @throws FabricError STALE_EPOCH when it was not created in the current epoch
   * @throws FabricError AUTH_FAILED when its signature, membership tag or confirmation tag does not verify
   * @throws FabricError NOT_ADMITTED when it breaks the admission policy (nothing changes)
   */
  async processCommit (commit: Uint8Array, nowMs: number): Promise<CommitOutcome> {
    return await this.#exclusive(async () => {
      this.#checkAlive()
      checkSize('Commit', commit, MAX_COMMIT_BYTES)
      const pending = this.#pending
      if (pending !== undefined) {
        if (equalBytes(commit, pending.token.commit)) return await this.#applyPending(pending.token, nowMs)
        // The delivery service accepts one Commit per epoch: another one
        // delivered for the pending Commit's epoch means this member's lost.
        if (this.#readCommit(commit).content.epoch !== pending.token.fromEpoch) {
          throw new FabricError('INVALID_STATE', 'a Commit of this member is pending: discard it before processing another')
        }
        this.discardPending(pending.token)
      }
      const pm = this.#readCommit(commit)
      const before = this.#currentRoster().members
      let result: Awaited<ReturnType<typeof processPublicMessage>>
      try {
        result = await processPublicMessage(this.#state, pm, makePskIndex(this.#state, {}), this.#cs)
      } catch (err) {
        throw toFabricError('processing the Commit', err, 'MALFORMED')
      }
      const next = result.newState
      const nextRoster = rosterOf(next.ratchetTree)
      const after = nextRoster.members
      const { added, removed } = diffRosters(before, after)
      if (next.groupActiveState.kind === 'removedFromGroup') {
        // A removed member cannot read the new epoch, so it has nothing to protect by checking further.
        // ts-mls reports its own removal as success; mark the session dead here.
        this.#removed = true
        this.#state = next
        this.keyRing.clear()
        // The secrets of the last epoch it saw have no further use.
        for (const v of Object.values(next.keySchedule)) if (v instanceof Uint8Array) v.fill(0)
        return { epoch: pm.content.epoch + 1n, removedSelf: true, added, removed }
      }
      if (next.groupActiveState.kind !== 'active' || next.groupContext.epoch !== this.epoch + 1n) {
        throw new FabricError('INTERNAL', `unexpected state after the Commit: ${next.groupActiveState.kind}, epoch ${next.groupContext.epoch}`)
      }
      checkUniqueIdentities(after)
      const admission = checkCommitAdmission({
        before: this.#admission,
        afterExtensions: next.groupContext.extensions,
        added,
        survivors: new Set(after.map((m) => m.identity)),
        nowSeconds: secondsOf(nowMs),
      })
      // Derive the new epoch's key before switching state, so the session
      // never reports an epoch whose key the ring does not hold yet.
      const key = await this.#exportBaseKey(next)
      this.#state = next
      this.#admission = admission
      this.#roster = nextRoster
      this.#installKey(key, nowMs)
      for (const secret of result.consumed) secret.fill(0)
      return { epoch: this.epoch, removedSelf: false, added, removed }
    })
  }

  async #prepare (proposals: Proposal[], addedIdentities: string[], removedIdentities: string[], nowMs: number): Promise<PendingCommit> {
    let result: Awaited<ReturnType<typeof createCommit>>
    try {
      result = await createCommit(
        { state: this.#state, cipherSuite: this.#cs },
        { extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: true },
      )
    } catch (err) {
      throw toFabricError('creating the Commit', err, 'INTERNAL')
    }
    // `consumed` holds secrets of the current epoch (its init secret among
    // them): zeroing them now would break the session if the Commit is refused.
    const { newState, commit, welcome } = result
    const members = membersOfTree(newState.ratchetTree)
    const widest = members.reduce((n, m) => Math.max(n, m.leafIndex), 0)
    if (widest > MAX_LEAF_INDEX) {
      throw new FabricError('INVALID_STATE', `leaf index ${widest} would not fit an SFrame KID`)
    }
    // The committer holds itself to the check every member will make, so it
    // never sends a Commit the group refuses; invitation expiry it checks
    // strictly, leaving the members' slack to their clocks and the transit.
    const admission = checkCommitAdmission({
      before: this.#admission,
      afterExtensions: newState.groupContext.extensions,
      added: addedIdentities,
      survivors: new Set(members.map((m) => m.identity)),
      nowSeconds: secondsOf(nowMs),
      graceSeconds: 0n,
    })
    const commitBytes = encodeMlsMessage(commit)
    checkSize('Commit', commitBytes, MAX_COMMIT_BYTES)
    let welcomeBytes: Uint8Array | undefined
    if (welcome !== undefined) {
      welcomeBytes = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome })
      checkSize('Welcome', welcomeBytes, MAX_WELCOME_BYTES)
    }
    const token: PendingCommit = Object.freeze({
      commit: commitBytes,
      ...(welcomeBytes === undefined ? {} : { welcome: welcomeBytes }),
      fromEpoch: this.epoch,
      epoch: newState.groupContext.epoch,
      addedIdentities: Object.freeze(addedIdentities),
      removedIdentities: Object.freeze(removedIdentities),
      policyChange: admission.policy !== this.#admission.policy,
    })
    this.#pending = { token, newState, consumed: result.consumed, admission }
    return token
  }

  async #applyPending (pending: PendingCommit, nowMs: number): Promise<CommitOutcome> {
    this.#checkAlive()
    const p = this.#pending
    if (p === undefined || p.token !== pending) throw new FabricError('INVALID_STATE', 'that Commit is not the pending one')
    const before = this.#currentRoster().members
    const key = await this.#exportBaseKey(p.newState)
    this.#state = p.newState
    this.#admission = p.admission
    this.#pending = undefined
    this.#installKey(key, nowMs)
    for (const secret of p.consumed) secret.fill(0)
    const { added, removed } = diffRosters(before, this.#currentRoster().members)
    return { epoch: this.epoch, removedSelf: false, added, removed }
  }

  #currentRoster (): Roster {
    const tree = this.#state.ratchetTree
    if (this.#roster?.tree !== tree) this.#roster = rosterOf(tree)
    return this.#roster
  }

  /** Decodes a Commit and applies the checks that need no crypto. */
  #readCommit (bytes: Uint8Array): PublicMessage {
    const msg = decodeWholeMlsMessage('Commit', bytes)
    if (msg.wireformat !== 'mls_public_message') throw new MalformedError(`expected an MLSMessage PublicMessage, got ${msg.wireformat}`)
    const pm = msg.publicMessage
    const c = pm.content
    if (!equalBytes(c.groupId, this.#state.groupContext.groupId)) throw new MalformedError('the Commit is for another group')
    if (c.contentType !== 'commit') throw new MalformedError(`expected a Commit, got ${c.contentType}`)
    if (c.epoch !== this.epoch) {
      throw new FabricError('STALE_EPOCH', `the Commit was created in epoch ${c.epoch}, this member is in epoch ${this.epoch}`)
    }
    if (c.sender.senderType !== 'member') throw new MalformedError(`Commit sender type ${c.sender.senderType} is not accepted`)
    if (c.sender.leafIndex === this.ownLeafIndex) {
      throw new FabricError('INVALID_STATE', 'the Commit comes from this member\'s own leaf but matches no pending Commit')
    }
    let contextChanges = 0
    for (const p of c.commit.proposals) {
      if (p.proposalOrRefType !== 'proposal') throw new MalformedError('Commit includes a proposal by reference')
      const type = p.proposal.proposalType
      if (type === 'group_context_extensions') {
        contextChanges++
        // It must carry the admission state itself: ts-mls reads an empty
        // extension list as "no change", RFC 9420 section 12.1.7 as "none".
        readAdmissionExtensions(p.proposal.groupContextExtensions.extensions)
      } else if (type !== 'add' && type !== 'remove') {
        throw new MalformedError(`Commit includes a ${String(type)} proposal`)
      }
    }
    if (contextChanges > 1) throw new MalformedError('Commit includes more than one GroupContextExtensions proposal')
    return pm
  }

  async #installEpochKey (nowMs: number): Promise<void> {
    this.#installKey(await this.#exportBaseKey(this.#state), nowMs)
  }

  /** The SFrame base key of `state`'s epoch (RFC 9605 section 5.2). */
  async #exportBaseKey (state: ClientState, nk = this.sframeKeyLength): Promise<Uint8Array> {
    return await mlsExporter(state.keySchedule.exporterSecret, SFRAME_EXPORTER_LABEL, new Uint8Array(0), nk, this.#cs)
  }

  /** Installs the current epoch's key (synchronously, right after the state switch) and wipes the caller's copy. */
  #installKey (key: Uint8Array, nowMs: number): void {
    this.keyRing.install(this.epoch, key, nowMs)
    key.fill(0)
  }

  /** This member as a signer: the MLS signature key is its identity key (identity.ts). */
  #signer (): MemberIdentity {
    const seed = this.#state.signaturePrivateKey
    return { peerId: this.identity, seed, publicKey: this.#ownLeafKey() }
  }

  #ownLeafKey (): Uint8Array {
    const node = this.#state.ratchetTree[2 * this.ownLeafIndex]
    if (node?.nodeType !== 'leaf') throw new FabricError('INTERNAL', 'own leaf is blank')
    return node.leaf.signaturePublicKey
  }

  #checkAlive (): void {
    if (this.#removed) throw new FabricError('REMOVED', 'this member was removed from the group')
  }

  #checkCanCommit (): void {
    this.#checkAlive()
    if (this.#pending !== undefined) throw new FabricError('INVALID_STATE', 'a Commit is already pending: apply or discard it first')
  }

  /** Runs mutating operations one at a time, in call order. */
  async #exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return await run
  }
}

/**
 * The KeyPackageRefs (RFC 9420 section 5.2) a Welcome carries secrets for,
 * so a joiner holding several KeyPackages knows which one it was added with.
 *
 * @throws TooLargeError above 1 MiB; MalformedError when it is not a Welcome
 */
export function welcomeKeyPackageRefs (welcome: Uint8Array): Uint8Array[] {
  checkSize('Welcome', welcome, MAX_WELCOME_BYTES)
  const msg = decodeWholeMlsMessage('Welcome', welcome)
  if (msg.wireformat !== 'mls_welcome') throw new MalformedError(`expected an MLSMessage Welcome, got ${msg.wireformat}`)
  return msg.welcome.secrets.map((s) => Uint8Array.from(s.newMember))
}

/** Whole seconds since the Unix epoch of a ms clock reading. */
function secondsOf (nowMs: number): bigint {
  return BigInt(Math.floor(nowMs / 1000))
}

/** The GroupContextExtensions proposal (RFC 9420 section 12.1.7) that sets `extensions`. */
function contextProposal (extensions: Extension[]): Proposal {
  return { proposalType: 'group_context_extensions', groupContextExtensions: { extensions } }
}

/** Refuses an SFrame key length outside 1..64 bytes. */
function checkKeyLength (nk: number | undefined): void {
  if (nk !== undefined && (!Number.isInteger(nk) || nk < 1 || nk > 64)) {
    throw new FabricError('INVALID_STATE', `SFrame key length ${nk} outside 1..64`)
  }
}

