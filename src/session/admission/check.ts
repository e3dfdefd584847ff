/**
 * The admission checks (protocol/admission.md "Checks"), pure functions of
 * the admission state, the identities involved and the time:
 *
 * - the committer decides a join request (decideJoin), and turns an approved
 *   knock into evidence (approveKnock);
 * - every member checks what a Commit does to the group against the policy
 *   the group holds (checkCommitAdmission): nobody can be added that the
 *   policy does not admit, the ledger changes exactly as the Commit's
 *   admissions say, and a new policy is the owner's and newer;
 * - a joiner checks the group it was welcomed into (checkGroupAdmitted):
 *   every member in it is admitted, by name or by evidence.
 */
import type { Extension } from 'ts-mls'
import { FabricError } from '../../errors.js'
import { equalBytes } from '../bytes.js'
import type { MemberIdentity } from '../identity.js'
import { readAdmissionExtensions } from './extensions.js'
import {
  checkNotExpired, checkRedemption, createInvitation, INVITATION_EXPIRY_GRACE_SECONDS, parseInvitationToken,
  redeemInvitation, type CheckedRedemption,
} from './invitation.js'
import { nextLedger, readLedger, type LedgerState, type NewAdmission } from './ledger.js'
import { admitsByName, checkPolicySuccessor, mayInvite, verifySignedPolicy, type PolicyExpectation, type VerifiedPolicy } from './policy.js'

/** Lifetime of the invitation an approved knock becomes, seconds. */
export const KNOCK_APPROVAL_LIFETIME_SECONDS = 600

/** A group's admission state: its verified policy and its ledger. */
export interface AdmissionState {
  readonly policy: VerifiedPolicy
  readonly ledger: LedgerState
}

/**
 * Reads and verifies the admission state of a GroupContext extension list.
 *
 * @throws MalformedError when the extensions are missing, extra or do not decode
 * @throws FabricError AUTH_FAILED when the policy is not its owner's
 * @throws FabricError OWNER_MISMATCH when it is not what `expect` asks for
 */
export function readAdmissionState (extensions: readonly Extension[], expect?: PolicyExpectation): AdmissionState {
  const ext = readAdmissionExtensions(extensions)
  return { policy: verifySignedPolicy(ext.signedPolicy, expect), ledger: readLedger(ext.ledger) }
}

/** What the committer does with a join request. */
export type JoinDecision =
  /** Admitted by name (owner, allow list, open stream): add without evidence. */
  | { kind: 'admit' }
  /** Admitted on a valid redemption: add, recording it in the ledger. */
  | { kind: 'evidence', admission: NewAdmission }
  /** Not admitted, but the policy lets the committer's app approve or deny. */
  | { kind: 'knock' }
  /** Refused; `reason` says why (for the joiner's NOT_ADMITTED). */
  | { kind: 'deny', reason: string }

/**
 * Decides a join request as the committer must before adding anyone. An
 * invitation is checked strictly against the clock (members allow some
 * slack later, see INVITATION_EXPIRY_GRACE_SECONDS).
 *
 * @param redemption the Redemption the joiner presented, if any
 * @param pendingUses uses of invitations (by hex id) already granted in the Commit being built
 */
export function decideJoin (
  state: AdmissionState,
  identity: string,
  redemption: Uint8Array | undefined,
  nowSeconds: bigint,
  pendingUses: ReadonlyMap<string, number> = new Map(),
): JoinDecision {
  const { policy } = state
  if (admitsByName(policy, identity)) return { kind: 'admit' }
  if (redemption !== undefined && redemption.byteLength > 0) {
    let checked: CheckedRedemption
    try {
      checked = checkRedemption(redemption, policy, identity)
      checkNotExpired(checked.invitation, nowSeconds)
      checkUsesLeft(state.ledger, checked, pendingUses.get(checked.idHex) ?? 0)
    } catch (err) {
      return { kind: 'deny', reason: err instanceof Error ? err.message : String(err) }
    }
    return { kind: 'evidence', admission: { admission: { identity, evidence: checked.redemption }, invitationId: checked.invitation.id } }
  }
  if (policy.policy.knock) return { kind: 'knock' }
  return { kind: 'deny', reason: `${identity} is not on the stream's allow list and presented no invitation` }
}

/**
 * Turns an approved knock into evidence: `approver` (the owner or an
 * inviter) issues a one-use invitation naming the knocker and redeems it for
 * it, so every member can check the approval like any invitation.
 *
 * @throws FabricError NOT_ADMITTED when `approver` may not invite under the policy
 */
export function approveKnock (state: AdmissionState, approver: MemberIdentity, joiner: string, nowSeconds: bigint): NewAdmission {
  const p = state.policy
  if (!mayInvite(p, approver.peerId)) throw new FabricError('NOT_ADMITTED', `${approver.peerId} may not approve joins: only the owner and listed inviters can`)
  const token = createInvitation(approver, p.policy.owner, p.policy.stream, {
    invitee: joiner,
    expiresAtSeconds: nowSeconds + BigInt(KNOCK_APPROVAL_LIFETIME_SECONDS),
    maxUses: 1,
  })
  const checked = checkRedemption(redeemInvitation(parseInvitationToken(token.text), joiner), p, joiner)
  return { admission: { identity: joiner, evidence: checked.redemption }, invitationId: checked.invitation.id }
}

