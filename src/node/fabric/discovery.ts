/**
 * Which nodes serve a stream, over the fabric's DHT (protocol/fabric.md
 * section 3): provider records keyed by streamProviderCid. A node announces
 * a stream it serves, withdraws it when it stops, and locates the nodes
 * serving one it lacks.
 */
import type { KadDHT } from '@libp2p/kad-dht'
import type { PeerInfo } from '@libp2p/interface'
import { streamProviderCid } from '../../fabric/provider-key.js'
import type { Logger } from '../log.js'

/** Default bound of `locate`, ms. */
export const LOCATE_TIMEOUT_MS = 5_000
/** Default bound of `announce`, ms. */
export const ANNOUNCE_TIMEOUT_MS = 10_000
/** Default and largest number of nodes `locate` returns. */
export const MAX_LOCATED = 20

/** A node serving a stream. */
export interface LocatedNode {
  /** Its peer id. */
  peerId: string
  /** Its addresses as the DHT knows them (may be empty when the peer is connected already). */
  multiaddrs: string[]
}

/** Options of `locate`. */
export interface LocateOptions {
  /** Give up after this long, ms; what was found by then is returned. Default LOCATE_TIMEOUT_MS. */
  timeoutMs?: number
  /** Return at most this many nodes (1..MAX_LOCATED); default MAX_LOCATED. */
  limit?: number
}

/** Options of FabricDiscovery. */
export interface FabricDiscoveryOptions {
  /** The DHT, once the host has made it. */
  dht: () => KadDHT
  /** This node's peer id (never located), once the host exists. */
  selfId: () => string
  /** Whether a provider is a node of this fabric: a located node must prove it before it is returned. */
  authenticate: (peer: string) => Promise<boolean>
  log: Logger
}

/** Announce, withdraw and locate the nodes serving a stream (`owner/name`). */
export class FabricDiscovery {
  private readonly opts: FabricDiscoveryOptions

  constructor (opts: FabricDiscoveryOptions) {
    this.opts = opts
  }

  /**
   * Records this node as serving `streamKey`, locally at once and on the
   * nodes closest to its key (re-announced by kad-dht before the record
   * expires). Resolves when those nodes were told, or after `timeoutMs`; a
   * fabric of one node keeps the record locally only.
   * @returns the number of nodes that stored the record
   * @throws MalformedError on an empty or oversize stream key
   */
  async announce (streamKey: string, timeoutMs = ANNOUNCE_TIMEOUT_MS): Promise<number> {
    const cid = streamProviderCid(streamKey)
    let stored = 0
    try {
      for await (const event of this.opts.dht().provide(cid, { signal: AbortSignal.timeout(timeoutMs) })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') stored++
      }
    } catch (err) {
      // The local record is already in place; the DHT refuses a query with no peers.
      this.opts.log.debug({ event: 'fabric.announce_incomplete', stream: streamKey, err: (err as Error).message }, 'stream announced locally only')
    }
    this.opts.log.info({ event: 'fabric.announce', stream: streamKey, stored }, 'stream announced')
    return stored
  }

  /**
   * Stops announcing `streamKey`: kad-dht's `cancelReprovide` drops this
   * node's local record and stops re-announcing it. Records other nodes
   * already hold are not recalled (Kademlia has no delete); they expire
   * after the provider validity (protocol/fabric.md section 3.3), so a
   * located node may no longer serve the stream and the caller must be
   * ready for its NOT_FOUND.
   * @throws MalformedError on an empty or oversize stream key
   */
  async withdraw (streamKey: string): Promise<void> {
    await this.opts.dht().cancelReprovide(streamProviderCid(streamKey))
    this.opts.log.info({ event: 'fabric.withdraw', stream: streamKey }, 'stream withdrawn')
  }

  /**
   * The nodes serving `streamKey`, this node excluded, each proven a node of
   * this fabric (node-auth, dialling it if need be) before it is returned.
   * Bounded by `timeoutMs` overall and `limit` nodes.
   * @returns possibly empty
   * @throws MalformedError on an empty or oversize stream key
   */
  async locate (streamKey: string, opts: LocateOptions = {}): Promise<LocatedNode[]> {
    const cid = streamProviderCid(streamKey)
    const limit = Math.max(1, Math.min(opts.limit ?? MAX_LOCATED, MAX_LOCATED))
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort() }, opts.timeoutMs ?? LOCATE_TIMEOUT_MS)
    const seen = new Set<string>([this.opts.selfId()])
    const checks: Array<Promise<LocatedNode | undefined>> = []
    const check = (info: PeerInfo): void => {
      const peerId = info.id.toString()
      if (seen.has(peerId) || seen.size > 4 * limit) return
      seen.add(peerId)
      checks.push(this.opts.authenticate(peerId).then((ok) => ok ? { peerId, multiaddrs: info.multiaddrs.map((m) => m.toString()) } : undefined))
    }
    try {
      for await (const event of this.opts.dht().findProviders(cid, { signal: controller.signal })) {
        if (event.name === 'PROVIDER' || event.name === 'PEER_RESPONSE') event.providers.forEach(check)
        if (checks.length >= limit) break
      }
    } catch (err) {
      if (!controller.signal.aborted) this.opts.log.debug({ event: 'fabric.locate_incomplete', stream: streamKey, err: (err as Error).message }, 'locate ended early')
    }
    const aborted = new Promise<undefined>((resolve) => {
      if (controller.signal.aborted) resolve(undefined)
      controller.signal.addEventListener('abort', () => { resolve(undefined) })
    })
    try {
      const found = await Promise.all(checks.map(async (c) => await Promise.race([c, aborted])))
      return found.filter((n): n is LocatedNode => n !== undefined).slice(0, limit)
    } finally {
      clearTimeout(timer)
    }
  }
}
