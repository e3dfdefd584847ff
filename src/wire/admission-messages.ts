/**
 * Bounded codecs of the admission messages (protocol/admission.proto,
 * protocol/admission.md): policies, invitations, redemptions, tokens and the
 * ledger. They check shape only (sizes, counts, names, lengths, versions,
 * repeats); signatures and whether a policy admits someone are the session
 * layer's (src/session/admission/).
 */
import { MalformedError } from '../errors.js'
import { validateIdentity } from './identity.js'
import {
  ED25519_KEY_BYTES, ED25519_SIGNATURE_BYTES, GROUP_ID_LENGTH, INVITATION_ID_LENGTH, MAX_ADMISSION_LEDGER,
  MAX_ADMISSION_POLICY, MAX_INVITATION, MAX_INVITATION_TOKEN, MAX_LEDGER_ADMITTED, MAX_LEDGER_SPENT,
  MAX_POLICY_ALLOW, MAX_POLICY_INVITERS, MAX_REDEMPTION, MAX_SIGNED_POLICY,
} from './limits.js'
import {
  checkBytes, checkCount, checkEncodedSize, checkU32, checkU64, checkVersion, decodeBounded, withVersion, type Unversioned,
} from './message-codec.js'
import {
  AdmissionLedger, AdmissionPolicy, Invitation, InvitationToken, Redemption, SignedInvitation, SignedPolicy,
} from './pb/admission.js'
import { validateStreamName } from './stream-tag.js'
import { toHex } from './text.js'

export { AdmissionLedger, AdmissionPolicy, Invitation, InvitationToken, Redemption, SignedInvitation, SignedPolicy }
export type { Admission, Spent } from './pb/admission.js'

/**
 * Encodes an AdmissionPolicy (version 1 written for the caller).
 * @throws what decodeAdmissionPolicy would throw for the result; RangeError on a u64 out of range
 */
export function encodeAdmissionPolicy (p: Unversioned<AdmissionPolicy>): Uint8Array {
  const full = withVersion<AdmissionPolicy>('AdmissionPolicy', p)
  checkU64('policy.serial', full.serial)
  checkCount('policy.allow', full.allow, MAX_POLICY_ALLOW)
  checkCount('policy.inviters', full.inviters, MAX_POLICY_INVITERS)
  checkPolicy(full)
  return checkEncodedSize('AdmissionPolicy', AdmissionPolicy.encode(full), MAX_ADMISSION_POLICY)
}

/**
 * Decodes an AdmissionPolicy. Rules: version 1; owner, every allow and
 * inviters entry a valid identity, none repeated within its list; stream a
 * valid name; group_id exactly 32 bytes; at most 1 024 allow and 64 inviters.
 * @throws TooLargeError above 96 KiB; MalformedError on a broken rule;
 *         FabricError UNSUPPORTED_VERSION when version is not 1
 */
export function decodeAdmissionPolicy (bytes: Uint8Array): AdmissionPolicy {
  const p = decodeBounded<AdmissionPolicy>('AdmissionPolicy', bytes, MAX_ADMISSION_POLICY, AdmissionPolicy.codec(), {
    allow: MAX_POLICY_ALLOW, inviters: MAX_POLICY_INVITERS,
  })
  checkVersion('AdmissionPolicy', p.version)
  checkPolicy(p)
  return p
}

function checkPolicy (p: AdmissionPolicy): void {
  validateIdentity(p.owner)
  validateStreamName(p.stream)
  checkBytes('policy.group_id', p.groupId, GROUP_ID_LENGTH, GROUP_ID_LENGTH)
  checkIdentityList('policy.allow', p.allow)
  checkIdentityList('policy.inviters', p.inviters)
}

/**
 * Encodes a SignedPolicy.
 * @throws what decodeSignedPolicy would throw for the result
 */
export function encodeSignedPolicy (p: SignedPolicy): Uint8Array {
  checkSigned('SignedPolicy', p.policy, p.signature, MAX_ADMISSION_POLICY)
  return checkEncodedSize('SignedPolicy', SignedPolicy.encode(p), MAX_SIGNED_POLICY)
}

/**
 * Decodes a SignedPolicy: a 1 B..96 KiB policy and a 64-byte signature. The
 * policy bytes are not decoded here (decodeAdmissionPolicy, after the
 * signature verified). Bytes fields are views into `bytes`.
 * @throws TooLargeError | MalformedError
 */
