/**
 * The member list of a group as its ratchet tree gives it (RFC 9420 section 7),
 * and how it changes across a Commit.
 */
import type { RatchetTree } from 'ts-mls'
import { MalformedError } from '../errors.js'
import { identityOfLeaf } from './credentials.js'

/** A member as the ratchet tree shows it. */
export interface Member {
  /** MLS leaf index (RFC 9420 section 4.1.1); also the SFrame KID sender index. */
  leafIndex: number
  /** libp2p peer id string from the member's basic credential. */
  identity: string
}

/**
 * Lists the non-blank leaves of a ratchet tree by ascending leaf index.
 * Leaf i sits at node index 2i (RFC 9420 appendix C).
 *
 * @throws MalformedError when a leaf's credential is not a well-formed basic one
 */
export function membersOfTree (tree: RatchetTree): Member[] {
  const out: Member[] = []
  for (let node = 0; node < tree.length; node += 2) {
    const n = tree[node]
    if (n?.nodeType === 'leaf') out.push({ leafIndex: node / 2, identity: identityOfLeaf(n.leaf) })
  }
  return out
}

/**
 * Refuses a roster in which two leaves share an identity: fabric names
 * members by peer id (in the directory, the relay's admission and the
 * group service's roster), so that mapping has to be one to one.
 *
 * @throws MalformedError naming the first repeated identity
 */
export function checkUniqueIdentities (members: Member[]): void {
  const seen = new Set<string>()
  for (const m of members) {
    if (seen.has(m.identity)) throw new MalformedError(`identity ${m.identity} holds more than one leaf`)
    seen.add(m.identity)
  }
}

/**
 * The identities that joined and left between two rosters. A leaf that
 * changed hands (same index, other identity) counts as one leave and one join.
 */
export function diffRosters (before: Member[], after: Member[]): { added: string[], removed: string[] } {
  const key = (m: Member): string => `${m.leafIndex}\u0000${m.identity}`
  const beforeKeys = new Set(before.map(key))
  const afterKeys = new Set(after.map(key))
  return {
    added: after.filter(m => !beforeKeys.has(key(m))).map(m => m.identity),
    removed: before.filter(m => !afterKeys.has(key(m))).map(m => m.identity),
  }
}
