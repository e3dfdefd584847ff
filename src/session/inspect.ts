/**
 * Reading MLS messages without group state, for the parts of a fabric node
 * that carry them but hold no keys: the directory (KeyPackages) and the group
 * service, the MLS delivery service (Commits, which fabric sends as
 * PublicMessage so that their epoch and roster changes are readable).
 */
import type { ContentTypeName, SenderTypeName } from 'ts-mls'
import { MalformedError } from '../errors.js'
import { identityOfCredential } from './credentials.js'
import { validateKeyPackage, type KeyPackageInfo } from './key-package.js'
import { checkSize, MAX_COMMIT_BYTES } from './limits.js'
import { decodeWholeMlsMessage } from './mls-message.js'

/**
 * Reads and checks a KeyPackage without any group state: its framing, its
 * basic credential, and its own signatures (the KeyPackage's and its leaf
 * node's), so a directory stores only KeyPackages that their identity signed.
 * Whether that identity is the peer that published it is the caller's check.
 *
 * @param bytes MLSMessage(mls_key_package), at most 64 KiB
 * @param nowMs when given, also refuse a KeyPackage whose lifetime does not
 *              cover this time (ms since the Unix epoch)
 * @returns identity, cipher suite, KeyPackageRef, last-resort flag, lifetime
 *          (seconds since the Unix epoch) and extension bytes (see KeyPackageInfo)
 * @throws TooLargeError above 64 KiB
 * @throws MalformedError on anything that does not decode or does not verify
 * @throws FabricError IDENTITY_MISMATCH when its signature key is not the one its peer id names
 * @throws FabricError UNSUPPORTED_SUITE when its suite is not available here
 */
export async function inspectKeyPackage (bytes: Uint8Array, nowMs?: number): Promise<KeyPackageInfo> {
  const { keyPackage: _decoded, ...info } = await validateKeyPackage(bytes, nowMs)
  return info
}

/** What a PublicMessage handshake message says on its face. */
export interface CommitInfo {
  /** MLS group id (RFC 9420 section 8). */
  groupId: Uint8Array
  /** The epoch the message was created in; an accepted Commit moves the group to epoch + 1. */
  epoch: bigint
  /** RFC 9420 section 6: member, external, new_member_proposal or new_member_commit. */
  senderType: SenderTypeName
  /** The sender's leaf index when senderType is member. */
  senderLeafIndex?: number
  /** commit, proposal or application (fabric only sends commit). */
  contentType: ContentTypeName
  /** For a Commit: identities of KeyPackages it adds by value, in order. */
  addedIdentities: string[]
  /** For a Commit: leaf indices it removes by value, in order. */
  removedLeafIndices: number[]
  /** For a Commit: number of proposals it includes by reference. */
  proposalRefs: number
}

/**
 * Reads a PublicMessage (RFC 9420 section 6.2) without group state. Nothing
 * is verified: the signature and membership tag need the group's tree and
 * keys, so treat the fields as claims until a member has processed it; they
 * suffice to order Commits by epoch and to track the roster.
 *
 * @param bytes MLSMessage(mls_public_message), at most 1 MiB
 * @throws TooLargeError above 1 MiB
 * @throws MalformedError when it does not decode, is not a PublicMessage (a
 *         PrivateMessage hides its content), is not a Commit, or adds a
 *         KeyPackage whose credential fabric would not accept
 */
export function inspectCommit (bytes: Uint8Array): CommitInfo {
  checkSize('Commit', bytes, MAX_COMMIT_BYTES)
  const msg = decodeWholeMlsMessage('Commit', bytes)
  if (msg.wireformat !== 'mls_public_message') {
    throw new MalformedError(`expected an MLSMessage PublicMessage, got ${msg.wireformat}`)
  }
  const content = msg.publicMessage.content
  // The group service orders Commits only: a proposal or anything else
  // passed off as one would move the stream's epoch with no group change.
  if (content.contentType !== 'commit') throw new MalformedError(`expected a Commit, got ${content.contentType}`)
  const info: CommitInfo = {
    groupId: content.groupId,
    epoch: content.epoch,
    senderType: content.sender.senderType,
    contentType: content.contentType,
    addedIdentities: [],
    removedLeafIndices: [],
    proposalRefs: 0,
  }
  if (content.sender.senderType === 'member') info.senderLeafIndex = content.sender.leafIndex
  if (content.contentType === 'commit') {
    for (const p of content.commit.proposals) {
      if (p.proposalOrRefType === 'reference') {
        info.proposalRefs++
      } else if (p.proposal.proposalType === 'add') {
        info.addedIdentities.push(identityOfCredential(p.proposal.add.keyPackage.leafNode.credential))
      } else if (p.proposal.proposalType === 'remove') {
        info.removedLeafIndices.push(p.proposal.remove.removed)
      }
    }
  }
  return info
}
