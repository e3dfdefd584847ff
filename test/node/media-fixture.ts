/**
 * The neighbourhood of the media service's parts, over real libp2p in this
 * process: one node host and member hosts (TCP + noise + yamux, as nodes
 * run them) whose identities a test roster makes members, a real RelayNode
 * and MediaRouter, and helpers that open raw media channels from a member's
 * host and make chunks. The relay reads clear metadata only, so a chunk's
 * SFrame part is filler.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createHost } from '../../src/transport/libp2p/host.js'
import { newAvCounters, type AvCounters } from '../../src/node/media/counters.js'
import { MediaPolicy, type Membership } from '../../src/node/media/membership.js'
import { MediaRouter } from '../../src/node/media/router.js'
import { RelayNode, type RelayConfig } from '../../src/relay/relay-node.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import { encodeChunk } from '../../src/wire/chunk.js'
import { MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { streamKey, streamTag, type StreamKey } from '../../src/wire/stream-tag.js'
import { within } from '../timing.js'

export const READ_MS = 5_000

/** A roster the test edits: stream to member identity to MLS leaf. */
export class TestRoster implements Membership {
  private readonly leaves = new Map<StreamKey, Map<string, number>>()

  add (stream: StreamKey, identity: string, leaf: number): void {
    let m = this.leaves.get(stream)
    if (m === undefined) this.leaves.set(stream, m = new Map())
    m.set(identity, leaf)
  }

  remove (stream: StreamKey, identity: string): void { this.leaves.get(stream)?.delete(identity) }

  isMember (stream: StreamKey, identity: string): boolean { return this.leaves.get(stream)?.has(identity) ?? false }

  leafIndexOf (stream: StreamKey, identity: string): number | undefined { return this.leaves.get(stream)?.get(identity) }
}

/** The node side: a host, the relay, router and policy the parts share. */
export interface MediaBench {
  node: Libp2p
  addr: Multiaddr
  listener: ReturnType<typeof libp2pListener>
  relay: RelayNode
  router: MediaRouter
  roster: TestRoster
  policy: MediaPolicy
  counters: AvCounters
  /** `count` member hosts (no listen address: they dial the node). */
  members: Libp2p[]
  /** A stream owned by the first member, open in the relay. */
  key: StreamKey
  /** Opens a channel of `protocol` from `host` to the node. */
  open: (host: Libp2p, protocol: string) => Promise<FrameChannel>
  stop: () => Promise<void>
}

/** Starts a node host and `count` member hosts; every member joins nothing until the test says so. */
export async function startMediaBench (count: number, relayConfig: Partial<RelayConfig> = {}, trustedRelays: string[] = []): Promise<MediaBench> {
  const node = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  const members = await Promise.all(Array.from({ length: count }, async () => await createHost({ listen: [] })))
  const addr = node.getMultiaddrs()[0]
  const relay = new RelayNode(relayConfig)
  const counters = newAvCounters()
  const roster = new TestRoster()
  const key = streamKey(members[0].peerId.toString(), 'media-unit')
  relay.openStream(key)
  return {
    node,
    addr,
    listener: libp2pListener(node),
    relay,
    router: new MediaRouter({ relay, counters }),
    roster,
    policy: new MediaPolicy({ membership: roster, trustedRelays }),
    counters,
    members,
    key,
    open: async (host, protocol) => await within(libp2pDialer(host, addr).open(protocol, { maxFrameLength: MAX_MEDIA_FRAME }), READ_MS, 'dial'),
    stop: async () => { await Promise.all([node, ...members].map(async (h) => { await h.stop() })) },
  }
}

/** A chunk of stream `key` on `track`, whose filler payload is `fill` (so chunks are told apart). */
export function chunk (key: StreamKey, track: number, sequence: number, fill: number, keyframe = true): Uint8Array {
  return encodeChunk({
    keyframe, discardable: false, spatialLayer: 0, temporalLayer: 0,
    streamTag: streamTag(key), track, sequence, timestampUs: BigInt(Date.now()) * 1000n,
  }, new Uint8Array(64).fill(fill))
}

export const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))

/** The peer id string of `host`. */
export const idOf = (host: Libp2p): string => host.peerId.toString()
