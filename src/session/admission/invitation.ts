/**
 * Invitations (protocol/admission.md "Invitations"): a statement signed by
 * the owner or an inviter that admits up to `max_uses` identities (or one
 * named identity) to one stream until it expires.
 *
 * An invitation carries a public key whose seed only the token holds. A
 * joiner never sends the token: it sends a Redemption, the invitation plus a
 * signature with that seed over its own identity. The node that carries the
 * redemption sees everything in it and still cannot use it for anyone else,
 * and a forged invitation fails its issuer's signature at every member.
 */
import { FabricError, MalformedError } from '../../errors.js'
import { defaultCryptoBackend } from '../../crypto/default-backend.js'
import { fromBase64url, toBase64url, toHex } from '../../wire/text.js'
import { ed25519PublicKey } from '../../crypto/ed25519.js'
import {
  decodeInvitation, decodeInvitationToken, decodeRedemption, encodeInvitation, encodeInvitationToken, encodeRedemption,
  type Invitation, type InvitationToken, type Redemption, type SignedInvitation,
} from '../../wire/admission-messages.js'
import { INVITATION_ID_LENGTH, MAX_INVITATION_TOKEN } from '../../wire/limits.js'
import { streamGroupId, streamKey } from '../../wire/stream-tag.js'
import { equalBytes } from '../bytes.js'
import { signWithDomain, verifyByPeer, verifyWithDomain, type MemberIdentity } from '../identity.js'
import { mayInvite, type VerifiedPolicy } from './policy.js'

/** Text form of a token: this prefix, then base64url (no padding) of the InvitationToken. */
export const TOKEN_PREFIX = 'fabric-invite-1.'

/** Longest token text accepted: the prefix and the base64url of MAX_INVITATION_TOKEN bytes. */
export const MAX_TOKEN_TEXT = TOKEN_PREFIX.length + Math.ceil(MAX_INVITATION_TOKEN * 4 / 3)

/** Default lifetime of an invitation, seconds (7 days). */
export const DEFAULT_INVITATION_LIFETIME_SECONDS = 7 * 24 * 3600

/**
 * Slack given to an invitation's expiry when a member checks a Commit that
 * used it, seconds: the committer checked it strictly when it committed, and
 * a member's clock may differ a little or the Commit take a moment to
 * arrive; refusing there would split the group over a clock.
 */
export const INVITATION_EXPIRY_GRACE_SECONDS = 300

/** What an issuer puts in an invitation. */
export interface InvitationOptions {
  /** Peer id of the only identity that may use it; default: whoever holds the token. */
  invitee?: string
  /** Expiry, seconds since the Unix epoch. */
  expiresAtSeconds: bigint
  /** How many identities it may admit; default 1. */
  maxUses?: number
}

/** An invitation token, parsed. */
export interface ParsedToken {
  /** The token's text form. */
  readonly text: string
  readonly signed: SignedInvitation
  readonly invitation: Invitation
  /** The seed of the invitation key (secret). */
  readonly seed: Uint8Array
}

/** A redemption whose signatures verified against a policy. */
export interface CheckedRedemption {
  readonly invitation: Invitation
  /** Hex of the invitation id, the ledger's key. */
  readonly idHex: string
  /** The Redemption as decoded. */
  readonly redemption: Redemption
}

/**
 * Makes an invitation to stream `stream` of `owner`, signed by `issuer`.
 * Whether the issuer may invite is for the members to check when it is used
 * (the owner, or an inviter of the policy then in force).
 *
 * @returns the token (secret: whoever holds it can use it)
 * @throws MalformedError | TooLargeError on an invalid name or identity
 * @throws RangeError on a max_uses or expiry out of range
 */
export function createInvitation (issuer: MemberIdentity, owner: string, stream: string, options: InvitationOptions): ParsedToken {
  const seed = Uint8Array.from(defaultCryptoBackend().randomBytes(32))
  const invitationBytes = encodeInvitation({
    owner,
    stream,
    groupId: streamGroupId(streamKey(owner, stream)),
    issuer: issuer.peerId,
    invitee: options.invitee ?? '',
    key: ed25519PublicKey(seed),
    expiresAt: options.expiresAtSeconds,
    maxUses: options.maxUses ?? 1,
    id: Uint8Array.from(defaultCryptoBackend().randomBytes(INVITATION_ID_LENGTH)),
  })
  const signed: SignedInvitation = {
    invitation: invitationBytes as Uint8Array<ArrayBuffer>,
    signature: signWithDomain(issuer.seed, 'fabric invitation v1', invitationBytes) as Uint8Array<ArrayBuffer>,
  }
  const bytes = encodeInvitationToken({ invitation: signed, seed: seed as Uint8Array<ArrayBuffer> })
  return parseInvitationToken(TOKEN_PREFIX + toBase64url(bytes))
}

