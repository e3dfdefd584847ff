/**
 * Who may publish and subscribe on this node's media channels: current
 * members of a stream, per the group service's roster, and for subscribing
 * also the downstream relays the operator trusts.
 */
import { FabricError } from '../../errors.js'
import type { StreamKey } from '../../wire/stream-tag.js'

/** What the media service needs to know of stream membership (GroupService implements it). */
export interface Membership {
  isMember: (stream: StreamKey, identity: string) => boolean
  /**
   * The MLS leaf index of `identity` in `stream`'s group, or undefined when
   * not known (not a member, or the group service does not track leaves):
   * the relay lets a publisher claim only tracks of its own leaf.
   */
  leafIndexOf: (stream: StreamKey, identity: string) => number | undefined
}

/** A live answer to "is this peer a trusted relay?". */
export interface RelayTrust {
  has: (identity: string) => boolean
  /**
   * Resolves once whether `identity` is trusted is known (a fabric node
   * proves its key in a handshake that may still be running when it opens
   * its first channel); never rejects. Absent: `has` is always final.
   */
  settle?: (identity: string) => Promise<void>
}

/** Options of MediaPolicy. */
export interface MediaPolicyOptions {
  /** The roster: the group service. */
  membership: Membership
  /**
   * Peer ids of downstream relays the operator trusts: they may subscribe
   * (with `relay: true`) to any stream without being MLS members, and
   * receive the same ciphertext a member would. An object with its own
   * `has` (a fabric's nodes, src/node/fabric/) is asked at each
   * subscription instead of copied, as its answer changes while the node runs.
   */
  trustedRelays?: Iterable<string> | RelayTrust
}

/** The admission decisions of the media channels, over the roster and the trusted relays. */
export class MediaPolicy {
  private readonly membership: Membership
  private readonly trustedRelays: RelayTrust

  constructor (opts: MediaPolicyOptions) {
    this.membership = opts.membership
    const trusted = opts.trustedRelays
    this.trustedRelays = trusted !== undefined && !(trusted instanceof Set) && typeof (trusted as Partial<RelayTrust>).has === 'function'
      ? trusted as RelayTrust
      : new Set(trusted as Iterable<string> | undefined ?? [])
  }

  /** True while `identity` is a member of `stream`. */
  isMember (stream: StreamKey, identity: string): boolean {
    return this.membership.isMember(stream, identity)
  }

  /**
   * The leaf a member publishes from: the only leaf whose tracks it may claim.
   * @returns its MLS leaf index
   * @throws FabricError NOT_MEMBER when its leaf is not known
   */
  publisherLeaf (stream: StreamKey, identity: string): number {
    const leaf = this.membership.leafIndexOf(stream, identity)
    // Without its leaf the relay core would refuse every chunk: refusing
    // the open says so once, to the publisher, instead of counting drops.
    if (leaf === undefined) throw new FabricError('NOT_MEMBER', `no MLS leaf index known for ${identity} in ${stream}`)
    return leaf
  }

  /** Resolves once the trust of `identity` is known (RelayTrust.settle); at once for a fixed list. */
  async settleTrust (identity: string): Promise<void> {
    await this.trustedRelays.settle?.(identity)
  }

  /** True when `identity` is a relay the operator trusts (whatever it asks for). */
  isTrustedRelay (identity: string): boolean {
    return this.trustedRelays.has(identity)
  }

  /**
   * May `identity` subscribe to `stream`?
   * @param asRelay the open asked to subscribe as a downstream relay
   * @returns true for a trusted relay subscribing as one (admitted without membership)
   * @throws FabricError NOT_MEMBER unless a member, or a trusted relay subscribing as one
   */
  admitSubscriber (stream: StreamKey, identity: string, asRelay: boolean): boolean {
    const trusted = asRelay && this.trustedRelays.has(identity)
    if (!trusted) this.requireMember(stream, identity)
    return trusted
  }

  /** @throws FabricError NOT_MEMBER unless `identity` is a member of `stream` */
  requireMember (stream: StreamKey, identity: string): void {
    if (!this.membership.isMember(stream, identity)) throw new FabricError('NOT_MEMBER', `${identity} is not a member of ${stream}`)
  }
}
