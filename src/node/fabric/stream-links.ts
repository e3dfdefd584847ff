/**
 * A node's part in the relay trees of streams at home on other nodes of its
 * fabric (protocol/fabric.md sections 5 and 6). When a member of this node
 * opens a media channel on such a stream, the node joins the stream's tree:
 *
 * - it opens the stream's tree link to the home (`/fabric/roster/1`): the
 *   roster comes down it, so the node admits media only from and to current
 *   members and closes a removed member's channels as the home does; its
 *   place in the tree (parent, standby) comes down it; its heartbeats go up;
 * - it subscribes to the stream at its parent as a trusted relay (the
 *   parent link): every chunk of the rest of the tree arrives once;
 * - its parent, seeing a fabric node subscribe as a relay, subscribes back
 *   to it (the child link, `relaySubscribed`): the chunks of this node's
 *   members go up once, and on through the tree.
 *
 * A chunk is never sent back where it came from: a source and a
 * subscription on one link carry the same peer id, and the relay core sends
 * no chunk to its own source. A track has one source per node, so a copy
 * arriving by a second path during a move is refused, not forwarded. When
 * the parent link ends while the tree link lives (the parent died), the node
 * moves at once to its standby (or the home), and then wherever the home's
 * planner puts it. A stream that has had neither a member channel nor a
 * child relay here for two sweeps in a row is let go.
 */
import { FabricError, isFabricError } from '../../errors.js'
import { RosterReplica } from '../../fabric/roster-replica.js'
import type { RelayLoad } from '../../fabric/index.js'
import type { ChannelDialer, FrameChannel } from '../../transport/channel.js'
import { decodeHomeMessage, encodeRosterOpen, encodeTreeHeartbeat, toErrorCode } from '../../wire/messages.js'
import { FABRIC_ROSTER_PROTOCOL } from '../../wire/protocol-ids.js'
import { parseStreamKey, type StreamKey } from '../../wire/stream-tag.js'
import type { RosterEvent } from '../group-service.js'
import { short, type Logger } from '../log.js'
import type { Membership } from '../media/membership.js'
import type { StreamLinkHost, StreamLinks } from '../media/media-service.js'
import { RelaySubscription, type RelaySubscriptionDeps } from '../media/relay-subscription.js'
import type { Startable } from '../startable.js'
import { OPEN_DEADLINE_MS } from '../stream-deadlines.js'
import { ROSTER_CHANNEL } from './roster-source.js'

/** Streams one node relays from other homes at once; the next is refused QUOTA_EXCEEDED. */
export const MAX_LINKED_STREAMS = 1024

/** Streams whose trees this node is joining at once (locating the home, opening the tree link); the next is refused QUOTA_EXCEEDED. */
export const MAX_OPENING_LINKS = 16

/** Child links (this node pulling a stream back from a node it feeds) at once. */
export const MAX_CHILD_LINKS = 4096

/**
 * How long a member's open waits for the replica to list it, ms: the home
 * sends the roster that adds a member before that member's Welcome, but the
 * two travel different paths, so the Welcome (and the member's open here)
 * can win the race.
 */
export const ROSTER_CATCH_UP_MS = 3_000

/** How often streams without member channels or child relays are looked for, ms; one idle at two sweeps in a row is let go. */
export const LINK_SWEEP_MS = 15_000

/** How often a relaying node sends its home a heartbeat on each tree link, ms (a third of the planner's default timeout). */
export const TREE_HEARTBEAT_MS = 500

/** Children a node offers to feed in each stream's tree unless configured. */
export const DEFAULT_TREE_CAPACITY = 3