export function decodeSignedPolicy (bytes: Uint8Array): SignedPolicy {
  const p = decodeBounded<SignedPolicy>('SignedPolicy', bytes, MAX_SIGNED_POLICY, SignedPolicy.codec())
  checkSigned('SignedPolicy', p.policy, p.signature, MAX_ADMISSION_POLICY)
  return p
}

/**
 * Encodes an Invitation (version 1 written for the caller).
 * @throws what decodeInvitation would throw for the result; RangeError on an integer out of range
 */
export function encodeInvitation (inv: Unversioned<Invitation>): Uint8Array {
  const full = withVersion<Invitation>('Invitation', inv)
  checkU64('invitation.expires_at', full.expiresAt)
  checkU32('invitation.max_uses', full.maxUses)
  checkInvitation(full)
  return checkEncodedSize('Invitation', Invitation.encode(full), MAX_INVITATION)
}

/**
 * Decodes an Invitation. Rules: version 1; owner and issuer valid
 * identities; invitee empty or a valid identity; stream a valid name;
 * group_id 32 bytes; key 32 bytes; id 16 bytes; expires_at and max_uses at
 * least 1.
 * @throws TooLargeError above 1 KiB; MalformedError; FabricError UNSUPPORTED_VERSION
 */
export function decodeInvitation (bytes: Uint8Array): Invitation {
  const inv = decodeBounded<Invitation>('Invitation', bytes, MAX_INVITATION, Invitation.codec())
  checkVersion('Invitation', inv.version)
  checkInvitation(inv)
  return inv
}

function checkInvitation (inv: Invitation): void {
  validateIdentity(inv.owner)
  validateIdentity(inv.issuer)
  if (inv.invitee !== '') validateIdentity(inv.invitee)
  validateStreamName(inv.stream)
  checkBytes('invitation.group_id', inv.groupId, GROUP_ID_LENGTH, GROUP_ID_LENGTH)
  checkBytes('invitation.key', inv.key, ED25519_KEY_BYTES, ED25519_KEY_BYTES)
  checkBytes('invitation.id', inv.id, INVITATION_ID_LENGTH, INVITATION_ID_LENGTH)
  if (inv.expiresAt < 1n) throw new MalformedError('invitation.expires_at is missing')
  if (inv.maxUses < 1) throw new MalformedError('invitation.max_uses must be at least 1')
}

/**
 * Encodes a SignedInvitation.
 * @throws what decodeSignedInvitation would throw for the result
 */
export function encodeSignedInvitation (s: SignedInvitation): Uint8Array {
  checkSigned('SignedInvitation', s.invitation, s.signature, MAX_INVITATION)
  return SignedInvitation.encode(s)
}

/**
 * Decodes a SignedInvitation: a 1 B..1 KiB invitation and a 64-byte
 * signature (the invitation bytes are decoded by decodeInvitation).
 * @throws TooLargeError | MalformedError
 */
export function decodeSignedInvitation (bytes: Uint8Array): SignedInvitation {
  const s = decodeBounded<SignedInvitation>('SignedInvitation', bytes, MAX_INVITATION + 128, SignedInvitation.codec())
  checkSigned('SignedInvitation', s.invitation, s.signature, MAX_INVITATION)
  return s
}

/**
 * Encodes a Redemption.
 * @throws what decodeRedemption would throw for the result
 */
export function encodeRedemption (r: Redemption): Uint8Array {
  checkRedemption(r)
  return checkEncodedSize('Redemption', Redemption.encode(r), MAX_REDEMPTION)
}

/**
 * Decodes a Redemption: a SignedInvitation (as decodeSignedInvitation
 * checks it), a valid joiner identity and a 64-byte signature.
 * @throws TooLargeError above 2 KiB; MalformedError
 */
export function decodeRedemption (bytes: Uint8Array): Redemption {
  const r = decodeBounded<Redemption>('Redemption', bytes, MAX_REDEMPTION, Redemption.codec())
  checkRedemption(r)
  return r
}

function checkRedemption (r: Redemption): void {
  if (r.invitation == null) throw new MalformedError('redemption.invitation is missing')
  checkSigned('redemption.invitation', r.invitation.invitation, r.invitation.signature, MAX_INVITATION)
  validateIdentity(r.joiner)
  checkBytes('redemption.signature', r.signature, ED25519_SIGNATURE_BYTES, ED25519_SIGNATURE_BYTES)
}

