/**
 * A node's part in the relay trees of streams at home on other nodes of its
 * fabric (protocol/fabric.md section 5). When a member of this node opens a
 * media channel on such a stream, the node joins the stream's tree under
 * its home:
 *
 * - it replicates the stream's roster from the home (`/fabric/roster/1`),
 *   so it admits media only from and to current members, and closes a
 *   removed member's channels as the home does;
 * - it subscribes to the stream at the home as a trusted relay (the parent
 *   link): every chunk of every other node's members arrives once, and goes
 *   to each local subscriber;
 * - the home, seeing a fabric node subscribe as a relay, subscribes back to
 *   it (the child link, `relaySubscribed`): the chunks of this node's
 *   members go up once, and on to every other node of the tree.
 *
 * A chunk is never sent back where it came from: a source and a
 * subscription on one link carry the same peer id, and the relay core sends
 * no chunk to its own source. Every node has at most one parent per stream
 * and parents are only homes, so a tree has no cycle however the operators
 * linked their nodes. A stream that has had no member channel here for two
 * sweeps in a row is let go.
 */
import { FabricError, isFabricError } from '../../errors.js'
import { RosterReplica } from '../../fabric/roster-replica.js'
import type { ChannelDialer, FrameChannel } from '../../transport/channel.js'
import { decodeRosterUpdate, encodeRosterOpen, toErrorCode } from '../../wire/messages.js'
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

/** Child links (this node pulling a stream back from a node it feeds) at once. */
export const MAX_CHILD_LINKS = 4096

/**
 * How long a member's open waits for the replica to list it, ms: the home
 * sends the roster that adds a member before that member's Welcome, but the
 * two travel different paths, so the Welcome (and the member's open here)
 * can win the race.
 */
export const ROSTER_CATCH_UP_MS = 3_000

/** How often streams without member channels are looked for, ms; one idle at two sweeps in a row is let go. */
export const LINK_SWEEP_MS = 15_000

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
}

/** One stream relayed here from its home. */
interface ParentLink {
  readonly stream: StreamKey
  readonly home: string
  readonly replica: RosterReplica
  readonly roster: FrameChannel
  readonly media: RelaySubscription
  /** Member opens waiting for the replica to list them. */
  readonly waiting: Set<() => void>
  idleSweeps: number
  closed: boolean
}

export class FabricStreamLinks implements StreamLinks, Membership, Startable {
  readonly counters: StreamLinkCounters = { parents: 0, children: 0, rosters: 0, idleClosed: 0 }
  private readonly opts: FabricStreamLinksOptions
  private deps: RelaySubscriptionDeps | undefined
  private host: StreamLinkHost | undefined
  private readonly opening = new Map<StreamKey, Promise<ParentLink>>()
  private readonly parents = new Map<StreamKey, ParentLink>()
  /** Child links by stream, then by the child's peer id (undefined while one is being opened). */
  private readonly children = new Map<StreamKey, Map<string, RelaySubscription | undefined>>()
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor (opts: FabricStreamLinksOptions) {
    this.opts = opts
  }

  attach (deps: RelaySubscriptionDeps, host: StreamLinkHost): void {
    this.deps = deps
    this.host = host
  }

  async start (): Promise<void> {
    this.sweeper = setInterval(() => { this.sweep() }, LINK_SWEEP_MS)
    this.sweeper.unref()
  }

  async stop (): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper)
    this.sweeper = undefined
    const err = new Error('node stopping')
    for (const link of [...this.parents.values()]) this.closeParent(link, err, false)
    for (const byPeer of this.children.values()) for (const s of byPeer.values()) s?.abort(err)
  }

  isMember (stream: StreamKey, identity: string): boolean {
    if (this.opts.home.isHome(stream)) return this.opts.home.isMember(stream, identity)
    return this.parents.get(stream)?.replica.has(identity) ?? false
  }

  leafIndexOf (stream: StreamKey, identity: string): number | undefined {
    if (this.opts.home.isHome(stream)) return this.opts.home.leafIndexOf(stream, identity)
    return this.parents.get(stream)?.replica.leafOf(identity)
  }

  /** The home of a stream relayed here, or undefined. */
  parentOf (stream: StreamKey): string | undefined {
    return this.parents.get(stream)?.home
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
    let link = this.parents.get(stream)
    if (link === undefined) {
      let pending = this.opening.get(stream)
      if (pending === undefined) {
        pending = this.openParent(stream)
        this.opening.set(stream, pending)
        void pending.catch(() => {}).finally(() => { this.opening.delete(stream) })
      }
      link = await pending
    }
    if (member !== undefined && !link.replica.has(member)) await this.catchUp(link, member)
  }

  /**
   * A trusted relay subscribed to `stream` here. When it is a node of the
   * fabric and not this node's parent for the stream, it is a child: this
   * node subscribes back to it, for the media of its members.
   */
  relaySubscribed (stream: StreamKey, peer: string): void {
    if (!this.opts.isFabricPeer(peer) || this.parents.get(stream)?.home === peer) return
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
    const dialer = this.opts.dialerFor(home)
    const { owner, name } = parseStreamKey(stream)
    const roster = await dialer.open(FABRIC_ROSTER_PROTOCOL, ROSTER_CHANNEL)
    let media: RelaySubscription | undefined
    try {
      await roster.send(encodeRosterOpen({ owner, stream: name }))
      const first = decodeRosterUpdate(await roster.next(OPEN_DEADLINE_MS))
      if (first.error != null) throw new FabricError(toErrorCode(first.error.code), `home ${short(home)} refused ${stream}: ${first.error.message}`)
      media = await RelaySubscription.open(stream, dialer, deps)
      const link: ParentLink = { stream, home, replica: new RosterReplica(stream), roster, media, waiting: new Set(), idleSweeps: 0, closed: false }
      this.parents.set(stream, link)
      this.counters.parents++
      this.applyRoster(link, first.epoch, first.members)
      this.opts.log.info({ event: 'fabric.link_open', stream, home: short(home), members: link.replica.size }, 'relaying a stream from its home')
      void this.readRosters(link)
      void media.ended.then(() => { this.closeParent(link, new FabricError('NOT_FOUND', 'the home ended the stream\'s media'), true) })
      return link
    } catch (err) {
      roster.abort(err as Error)
      media?.abort(err as Error)
      throw err
    }
  }

  private async readRosters (link: ParentLink): Promise<void> {
    let why: Error = new FabricError('NOT_FOUND', 'stream closed')
    try {
      for await (const frame of link.roster.rest()) {
        const update = decodeRosterUpdate(frame)
        if (update.error != null) {
          why = new FabricError(toErrorCode(update.error.code), update.error.message)
          break
        }
        this.applyRoster(link, update.epoch, update.members)
      }
    } catch (err) {
      why = isFabricError(err) ? err : new FabricError('CONNECTION_LOST', `roster link to the home lost: ${(err as Error).message}`)
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
    link.roster.abort(err)
    link.media.abort(err)
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
      if ((this.host?.memberChannels(link.stream) ?? 0) > 0) {
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