/** What a Commit does, as a member reads it before accepting it. */
export interface CommitAdmissionInput {
  /** The group's admission state before the Commit. */
  before: AdmissionState
  /** The GroupContext extensions after the Commit. */
  afterExtensions: readonly Extension[]
  /** Identities the Commit adds, in Add order. */
  added: readonly string[]
  /** Identities in the group after the Commit. */
  survivors: ReadonlySet<string>
  /** The member's clock, seconds since the Unix epoch. */
  nowSeconds: bigint
  /**
   * Slack on invitation expiry, seconds; default INVITATION_EXPIRY_GRACE_SECONDS
   * (a member checking someone else's Commit). The committer checking its own
   * Commit passes 0: it holds itself to the strict clock, as decideJoin does,
   * so the members' slack is left for their clocks and the Commit's transit.
   */
  graceSeconds?: bigint
}

/**
 * Checks a Commit against the admission policy, as every member does before
 * it moves to the Commit's epoch:
 * 1. a changed policy is signed by the owner, for the same stream, with a
 *    higher serial;
 * 2. every added identity is admitted by the policy after the Commit, by
 *    name or by an entry of the new ledger whose redemption verifies, has
 *    not expired (with `graceSeconds` of slack) and stays within the
 *    invitation's uses;
 * 3. the new ledger is exactly nextLedger(old, survivors, those admissions);
 * 4. after a policy change, every member is still admitted.
 *
 * @returns the admission state after the Commit
 * @throws FabricError NOT_ADMITTED (or AUTH_FAILED, MALFORMED for undecodable
 *         or unsigned state) naming the first check that fails
 */
export function checkCommitAdmission (input: CommitAdmissionInput): AdmissionState {
  const { before, added, survivors, nowSeconds } = input
  const ext = readAdmissionExtensions(input.afterExtensions)
  const policyChanged = !equalBytes(ext.signedPolicy, before.policy.bytes)
  const policy = policyChanged ? verifySignedPolicy(ext.signedPolicy) : before.policy
  if (policyChanged) checkPolicySuccessor(before.policy, policy)
  const ledgerChanged = !equalBytes(ext.ledger, before.ledger.bytes)
  const ledger = ledgerChanged ? readLedger(ext.ledger) : before.ledger

  const admissions: NewAdmission[] = []
  const uses = new Map<string, number>()
  for (const identity of added) {
    if (admitsByName(policy, identity)) continue
    const entry = ledgerChanged ? ledger.admitted.get(identity) : undefined
    if (entry === undefined) {
      throw new FabricError('NOT_ADMITTED', `the Commit adds ${identity}, whom the stream's policy does not admit`)
    }
    const checked = checkRedemption(entry.evidence!, policy, identity)
    checkNotExpired(checked.invitation, nowSeconds, input.graceSeconds ?? BigInt(INVITATION_EXPIRY_GRACE_SECONDS))
    checkUsesLeft(before.ledger, checked, uses.get(checked.idHex) ?? 0)
    uses.set(checked.idHex, (uses.get(checked.idHex) ?? 0) + 1)
    admissions.push({ admission: entry, invitationId: checked.invitation.id })
  }
  if (ledgerChanged && !equalBytes(nextLedger(before.ledger, survivors, admissions), ext.ledger)) {
    throw new FabricError('NOT_ADMITTED', 'the Commit changes the admission ledger other than its admissions require')
  }
  const after = { policy, ledger }
  if (policyChanged) checkGroupAdmitted(after, survivors)
  return after
}

/**
 * Checks that every member of a group is admitted by its policy: by name,
 * or by its ledger entry's redemption (issuer and signatures; expiry and use
 * counts were checked when it was added). A joiner runs this on the group it
 * was welcomed into, so a group assembled by someone else (a node replaying
 * a policy it saw, say) cannot pass for the owner's.
 *
 * @throws FabricError NOT_ADMITTED naming the first member without standing
 */
export function checkGroupAdmitted (state: AdmissionState, members: Iterable<string>): void {
  for (const identity of members) {
    if (admitsByName(state.policy, identity)) continue
    const entry = state.ledger.admitted.get(identity)
    if (entry === undefined) throw new FabricError('NOT_ADMITTED', `${identity} is in the group but the stream's policy does not admit it`)
    checkRedemption(entry.evidence!, state.policy, identity)
  }
}

/** @throws FabricError NOT_ADMITTED when the invitation has no use left */
function checkUsesLeft (ledger: LedgerState, checked: CheckedRedemption, pending: number): void {
  const used = (ledger.uses.get(checked.idHex) ?? 0) + pending
  if (used >= checked.invitation.maxUses) {
    throw new FabricError('NOT_ADMITTED', `invitation refused: all ${checked.invitation.maxUses} of its uses are spent`)
  }
}
