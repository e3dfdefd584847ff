/**
 * The media side of a fabric node, built from its fabric service and group
 * service: the roster source that serves the rosters of streams at home
 * here, and the stream links that relay streams at home elsewhere
 * (protocol/fabric.md section 5).
 */
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { ChannelListener } from '../../transport/channel.js'
import { libp2pDialer } from '../../transport/libp2p/dialer.js'
import type { GroupService } from '../group-service.js'
import type { Logger } from '../log.js'
import type { Startable } from '../startable.js'
import type { FabricService } from './fabric-service.js'
import { RosterSource, type HomeRoster } from './roster-source.js'
import type { TreeSettings } from './stream-plans.js'
import { FabricStreamLinks } from './stream-links.js'

/** The operator's settings of the relay trees: the planner's, for trees rooted here, and the capacity this node offers in others. */
export interface FabricTreeConfig extends TreeSettings {
  /** Children this node offers to feed per stream; default DEFAULT_TREE_CAPACITY (3). */
  capacity?: number
  /** How often this node looks for streams it relays that nothing here uses any more, ms; default LINK_SWEEP_MS (15 s); one found at two sweeps in a row is let go. */
  linkSweepMs?: number
}

/** What fabricMedia builds from. */
export interface FabricMediaOptions {
  fabric: FabricService
  libp2p: Libp2p
  listener: ChannelListener
  group: GroupService
  tree?: FabricTreeConfig
  log: Logger
}

/** The parts; `services` start after the group service and before the media service. */
export interface FabricMedia {
  links: FabricStreamLinks
  rosters: RosterSource
  services: Startable[]
}

export function fabricMedia (opts: FabricMediaOptions): FabricMedia {
  const { fabric, libp2p, group, log } = opts
  const isHome = (stream: string): boolean => group.core.roster(stream) !== undefined
  const links: FabricStreamLinks = new FabricStreamLinks({
    home: {
      isHome,
      isMember: (stream, identity) => group.isMember(stream, identity),
      leafIndexOf: (stream, identity) => group.leafIndexOf(stream, identity),
    },
    locate: async (stream) => (await fabric.discovery.locate(stream, { limit: 1 }))[0]?.peerId,
    isFabricPeer: (peer) => fabric.isFabricPeer(peer),
    dialerFor: (peer) => libp2pDialer(libp2p, peerIdFromString(peer)),
    capacity: opts.tree?.capacity,
    sweepMs: opts.tree?.linkSweepMs,
    log,
  })
  const rosters = new RosterSource({
    listener: opts.listener,
    rosterOf: (stream) => homeRoster(group, stream),
    // A node dialling the home for the first time opens its tree link while its key proof may still run.
    isFabricPeer: async (peer) => await fabric.gate(peer),
    selfId: libp2p.peerId.toString(),
    tree: opts.tree,
    relayRemoved: (stream, relay) => { links.dropRelay(stream, relay) },
    rootLoad: (stream) => links.feedOf(stream, undefined),
    log,
  })
  return { links, rosters, services: [rosters, links] }
}

/** A stream's roster as the group service holds it, or undefined when it is not at home here. */
function homeRoster (group: GroupService, stream: string): HomeRoster | undefined {
  const r = group.core.roster(stream)
  if (r === undefined) return undefined
  const leaves = new Map<string, number>()
  for (const m of r.members) {
    const leaf = group.leafIndexOf(stream, m)
    if (leaf !== undefined) leaves.set(m, leaf)
  }
  return { epoch: r.epoch, leaves }
}
