/**
 * A relaying node's copy of one stream's roster, kept from the rosters its
 * home sends (protocol/fabric.md section 5). Sans-IO: each roster in gives
 * the change to enforce out (who came, who went), so the media service can
 * close a removed member's channels on this node as its home does on its own.
 */

/** One member of a replicated roster: its identity (peer id) and MLS leaf index (RFC 9420 section 7.8). */
export interface ReplicatedMember {
  readonly identity: string
  readonly leaf: number
}

/**
 * What changed when a roster was applied: the shape of the group service's
 * roster event, so the media service enforces both alike.
 */
export interface RosterChange {
  readonly stream: string
  readonly epoch: bigint
  /** Every member now, in the order the home sent them. */
  readonly members: readonly string[]
  readonly added: readonly string[]
  readonly removed: readonly string[]
  readonly leaves: ReadonlyMap<string, number>
}

/** The replicated roster of one stream. */
export class RosterReplica {
  private leaves = new Map<string, number>()
  private current = -1n

  constructor (readonly stream: string) {}

  /** The epoch of the roster held; -1n before the first. */
  get epoch (): bigint { return this.current }

  /** Members held now. */
  get size (): number { return this.leaves.size }

  /** True while `identity` is in the roster held. */
  has (identity: string): boolean { return this.leaves.has(identity) }

  /** `identity`'s MLS leaf index, or undefined when not a member. */
  leafOf (identity: string): number | undefined { return this.leaves.get(identity) }

  /**
   * Takes the roster of `epoch`. The home sends them in epoch order over one
   * channel, so an older epoch is stale and ignored; the same epoch again
   * replaces the roster (the home resends after a change within an epoch,
   * such as the stream's creation at epoch 0).
   * @param members each identity once, each leaf once (the codec checked)
   * @returns the change, or undefined when the roster was stale
   */
  apply (epoch: bigint, members: readonly ReplicatedMember[]): RosterChange | undefined {
    if (epoch < this.current) return undefined
    const next = new Map<string, number>()
    for (const m of members) next.set(m.identity, m.leaf)
    const added: string[] = []
    const removed: string[] = []
    for (const [identity, leaf] of next) if (this.leaves.get(identity) !== leaf) added.push(identity)
    // A member whose leaf changed left and came back: it is both removed (its old leaf's tracks) and added.
    for (const [identity, leaf] of this.leaves) if (next.get(identity) !== leaf) removed.push(identity)
    this.leaves = next
    this.current = epoch
    return { stream: this.stream, epoch, members: members.map((m) => m.identity), added, removed, leaves: new Map(next) }
  }
}