/**
 * Parses a token's text form. Checks its shape only; the issuer's signature
 * and the policy are checked where it is used.
 *
 * @throws MalformedError on a wrong prefix, bad base64url or a token that does not decode
 * @throws TooLargeError on a text longer than MAX_TOKEN_TEXT
 */
export function parseInvitationToken (text: string): ParsedToken {
  if (typeof text !== 'string') throw new MalformedError('an invitation token is text')
  const trimmed = text.trim()
  if (trimmed.length > MAX_TOKEN_TEXT) throw new FabricError('TOO_LARGE', `an invitation token is at most ${MAX_TOKEN_TEXT} characters`)
  if (!trimmed.startsWith(TOKEN_PREFIX)) throw new MalformedError(`an invitation token starts with ${TOKEN_PREFIX}`)
  const body = trimmed.slice(TOKEN_PREFIX.length)
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new MalformedError('an invitation token is base64url after its prefix')
  const token: InvitationToken = decodeInvitationToken(Uint8Array.from(fromBase64url(body)))
  const signed = token.invitation!
  const invitation = decodeInvitation(signed.invitation)
  if (!equalBytes(ed25519PublicKey(token.seed), invitation.key)) throw new MalformedError('the token\'s seed is not the invitation\'s key')
  return { text: trimmed, signed, invitation, seed: Uint8Array.from(token.seed) }
}

/**
 * The Redemption `joiner` presents with its join request: the invitation
 * and a signature with the token's seed over id || UTF-8(joiner).
 *
 * @throws FabricError NOT_ADMITTED when the invitation names another invitee
 */
export function redeemInvitation (token: ParsedToken, joiner: string): Uint8Array {
  const invitee = token.invitation.invitee
  if (invitee !== '' && invitee !== joiner) throw new FabricError('NOT_ADMITTED', `the invitation is for ${invitee}, not ${joiner}`)
  return encodeRedemption({
    invitation: token.signed,
    joiner,
    signature: signWithDomain(token.seed, 'fabric invitation redemption v1', redemptionContent(token.invitation.id, joiner)) as Uint8Array<ArrayBuffer>,
  })
}

/**
 * Checks a redemption against a policy, without the clock: it decodes, its
 * joiner is `joiner`, the invitation is for this policy's stream and group,
 * its issuer may invite under this policy and signed it, it names no other
 * invitee, and the redemption signature is the invitation key's.
 *
 * @param redemption a Redemption's bytes or its decoded form
 * @throws FabricError NOT_ADMITTED naming the first check that fails
 * @throws MalformedError | TooLargeError when bytes do not decode
 */
export function checkRedemption (redemption: Uint8Array | Redemption, policy: VerifiedPolicy, joiner: string): CheckedRedemption {
  const r = redemption instanceof Uint8Array ? decodeRedemption(redemption) : redemption
  const refuse = (why: string): never => { throw new FabricError('NOT_ADMITTED', `invitation refused: ${why}`) }
  if (r.joiner !== joiner) refuse(`it was redeemed by ${r.joiner}, not ${joiner}`)
  const signed = r.invitation!
  const invitation = decodeInvitation(signed.invitation)
  const p = policy.policy
  if (invitation.owner !== p.owner || invitation.stream !== p.stream || !equalBytes(invitation.groupId, p.groupId)) {
    refuse('it is for another stream')
  }
  if (!mayInvite(policy, invitation.issuer)) refuse(`${invitation.issuer} may not invite to this stream`)
  if (!verifyByPeer(invitation.issuer, 'fabric invitation v1', signed.invitation, signed.signature)) refuse('its issuer did not sign it')
  if (invitation.invitee !== '' && invitation.invitee !== joiner) refuse(`it is for ${invitation.invitee}`)
  if (!verifyWithDomain(invitation.key, 'fabric invitation redemption v1', redemptionContent(invitation.id, joiner), r.signature)) {
    refuse('the redemption is not signed with the invitation key')
  }
  return { invitation, idHex: toHex(invitation.id), redemption: r }
}

/**
 * Refuses an invitation past its expiry at `nowSeconds` plus `graceSeconds`.
 * @throws FabricError NOT_ADMITTED
 */
export function checkNotExpired (invitation: Invitation, nowSeconds: bigint, graceSeconds = 0n): void {
  if (nowSeconds > invitation.expiresAt + graceSeconds) {
    throw new FabricError('NOT_ADMITTED', `invitation refused: it expired at ${invitation.expiresAt} (now ${nowSeconds})`)
  }
}

/** id || UTF-8(joiner): what a redemption signs. */
function redemptionContent (id: Uint8Array, joiner: string): Uint8Array {
  const name = new TextEncoder().encode(joiner)
  const out = new Uint8Array(id.length + name.length)
  out.set(id)
  out.set(name, id.length)
  return out
}