/** Options of FabricStreamLinks. */
export interface FabricStreamLinksOptions {
  /** The group service of this node: the streams at home here, and their rosters. */
  home: Membership & { isHome: (stream: StreamKey) => boolean }
  /** The home of a stream elsewhere in the fabric (its peer id), or undefined when none is found. */
  locate: (stream: StreamKey) => Promise<string | undefined>
  /** Whether `peer` proved the fabric key on its current connection. */
  isFabricPeer: (peer: string) => boolean
  /** A dialer reaching the node `peer` (a peer id string). */
  dialerFor: (peer: string) => ChannelDialer
  /** Children this node offers to feed per stream; default DEFAULT_TREE_CAPACITY. */
  capacity?: number
  /** Heartbeat interval on tree links, ms; default TREE_HEARTBEAT_MS. */
  heartbeatMs?: number
  /** Interval of the idle sweep, ms; default LINK_SWEEP_MS. */
  sweepMs?: number
  log: Logger
}

/** Counters of the links, for stats. */
export interface StreamLinkCounters {
  /** Streams relayed here from their homes now (parent links). */
  parents: number
  /** Streams pulled back from nodes this one feeds (child links) now. */
  children: number
  /** Rosters applied from homes. */
  rosters: number
  /** Streams let go for want of member channels. */
  idleClosed: number
  /** Moves to another parent (assigned by the home, or to the standby after a parent died). */
  moves: number
  /** Streams let go at once because the peer that made this node join was no member, and nothing else used them. */
  unusedClosed: number
}

/** One stream relayed here from its tree. */
interface ParentLink {
  readonly stream: StreamKey
  readonly home: string
  readonly replica: RosterReplica
  /** The tree link to the home. */
  readonly tree: FrameChannel
  /** The node this one takes the stream from, or is moving to (set before the subscription opens). */
  parent: string
  /** The parent the home assigned last. */
  assigned: string
  standby: string | undefined
  /** The subscription at the parent, once open. */
  media: RelaySubscription | undefined
  /** Number of the latest move: a move overtaken by a later one lets go of what it opened. */
  attempt: number
  /** Member opens waiting for the replica to list them. */
  readonly waiting: Set<() => void>
  heartbeat: ReturnType<typeof setInterval> | undefined
  idleSweeps: number
  closed: boolean
}

export class FabricStreamLinks implements StreamLinks, Membership, Startable {
  readonly counters: StreamLinkCounters = { parents: 0, children: 0, rosters: 0, idleClosed: 0, moves: 0, unusedClosed: 0 }
  private readonly opts: FabricStreamLinksOptions
  private deps: RelaySubscriptionDeps | undefined
  private host: StreamLinkHost | undefined
  private readonly opening = new Map<StreamKey, Promise<ParentLink>>()
  private readonly parents = new Map<StreamKey, ParentLink>()
  /** Opens (ensure calls) under way per stream. */
  private readonly asking = new Map<StreamKey, number>()
  /** Child links by stream, then by the child's peer id (undefined while one is being opened). */
  private readonly children = new Map<StreamKey, Map<string, RelaySubscription | undefined>>()
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor (opts: FabricStreamLinksOptions) {
    this.opts = opts
  }

  /** Binds the links to the media service's relay and callbacks (the MediaService constructor calls it once). */
  attach (deps: RelaySubscriptionDeps, host: StreamLinkHost): void {
    this.deps = deps
    this.host = host
  }

  /** Starts the idle sweep. */
  async start (): Promise<void> {
    this.sweeper = setInterval(() => { this.sweep() }, this.opts.sweepMs ?? LINK_SWEEP_MS)
    this.sweeper.unref()
  }

