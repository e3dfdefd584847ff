/**
 * Admission policies (protocol/admission.md "Policy"): the owner's signed
 * rules for who may be in a stream's group. A policy travels in the group's
 * GroupContext (extensions.ts) as a SignedPolicy, so every member holds the
 * same one and checks every Commit against it; only the owner's key can make
 * a new one, and a new one must carry a higher serial.
 */
import { FabricError, MalformedError } from '../../errors.js'
import {
  decodeAdmissionPolicy, decodeSignedPolicy, encodeAdmissionPolicy, encodeSignedPolicy, type AdmissionPolicy,
} from '../../wire/admission-messages.js'
import { MAX_POLICY_ALLOW, MAX_POLICY_INVITERS } from '../../wire/limits.js'
import { streamGroupId, streamKey } from '../../wire/stream-tag.js'
import { equalBytes } from '../bytes.js'
import { publicKeyOfPeerId, signWithDomain, verifyWithDomain, type MemberIdentity } from '../identity.js'

/** What an owner says about who may join, as an app gives it. */
export interface AdmissionRules {
  /**
   * 'closed' (default): only the owner, the `allow` list and holders of
   * invitations (and, with `knock`, those the committer approves). 'open':
   * anyone who asks; only by saying so.
   */
  admission?: 'open' | 'closed'
  /** Identities (peer ids) admitted by name; at most 1 024. */
  allow?: readonly string[]
  /** Members who may sign invitations besides the owner; at most 64. */
  inviters?: readonly string[]
  /** Join requests of identities not otherwise admitted reach the committer's app, which approves or denies. */
  knock?: boolean
}

/** A policy whose owner signature verified, with its lookups. */
export interface VerifiedPolicy {
  /** The SignedPolicy encoding: the fabric_admission_policy extension value. */
  readonly bytes: Uint8Array
  /** The decoded AdmissionPolicy. */
  readonly policy: AdmissionPolicy
  readonly allow: ReadonlySet<string>
  readonly inviters: ReadonlySet<string>
}

/** What a policy must say to be the one a member expects. */
export interface PolicyExpectation {
  owner?: string
  stream?: string
  groupId?: Uint8Array
}

/**
 * Makes and signs the policy of stream `stream` owned by `owner`.
 *
 * @param serial 0 at creation, one more than the policy it replaces after
 * @throws MalformedError on an invalid stream name or identity in the rules
 * @throws TooLargeError above the list bounds (1 024 allow, 64 inviters)
 */
export function signPolicy (owner: MemberIdentity, stream: string, rules: AdmissionRules, serial: bigint): VerifiedPolicy {
  const allow = dedupe(rules.allow ?? []).filter((id) => id !== owner.peerId)
  const inviters = dedupe(rules.inviters ?? []).filter((id) => id !== owner.peerId)
  if (allow.length > MAX_POLICY_ALLOW) throw new FabricError('TOO_LARGE', `a policy allows at most ${MAX_POLICY_ALLOW} identities, got ${allow.length}`)
  if (inviters.length > MAX_POLICY_INVITERS) throw new FabricError('TOO_LARGE', `a policy names at most ${MAX_POLICY_INVITERS} inviters, got ${inviters.length}`)
  const policyBytes = encodeAdmissionPolicy({
    owner: owner.peerId,
    stream,
    groupId: streamGroupId(streamKey(owner.peerId, stream)),
    serial,
    open: rules.admission === 'open',
    knock: rules.knock === true,
    allow,
    inviters,
  })
  const signature = signWithDomain(owner.seed, 'fabric admission policy v1', policyBytes)
  return verifySignedPolicy(encodeSignedPolicy({ policy: policyBytes as Uint8Array<ArrayBuffer>, signature: signature as Uint8Array<ArrayBuffer> }))
}

/**
 * Decodes a SignedPolicy and checks it: it is in canonical encoding, the
 * owner it names signed it, its group id is the one its owner and stream
 * derive, and it says what `expect` asks for.
 *
 * @throws MalformedError | TooLargeError when it does not decode or is not canonical
 * @throws FabricError AUTH_FAILED when the signature is not its owner's
 * @throws FabricError OWNER_MISMATCH when owner, stream or group id differ from `expect`
 */
export function verifySignedPolicy (bytes: Uint8Array, expect: PolicyExpectation = {}): VerifiedPolicy {
  const signed = decodeSignedPolicy(bytes)
  // Members compare the policy extension byte for byte (a change must be a
  // successor), so, as with the ledger, only its canonical form is accepted:
  // the protobuf decoder also reads other forms (any field order, a field's
  // wire type ignored) as the same policy.
  if (!equalBytes(encodeSignedPolicy(signed), bytes)) throw new MalformedError('the signed admission policy is not in canonical encoding')
  const policy = decodeAdmissionPolicy(signed.policy)
  const ownerKey = publicKeyOfPeerId(policy.owner)
  if (!verifyWithDomain(ownerKey, 'fabric admission policy v1', signed.policy, signed.signature)) {
    throw new FabricError('AUTH_FAILED', `the admission policy is not signed by its owner ${policy.owner}`)
  }
  if (!equalBytes(policy.groupId, streamGroupId(streamKey(policy.owner, policy.stream)))) {
    throw new MalformedError('the admission policy names a group id its owner and stream do not give')
  }
  if (expect.owner !== undefined && policy.owner !== expect.owner) {
    throw new FabricError('OWNER_MISMATCH', `the group is owned by ${policy.owner}, not by ${expect.owner}`)
  }
  if (expect.stream !== undefined && policy.stream !== expect.stream) {
    throw new FabricError('OWNER_MISMATCH', `the group is stream ${policy.stream}, not ${expect.stream}`)
  }
  if (expect.groupId !== undefined && !equalBytes(policy.groupId, expect.groupId)) {
    throw new FabricError('OWNER_MISMATCH', 'the admission policy is for another MLS group')
  }
  return { bytes: Uint8Array.from(bytes), policy, allow: new Set(policy.allow), inviters: new Set(policy.inviters) }
}

/**
 * Checks that `next` may replace `current`: same owner, stream and group,
 * a higher serial (so an old policy cannot be replayed).
 *
 * @throws FabricError NOT_ADMITTED when it may not
 */
export function checkPolicySuccessor (current: VerifiedPolicy, next: VerifiedPolicy): void {
  const a = current.policy
  const b = next.policy
  if (a.owner !== b.owner || a.stream !== b.stream || !equalBytes(a.groupId, b.groupId)) {
    throw new FabricError('NOT_ADMITTED', 'a policy change may not change the owner, stream or group')
  }
  if (b.serial <= a.serial) throw new FabricError('NOT_ADMITTED', `policy serial ${b.serial} does not follow ${a.serial}`)
}

/** True when the policy admits `identity` without evidence: the owner, anyone when open, or the allow list. */
export function admitsByName (p: VerifiedPolicy, identity: string): boolean {
  return identity === p.policy.owner || p.policy.open || p.allow.has(identity)
}

/** True when `issuer` may sign invitations (and approve knocks): the owner or a listed inviter. */
export function mayInvite (p: VerifiedPolicy, issuer: string): boolean {
  return issuer === p.policy.owner || p.inviters.has(issuer)
}

/** The rules a verified policy states, for an app to show or change. */
export function rulesOf (p: VerifiedPolicy): Required<AdmissionRules> {
  return {
    admission: p.policy.open ? 'open' : 'closed',
    allow: [...p.policy.allow],
    inviters: [...p.policy.inviters],
    knock: p.policy.knock,
  }
}

function dedupe (ids: readonly string[]): string[] {
  return [...new Set(ids)]
}