/**
 * Encodes an InvitationToken.
 * @throws what decodeInvitationToken would throw for the result
 */
export function encodeInvitationToken (t: InvitationToken): Uint8Array {
  checkToken(t)
  return checkEncodedSize('InvitationToken', InvitationToken.encode(t), MAX_INVITATION_TOKEN)
}

/**
 * Decodes an InvitationToken: a SignedInvitation and a 32-byte seed.
 * @throws TooLargeError above 2 KiB; MalformedError
 */
export function decodeInvitationToken (bytes: Uint8Array): InvitationToken {
  const t = decodeBounded<InvitationToken>('InvitationToken', bytes, MAX_INVITATION_TOKEN, InvitationToken.codec())
  checkToken(t)
  return t
}

function checkToken (t: InvitationToken): void {
  if (t.invitation == null) throw new MalformedError('token.invitation is missing')
  checkSigned('token.invitation', t.invitation.invitation, t.invitation.signature, MAX_INVITATION)
  checkBytes('token.seed', t.seed, ED25519_KEY_BYTES, ED25519_KEY_BYTES)
}

/**
 * Encodes an AdmissionLedger (version 1 written for the caller).
 * @throws what decodeAdmissionLedger would throw for the result
 */
export function encodeAdmissionLedger (l: Unversioned<AdmissionLedger>): Uint8Array {
  const full = withVersion<AdmissionLedger>('AdmissionLedger', l)
  checkCount('ledger.admitted', full.admitted, MAX_LEDGER_ADMITTED)
  checkCount('ledger.spent', full.spent, MAX_LEDGER_SPENT)
  checkLedger(full)
  return checkEncodedSize('AdmissionLedger', AdmissionLedger.encode(full), MAX_ADMISSION_LEDGER)
}

/**
 * Decodes an AdmissionLedger. Rules: version 1; at most 256 admitted
 * entries, each a valid identity (none twice) with a Redemption naming it as
 * joiner; at most 4 096 spent entries, each a 16-byte invitation id (none
 * twice) with at least 1 use.
 * @throws TooLargeError above 768 KiB; MalformedError; FabricError UNSUPPORTED_VERSION
 */
export function decodeAdmissionLedger (bytes: Uint8Array): AdmissionLedger {
  const l = decodeBounded<AdmissionLedger>('AdmissionLedger', bytes, MAX_ADMISSION_LEDGER, AdmissionLedger.codec(), {
    admitted: MAX_LEDGER_ADMITTED, spent: MAX_LEDGER_SPENT,
  })
  checkVersion('AdmissionLedger', l.version)
  checkLedger(l)
  return l
}

function checkLedger (l: AdmissionLedger): void {
  const identities = new Set<string>()
  for (const a of l.admitted) {
    validateIdentity(a.identity)
    if (identities.has(a.identity)) throw new MalformedError(`ledger admits ${a.identity} twice`)
    identities.add(a.identity)
    if (a.evidence == null) throw new MalformedError(`ledger entry of ${a.identity} has no evidence`)
    checkRedemption(a.evidence)
    if (a.evidence.joiner !== a.identity) throw new MalformedError(`ledger entry of ${a.identity} holds evidence for ${a.evidence.joiner}`)
  }
  const ids = new Set<string>()
  for (const s of l.spent) {
    checkBytes('ledger.spent.invitation_id', s.invitationId, INVITATION_ID_LENGTH, INVITATION_ID_LENGTH)
    const key = toHex(s.invitationId)
    if (ids.has(key)) throw new MalformedError(`ledger counts invitation ${key} twice`)
    ids.add(key)
    if (s.uses < 1) throw new MalformedError(`ledger counts invitation ${key} with no use`)
  }
}

function checkSigned (what: string, body: Uint8Array, signature: Uint8Array, maxBody: number): void {
  checkBytes(`${what} body`, body, 1, maxBody)
  checkBytes(`${what} signature`, signature, ED25519_SIGNATURE_BYTES, ED25519_SIGNATURE_BYTES)
}

function checkIdentityList (what: string, ids: readonly string[]): void {
  const seen = new Set<string>()
  for (const id of ids) {
    validateIdentity(id)
    if (seen.has(id)) throw new MalformedError(`${what} names ${id} twice`)
    seen.add(id)
  }
}