  /** Ends every tree link and child link (the node stops); the media service is not told stream by stream. */
  async stop (): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper)
    this.sweeper = undefined
    const err = new Error('node stopping')
    for (const link of [...this.parents.values()]) this.closeParent(link, err, false)
    for (const byPeer of this.children.values()) for (const s of byPeer.values()) s?.abort(err)
  }

  /** Membership as the media service asks it: the group service's for a stream at home here, else the roster replica's (false while none is held). */
  isMember (stream: StreamKey, identity: string): boolean {
    if (this.opts.home.isHome(stream)) return this.opts.home.isMember(stream, identity)
    return this.parents.get(stream)?.replica.has(identity) ?? false
  }

  /** `identity`'s MLS leaf index in `stream`, from the group service or the roster replica; undefined when not a member. */
  leafIndexOf (stream: StreamKey, identity: string): number | undefined {
    if (this.opts.home.isHome(stream)) return this.opts.home.leafIndexOf(stream, identity)
    return this.parents.get(stream)?.replica.leafOf(identity)
  }

  /**
   * Joins `stream`'s tree under its home unless it is at home here or
   * already relayed; with `member`, then waits up to ROSTER_CATCH_UP_MS for
   * the replica to list it (the caller's policy refuses it after that).
   * @throws FabricError NOT_FOUND when no home is found, the home's refusal,
   *   UNREACHABLE, QUOTA_EXCEEDED past MAX_LINKED_STREAMS
   */
  async ensure (stream: StreamKey, member: string | undefined): Promise<void> {
    if (this.opts.home.isHome(stream)) return
    this.asking.set(stream, (this.asking.get(stream) ?? 0) + 1)
    let link: ParentLink | undefined
    try {
      link = this.parents.get(stream)
      if (link === undefined) {
        let pending = this.opening.get(stream)
        if (pending === undefined) {
          // Each open costs a DHT lookup and a tree link at the home: any peer can ask, so few at once.
          if (this.opening.size >= MAX_OPENING_LINKS) throw new FabricError('QUOTA_EXCEEDED', `this node is joining ${MAX_OPENING_LINKS} streams' trees already; try again`)
          pending = this.openParent(stream)
          this.opening.set(stream, pending)
          void pending.catch(() => {}).finally(() => { this.opening.delete(stream) })
        }
        link = await pending
      }
      if (member !== undefined && !link.replica.has(member)) await this.catchUp(link, member)
    } finally {
      const left = (this.asking.get(stream) ?? 1) - 1
      if (left === 0) this.asking.delete(stream)
      else this.asking.set(stream, left)
      // A link joined for a peer that is no member, and that nothing else uses, goes at once: a
      // non-member must not keep this node (and the home) in a tree until the idle sweep.
      if (link !== undefined && !link.closed && member !== undefined && !link.replica.has(member) && left === 0 && !this.inUse(link)) {
        this.counters.unusedClosed++
        this.closeParent(link, new FabricError('NOT_MEMBER', 'joined for a peer that is not a member'), true)
      }
    }
  }

  /** True while a member channel or a child relay of this node uses `link`'s stream. */
  private inUse (link: ParentLink): boolean {
    return (this.host?.memberChannels(link.stream) ?? 0) > 0 || this.feedOf(link.stream, link.parent).childrenServed > 0
  }

  /**
   * A trusted relay subscribed to `stream` here. When it is a node of the
   * fabric and not this node's parent for the stream, it is a child: this
   * node subscribes back to it, for the media of its members.
   */
  relaySubscribed (stream: StreamKey, peer: string): void {
    if (!this.opts.isFabricPeer(peer) || this.parents.get(stream)?.parent === peer) return
    let byPeer = this.children.get(stream)
    if (byPeer?.has(peer) === true) return
    if (this.childCount() >= MAX_CHILD_LINKS) {
      this.opts.log.warn({ event: 'fabric.child_refused', peer: short(peer), stream }, 'too many child links; this node does not pull from it')
      return
    }
    if (byPeer === undefined) this.children.set(stream, byPeer = new Map())
    byPeer.set(peer, undefined)
    void this.openChild(stream, peer, byPeer)
  }

  /** The home's planner dropped `relay` from `stream`'s tree: this node stops feeding it and pulling from it. */
  dropRelay (stream: StreamKey, relay: string): void {
    const err = new FabricError('NOT_FOUND', 'no longer in the stream\'s tree here')
    this.host?.closeRelay(stream, relay, err)
    this.children.get(stream)?.get(relay)?.abort(err)
  }

  /** The stream ended here (MediaService.streamClosed): its tree link, parent and child links end with `err`. */
  closeStream (stream: StreamKey, err: Error): void {
    const link = this.parents.get(stream)
    if (link !== undefined) this.closeParent(link, err, false)
    for (const s of this.children.get(stream)?.values() ?? []) s?.abort(err)
  }

  private async openParent (stream: StreamKey): Promise<ParentLink> {
    const deps = this.requireAttached()
    if (this.parents.size + this.opening.size >= MAX_LINKED_STREAMS) throw new FabricError('QUOTA_EXCEEDED', `this node relays ${MAX_LINKED_STREAMS} streams from other nodes already`)
    const home = await this.opts.locate(stream)
    if (home === undefined) throw new FabricError('NOT_FOUND', `stream ${stream} is not open`)
    const { owner, name } = parseStreamKey(stream)
    const tree = await this.opts.dialerFor(home).open(FABRIC_ROSTER_PROTOCOL, ROSTER_CHANNEL)
    let link: ParentLink | undefined
    try {
      await tree.send(encodeRosterOpen({ owner, stream: name, capacity: this.opts.capacity ?? DEFAULT_TREE_CAPACITY }))
      const first = decodeHomeMessage(await tree.next(OPEN_DEADLINE_MS)).roster
      if (first == null) throw new FabricError('MALFORMED', 'the home sent an assignment before the roster')
      if (first.error != null) throw new FabricError(toErrorCode(first.error.code), `home ${short(home)} refused ${stream}: ${first.error.message}`)
      link = { stream, home, replica: new RosterReplica(stream), tree, parent: home, assigned: home, standby: undefined, media: undefined, attempt: 0, waiting: new Set(), heartbeat: undefined, idleSweeps: 0, closed: false }
      this.parents.set(stream, link)
      this.counters.parents++
      this.applyRoster(link, first.epoch, first.members)
      // The assignment follows the roster; rosters may come in between.
      for (;;) {
        const m = decodeHomeMessage(await tree.next(OPEN_DEADLINE_MS))
        if (m.roster != null) {
          if (m.roster.error != null) throw new FabricError(toErrorCode(m.roster.error.code), m.roster.error.message)
          this.applyRoster(link, m.roster.epoch, m.roster.members)
          continue
        }
        if (m.assignment != null) {
          link.assigned = m.assignment.parent
          link.standby = m.assignment.standby === '' ? undefined : m.assignment.standby
          break
        }
      }
      try {
        await this.subscribeAt(link, link.assigned, ++link.attempt, deps)
      } catch (err) {
        if (link.assigned === home) throw err
        await this.subscribeAt(link, home, ++link.attempt, deps)
      }
      this.opts.log.info({ event: 'fabric.link_open', stream, home: short(home), parent: short(link.parent), members: link.replica.size }, 'relaying a stream from its tree')
      const beat = link
      link.heartbeat = setInterval(() => { this.sendHeartbeat(beat) }, this.opts.heartbeatMs ?? TREE_HEARTBEAT_MS)
      link.heartbeat.unref()
      void this.readTree(link)
      return link
    } catch (err) {
      if (link !== undefined) this.closeParent(link, err as Error, false)
      else tree.abort(err as Error)
      throw err
    }
  }

  /**
   * Subscribes at `target` as `link`'s parent, as move number `attempt`.
   * Once the target accepts, and before any of its chunks is forwarded, the
   * current parent's subscription and its pull-back are let go (its tracks
   * become free for the new parent's chunks), unless a later move overtook
   * this one; an overtaken move lets go of what it opened instead.
   * @throws what RelaySubscription.open throws
   */
  private async subscribeAt (link: ParentLink, target: string, attempt: number, deps: RelaySubscriptionDeps): Promise<void> {
    link.parent = target
    const current = (): boolean => attempt === link.attempt && !link.closed
    const sub = await RelaySubscription.open(link.stream, this.opts.dialerFor(target), deps, () => {
      const old = link.media
      if (!current() || old === undefined) return
      link.media = undefined
      this.letGo(link, old, target, deps)
    })
    if (!current()) {
      sub.abort(new FabricError('NOT_FOUND', link.closed ? 'stream closed' : 'overtaken by a later move'))
      if (!link.closed && target !== link.parent) this.host?.closeRelay(link.stream, target, new FabricError('NOT_FOUND', 'not this node\'s parent'))
      return
    }
    link.media = sub
    void sub.ended.then(() => {
      if (link.closed || link.media !== sub) return
      // The parent died or dropped this node while the tree link lives: where the home
      // put it since, else the standby (never orphaned by the same failure), else the home.
      const next = link.assigned !== sub.identity ? link.assigned : link.standby !== undefined && link.standby !== sub.identity ? link.standby : link.home
      this.opts.log.warn({ event: 'fabric.parent_lost', stream: link.stream, parent: short(sub.identity), next: short(next) }, 'the parent link ended; moving')
      link.media = undefined
      // Its tracks are free at once: the next parent's chunks need not wait out the takeover delay.
      this.letGo(link, sub, next, deps)
      this.move(link, next)
    })
  }

  /** Ends `old` (a parent subscription being replaced by one at `target`), frees its tracks, and ends its pull-back here. */
  private letGo (link: ParentLink, old: RelaySubscription, target: string, deps: RelaySubscriptionDeps): void {
    old.abort(new FabricError('NOT_FOUND', 'moved to another parent'))
    if (deps.relay.hasStream(link.stream)) deps.relay.releasePublisher(link.stream, old.identity)
    if (old.identity !== target) this.host?.closeRelay(link.stream, old.identity, new FabricError('NOT_FOUND', 'no longer this node\'s parent'))
  }

  /**
   * Moves `link` to `target` now, overtaking any move under way; a failed
   * move falls back to the home, and a failed move to the home ends the link.
   */
  private move (link: ParentLink, target: string): void {
    if (link.closed) return
    if (link.media?.identity === target && link.media.live) {
      link.attempt++
      link.parent = target
      return
    }
    const attempt = ++link.attempt
    this.counters.moves++
    const deps = this.requireAttached()
    this.subscribeAt(link, target, attempt, deps).then(() => {
      if (attempt === link.attempt && !link.closed) this.opts.log.info({ event: 'fabric.moved', stream: link.stream, parent: short(target) }, 'moved to another parent')
    }, (err: unknown) => {
      if (attempt !== link.attempt || link.closed) return
      this.opts.log.warn({ event: 'fabric.move_failed', stream: link.stream, parent: short(target), err: (err as Error).message }, 'cannot move to that parent')
      if (target !== link.home) this.move(link, link.home)
      else this.closeParent(link, err as Error, true)
    })
  }

  private sendHeartbeat (link: ParentLink): void {
    if (link.closed) return
    try {
      const feed = this.feedOf(link.stream, link.parent)
      link.tree.write(encodeTreeHeartbeat({ framesForwarded: BigInt(feed.framesForwarded), bytesForwarded: BigInt(feed.bytesForwarded), childrenServed: feed.childrenServed }))
    } catch {}
  }

  /**
   * What this node feeds the child relays of `stream` (the planner's load
   * figures), the subscription of `parent` (its pull-back of this node's
   * members' media) not counted.
   */
  feedOf (stream: StreamKey, parent: string | undefined): RelayLoad {
    const feed = this.host?.relaySubscribers(stream, parent) ?? { relays: 0, frames: 0, bytes: 0 }
    return { framesForwarded: feed.frames, bytesForwarded: feed.bytes, childrenServed: feed.relays }
  }

  private async readTree (link: ParentLink): Promise<void> {
    let why: Error = new FabricError('NOT_FOUND', 'stream closed')
    try {
      for await (const frame of link.tree.rest()) {
        const m = decodeHomeMessage(frame)
        if (m.assignment != null) {
          link.assigned = m.assignment.parent
          link.standby = m.assignment.standby === '' ? undefined : m.assignment.standby
          if (m.assignment.parent !== link.parent) this.move(link, m.assignment.parent)
          continue
        }
        const update = m.roster!
        if (update.error != null) {
          why = new FabricError(toErrorCode(update.error.code), update.error.message)
          break
        }
        this.applyRoster(link, update.epoch, update.members)
      }
    } catch (err) {
      why = isFabricError(err) ? err : new FabricError('CONNECTION_LOST', `tree link to the home lost: ${(err as Error).message}`)
    }
    this.closeParent(link, why, true)
  }

  private applyRoster (link: ParentLink, epoch: bigint, members: ReadonlyArray<{ identity: string, leaf: number }>): void {
    if (link.closed) return
    const change = link.replica.apply(epoch, members)
    if (change === undefined) return
    this.counters.rosters++
    this.host?.roster(change satisfies RosterEvent)
    for (const wake of link.waiting) wake()
  }

  private async catchUp (link: ParentLink, member: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        link.waiting.delete(check)
        resolve()
      }
      const check = (): void => { if (link.closed || link.replica.has(member)) done() }
      const timer = setTimeout(done, ROSTER_CATCH_UP_MS)
      link.waiting.add(check)
    })
  }

  /** Ends a parent link once; `tell` says the media service is not the one ending it (it is told the stream ended here). */
  private closeParent (link: ParentLink, err: Error, tell: boolean): void {
    if (link.closed) return
    link.closed = true
    if (this.parents.get(link.stream) === link) {
      this.parents.delete(link.stream)
      this.counters.parents--
    }
    for (const wake of link.waiting) wake()
    if (link.heartbeat !== undefined) clearInterval(link.heartbeat)
    link.tree.abort(err)
    link.media?.abort(err)
    this.opts.log.info({ event: 'fabric.link_closed', stream: link.stream, home: short(link.home), reason: err.message }, 'stopped relaying a stream from its home')
    if (tell) this.host?.ended(link.stream)
  }

  private async openChild (stream: StreamKey, peer: string, byPeer: Map<string, RelaySubscription | undefined>): Promise<void> {
    const deps = this.requireAttached()
    let sub: RelaySubscription
    try {
      sub = await RelaySubscription.open(stream, this.opts.dialerFor(peer), deps)
    } catch (err) {
      byPeer.delete(peer)
      if (byPeer.size === 0 && this.children.get(stream) === byPeer) this.children.delete(stream)
      this.opts.log.warn({ event: 'fabric.child_failed', peer: short(peer), stream, err: (err as Error).message }, 'cannot pull a stream back from a node it feeds')
      return
    }
    byPeer.set(peer, sub)
    this.counters.children++
    this.opts.log.info({ event: 'fabric.child_open', peer: short(peer), stream }, 'pulling a stream back from a node it feeds')
    await sub.ended
    this.counters.children--
    if (byPeer.get(peer) === sub) byPeer.delete(peer)
    if (byPeer.size === 0 && this.children.get(stream) === byPeer) this.children.delete(stream)
    // The tracks the child carried are free for another source (a member that moved nodes).
    if (deps.relay.hasStream(stream)) deps.relay.releasePublisher(stream, peer)
  }

  private childCount (): number {
    let n = 0
    for (const byPeer of this.children.values()) n += byPeer.size
    return n
  }

  private sweep (): void {
    for (const link of [...this.parents.values()]) {
      // A node feeding child relays stays in the tree for them, members or not; one joining for a member waits for it.
      if (this.inUse(link) || this.asking.has(link.stream)) {
        link.idleSweeps = 0
        continue
      }
      if (++link.idleSweeps < 2) continue
      this.counters.idleClosed++
      this.closeParent(link, new FabricError('NOT_FOUND', 'no member of this node uses the stream'), true)
    }
  }

  private requireAttached (): RelaySubscriptionDeps {
    if (this.deps === undefined) throw new Error('FabricStreamLinks.attach was not called')
    return this.deps
  }
}
