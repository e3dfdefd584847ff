/**
 * A fabric node: composes the libp2p host, the KeyPackage directory, the
 * group service (MLS delivery service), the relay and its dispatcher, and the
 * admin HTTP endpoint. `startNode` binds every listener before it returns, so
 * port 0 works and the handle reports the real addresses; `stop` drains.
 * The node holds no MLS or SFrame key: nothing here imports the session's
 * group state or SFrame.
 */
// Node 20's missing Promise.withResolvers for libp2p, and node:crypto as the
// crypto backend: an embedder that imports only this module still gets the
// relay's link seal on OpenSSL (the portable default is 10x slower).
import '../polyfill.js'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Registry } from 'prom-client'
import type { RelayConfig, RelayNode } from '../relay/relay-node.js'
import type { ChannelListener } from '../transport/channel.js'
import { libp2pDialer } from '../transport/libp2p/dialer.js'
import { MediaService } from './media/media-service.js'
import type { RelayTrust } from './media/membership.js'
import { checkAdminAccess, startAdminHttp, type AdminHttp } from './admin-http.js'
import { checkNodeConfig, ConfigError, listenFailure } from './config-checks.js'
import { lockHolder } from './data-dir-lock.js'
import { createEphemeralAdminToken, loadOrCreateAdminToken } from './admin-token.js'
import { createMetrics } from './metrics.js'
import type { NodeStats } from './node-stats.js'
import { KEY_PACKAGE_DB_DIR, openKeyPackageStore, type KeyPackageStore, type KeyPackageStoreOptions } from './directory-store.js'
import { registerDirectoryService, type DirectoryCounters, type DirectoryService, type DirectoryServiceOptions } from './directory-service.js'
import { limitConnectionsPerIdentity, MAX_CONNECTIONS_PER_IDENTITY } from './connection-quota.js'
import { GroupService, type GroupServiceShellOptions } from './group-service.js'
import { GroupStore } from './group-store.js'
import { createHost, loadOrCreatePeerKey, NODE_LIVENESS_TIMEOUT_MS } from '../transport/libp2p/host.js'
import { libp2pListener } from '../transport/libp2p/listener.js'
import { allListeners } from '../transport/all-listeners.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { iceHostsOf, webEndpoint, type WebConfig, type WebEndpoint } from './web-endpoint.js'
import { listenThrough } from '../transport/libp2p/relay.js'
import { logConnections } from './log-connections.js'
import { short, silentLogger, type Logger } from './log.js'
import { startInOrder, stopInReverse, type Startable } from './startable.js'
import { TrafficTap } from './traffic-tap.js'
import { FabricService } from './fabric/fabric-service.js'
import { loadOrCreateFabricKey } from './fabric/fabric-key.js'
import { fabricMedia, type FabricTreeConfig } from './fabric/fabric-media.js'

/** How to start a node. Every field is optional. */
export interface NodeConfig {
  /** libp2p listen multiaddrs; default ['/ip4/127.0.0.1/tcp/0']. */
  listen?: string[]
  /** Data directory (peer key, KeyPackage store); undefined = ephemeral, in memory. */
  dataDir?: string
  /** Admin HTTP listener; default { host: '127.0.0.1', port: 0 }; false = none. */
  admin?: { host: string, port: number } | false
  /**
   * Bearer token of the admin endpoint (RFC 6750 b64token syntax), used as is
   * and written nowhere; default: the one in `<dataDir>/admin-token` (made on
   * first start), or for an ephemeral node a fresh one in a temp file that
   * `stop` removes.
   */
  adminToken?: string
  /** Host header names the admin endpoint accepts besides localhost, 127.0.0.0/8 and ::1 (no port). */
  adminHosts?: string[]
  /**
   * The web endpoint: WebRTC signalling for browser (and other WebRTC)
   * members, and the browser member page (protocol/webrtc.md,
   * docs/client.md); absent: members connect over libp2p only.
   */
  web?: WebConfig
  /** Relay tunables. */
  relay?: Partial<RelayConfig>
  /** Group service: ms after an epoch change before EpochReady without all acks. */
  epochReadyTimeoutMs?: number
  /**
   * Group service bounds (streams per node and per owner, pending joins and
   * their timeout, group streams per identity, members, the member grace
   * period and the Commit log).
   */
  group?: Omit<GroupServiceShellOptions, 'epochReadyTimeoutMs' | 'store' | 'goingAwayAddresses' | 'log'>
  /** Longest a peer may leave a liveness ping unanswered before it is cut, ms; default 5 000. */
  livenessTimeoutMs?: number
  /** Connections one identity may hold to this node at once; default 4 (trusted relays exempt). */
  maxConnectionsPerIdentity?: number
  /** Directory quotas (KeyPackages per identity, bytes per identity and in all) and the extension bound. */
  directory?: Pick<KeyPackageStoreOptions, 'maxPerIdentity' | 'maxBytesPerIdentity' | 'maxTotalBytes'> & Pick<DirectoryServiceOptions, 'maxExtensionBytes'>
  /** Record every media frame handled into this file (audits; off by default). */
  trafficCapture?: string
  /** Peer ids of downstream relays allowed to subscribe to any stream (see MediaServiceOptions). */
  trustedRelays?: string[]
  /** Upstream node multiaddr to pull streams this node lacks from (see MediaServiceOptions). */
  upstream?: string
  /**
   * Multiaddrs members are told to dial instead of the bound ones (a public
   * address in front of NAT or a load balancer); default: the listen addresses.
   */
  announce?: string[]
  /**
   * libp2p's own metrics (connections, streams and bytes per protocol) on
   * the admin endpoint's /metrics; default true. They count bytes on every
   * stream write, so a node tuned for the last percent of egress can leave
   * them off (false).
   */
  libp2pMetrics?: boolean
  /**
   * Multiaddrs (each ending in /p2p/<peer id>) of nodes of the fabric to
   * join at start (protocol/fabric.md); needs `fabricKey`.
   */
  bootstrap?: string[]
  /**
   * The fabric key: a file path (created with 32 random bytes, mode 0600,
   * when missing) or the 32 bytes themselves. With it the node runs the
   * fabric's DHT and node-auth, and treats every node proving the same key
   * as a trusted relay. Absent: no fabric (the node is on its own).
   */
  fabricKey?: string | Uint8Array
  /** Node peer ids admitted to the fabric besides holding the key; empty: every holder. Needs `fabricKey`. */
  fabricAllow?: string[]
  /** Relay-tree settings (protocol/fabric.md section 6); needs `fabricKey`. */
  fabricTree?: FabricTreeConfig
  /**
   * Where the node logs (pino, log.ts `createLogger`): one child per
   * component (host, group, media, directory, admin); default silent.
   */
  log?: Logger
}

export type { NodeStats } from './node-stats.js'

/** A running node. */
export interface NodeHandle {
  /** The node's libp2p peer id. */
  readonly peerId: string
  /** Multiaddrs members dial, with /p2p/<peer id>. */
  readonly multiaddrs: string[]
  /** Data directory, undefined when ephemeral. */
  readonly dataDir: string | undefined
  /** Base URL of the admin HTTP endpoint, when enabled. */
  readonly adminUrl: string | undefined
  /** Bearer token of the admin endpoint, when enabled. */
  readonly adminToken: string | undefined
  /** Base URL of the web endpoint (the member page and WebRTC signalling), when enabled. */
  readonly webUrl: string | undefined
  /** File holding `adminToken` (mode 0600); undefined when the endpoint is off or the token came from the config. */
  readonly adminTokenFile: string | undefined
  readonly libp2p: Libp2p
  readonly relay: RelayNode
  /** The node's fabric membership and discovery; undefined without `fabricKey`. */
  readonly fabric: FabricService | undefined
  /** Why the node cannot take members now ('stopping', ...), or undefined when it can (GET /readyz). */
  readiness: () => string | undefined
  /** Counters of every service (the admin API's /api/v1/stats). */
  stats: () => NodeStats
  /** Stops accepting, closes every stream and the store; idempotent. */
  stop: () => Promise<void>
}

/**
 * Starts a node and returns once every listener is bound.
 * @throws ConfigError (before anything binds) naming the NodeConfig field:
 *   a listen, announce or upstream address that is not a TCP multiaddr, an
 *   upstream without its peer id, a trusted relay that is not a peer id, a
 *   bad admin address, or a data dir another process holds (`NodeConfig.dataDir`)
 * @throws when a listen address cannot be bound, the data dir is otherwise
 *   unusable, its admin-token file is malformed, or `adminToken` / `adminHosts` are invalid
 */
export async function startNode (config: NodeConfig = {}): Promise<NodeHandle> {
  const started = Date.now()
  checkNodeConfig(config)
  const dataDir = config.dataDir
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true })
  // Bad admin settings or a malformed token file fail here, before any listener is bound.
  const adminListen = config.admin === false ? undefined : config.admin ?? { host: '127.0.0.1', port: 0 }
  if (adminListen !== undefined) checkAdminAccess({ token: config.adminToken, hosts: config.adminHosts })
  const storedToken = adminListen !== undefined && config.adminToken === undefined && dataDir !== undefined ? await loadOrCreateAdminToken(dataDir) : undefined
  // Known here, not left to libp2p, because the web endpoint proves the same identity.
  const privateKey = dataDir === undefined ? await generateKeyPair('Ed25519') : await loadOrCreatePeerKey(dataDir)
  const log = config.log ?? silentLogger()
  const fabric = await createFabric(config, log)
  // Made before the host so libp2p's own metrics land on the node's /metrics; none without the admin endpoint.
  const metricsRegistry = adminListen === undefined ? undefined : new Registry()
  const libp2pMetrics = metricsRegistry !== undefined && config.libp2pMetrics !== false
  // Opened before the host binds: a data dir another node holds is refused with nothing bound.
  const store = await openStore(config)
  let libp2p: Libp2p
  try {
    libp2p = await createHost({
      listen: config.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      announce: config.announce,
      privateKey,
      livenessTimeoutMs: config.livenessTimeoutMs ?? NODE_LIVENESS_TIMEOUT_MS,
      metrics: libp2pMetrics ? metricsRegistry : undefined,
      services: fabric?.hostServices(),
      // Members of this node reach streams at home on other nodes of the
      // fabric through it, and members of those nodes reach this one; only
      // nodes that proved the fabric key relay or are relayed to.
      ...(fabric === undefined
        ? {}
        : {
            relayServer: { maxReservations: MAX_FABRIC_RESERVATIONS, mayReserve: (peer: string) => fabric.isFabricPeer(peer) },
            acceptRelayedVia: (relay: string) => fabric.isFabricPeer(relay),
          }),
      // A connection whose writes stay one syscall per buffer still works, only slower: say so once per connection.
      onWritesNotGathered: (remote) => { log.child({ component: 'host' }).warn({ event: 'writes.not_gathered', remote }, 'socket writes not gathered on this connection (not a TCP connection of the pinned @libp2p/tcp)') },
    })
  } catch (err) {
    await store.close()
    const problem = (err as { name?: string }).name === 'UnsupportedListenAddressesError' ? listenFailure((err as Error).message) : undefined
    throw problem === undefined ? err : new ConfigError('NodeConfig.listen', problem)
  }
  logConnections(libp2p, log.child({ component: 'host' }))
  const connections = limitConnectionsPerIdentity(libp2p, config.maxConnectionsPerIdentity ?? MAX_CONNECTIONS_PER_IDENTITY, new Set(config.trustedRelays ?? []))
  const tap = config.trafficCapture === undefined ? undefined : new TrafficTap(config.trafficCapture)
  const listener = libp2pListener(libp2p)
  fabric?.attach(libp2p, listener)
  const web = config.web === undefined ? undefined : webEndpoint(config.web, privateKey, iceHostsOf(config.web) ?? [], config.livenessTimeoutMs ?? NODE_LIVENESS_TIMEOUT_MS, log.child({ component: 'web' }))
  // Members come by libp2p or, with the web endpoint, by WebRTC; nodes only by libp2p.
  const memberListener = web === undefined ? listener : allListeners([listener, web.listener])
  if (fabric !== undefined) reserveOnFabricPeers(libp2p, fabric, log.child({ component: 'fabric' }))
  // Each service is built from what it depends on, in that order: the
  // directory asks the group service who may fetch, and the media service
  // enforces the group service's roster.
  const group = new GroupService(memberListener, {
    ...config.group,
    epochReadyTimeoutMs: config.epochReadyTimeoutMs,
    store: new GroupStore(store.datastore),
    // In a fabric, members of a node that stops may go to any other node of it.
    goingAwayAddresses: () => fabric === undefined ? [] : otherNodeAddresses(libp2p, fabric),
    log: log.child({ component: 'group' }),
  })
  // A KeyPackage goes only to the committer of a stream its identity asked to join.
  const directory = new DirectoryStartable(memberListener, store, {
    authorizeFetch: (requester, identity) => group.core.authorizeFetch(requester, identity),
    // A stream this node's group service holds is at home here.
    // Else the fabric's provider records name it.
    locate: async (key) => {
      if (group.core.roster(key) !== undefined) return libp2p.peerId.toString()
      const home = (await fabric?.discovery.locate(key, { limit: 1 }))?.[0]?.peerId
      // A member asking is about to reach the home through this node: meeting
      // it now has it prove the fabric key and take its relay slot here.
      if (home !== undefined) void libp2p.dial(peerIdFromString(home)).catch(() => {})
      return home
    },
    maxExtensionBytes: config.directory?.maxExtensionBytes,
    log: log.child({ component: 'directory' }),
  })
  // With a fabric, streams at home on other nodes are relayed here through their trees.
  const fabricParts = fabric === undefined ? undefined : fabricMedia({ fabric, libp2p, listener, group, tree: config.fabricTree, log: log.child({ component: 'fabric' }) })
  const media = new MediaService({
    listener: memberListener,
    membership: fabricParts?.links ?? group,
    links: fabricParts?.links,
    relay: config.relay,
    trustedRelays: trustedRelaysOf(config.trustedRelays, fabric),
    upstream: config.upstream === undefined ? undefined : libp2pDialer(libp2p, multiaddr(config.upstream)),
    tap,
    goingAwayAddresses: () => fabric === undefined ? [] : otherNodeAddresses(libp2p, fabric),
    log: log.child({ component: 'media' }),
  })
  const relay = media.relay
  // Subscribed before group.start, so the media service misses no decision.
  group.on('roster', (event) => {
    media.onRoster(event)
    fabricParts?.rosters.changed(event.stream)
  })
  group.on('streamClosed', (event) => {
    media.streamClosed(event.stream)
    fabricParts?.rosters.ended(event.stream)
  })
  if (fabric !== undefined) announceStreams(group, fabric, log.child({ component: 'fabric' }))
  // The fabric first: media admits its nodes as relays from the start.
  const services: Startable[] = [...(fabric === undefined ? [] : [fabric]), directory, group, ...(fabricParts?.services ?? []), media]
  try {
    await startInOrder(services)
  } catch (err) {
    await libp2p.stop()
    await store.close()
    tap?.close()
    throw err
  }

  let webUp: WebEndpoint | undefined
  if (web !== undefined) {
    try {
      webUp = await web.start()
    } catch (err) {
      await stopInReverse(services)
      await libp2p.stop()
      await store.close()
      tap?.close()
      throw err
    }
  }

  const stats = (): NodeStats => ({
    peerId: libp2p.peerId.toString(),
    uptimeMs: Date.now() - started,
    memory: process.memoryUsage(),
    cpu: process.cpuUsage(),
    relay: relay.stats(),
    av: { ...media.counters, live: media.streamCounts() },
    directory: directory.counters,
    group: {
      streams: group.core.streams().map((s) => {
        const r = group.core.roster(s)
        return { stream: s, epoch: String(r?.epoch ?? 0n), committer: r?.committer ?? '', members: r?.members ?? [], pendingJoins: r?.pending ?? 0 }
      }),
      malformed: group.malformed,
      load: group.core.load(),
      counters: group.core.counters,
      framesInFlight: { bytes: group.frameBudget.inFlight, capacity: group.frameBudget.capacity, refused: group.frameBudget.refused },
    },
    connections: { refused: connections.refused, open: libp2p.getConnections().length, aborted: connections.aborted },
    ...(webUp === undefined ? {} : { webrtc: webUp.stats() }),
    ...(fabric === undefined || fabricParts === undefined ? {} : { fabric: { ...fabric.counters, links: { ...fabricParts.links.counters }, rosters: { ...fabricParts.rosters.counters }, trees: fabricParts.rosters.plans.totals() } }),
  })
  // Declared before the admin endpoint, whose /readyz reads it: a stopping
  // node is taken out of rotation before its listeners close.
  let stopping: Promise<void> | undefined
  const readiness = (): string | undefined =>
    stopping !== undefined ? 'stopping' : libp2p.status !== 'started' ? `libp2p ${libp2p.status}` : undefined
  let admin: AdminHttp | undefined
  let adminToken: string | undefined
  let adminTokenFile: string | undefined
  let disposeToken: (() => Promise<void>) | undefined
  if (adminListen !== undefined) {
    if (config.adminToken !== undefined) {
      adminToken = config.adminToken
    } else if (storedToken !== undefined) {
      adminToken = storedToken.token
      adminTokenFile = storedToken.file
    } else {
      const made = await createEphemeralAdminToken()
      adminToken = made.token
      adminTokenFile = made.file
      disposeToken = made.dispose
    }
    try {
      // The relay trees rooted here, per stream (fabric/mesh-report.ts); none without a fabric.
      const mesh = (): unknown => ({ streams: fabricParts?.rosters.plans.reports() ?? {} })
      admin = await startAdminHttp(adminListen, { token: adminToken, hosts: config.adminHosts }, stats, createMetrics(stats, metricsRegistry), readiness, { '/api/v1/mesh': mesh })
    } catch (err) {
      await disposeToken?.()
      throw err
    }
  }

  const nodeLog = log.child({ component: 'node' })
  nodeLog.info({ event: 'node.started', peerId: libp2p.peerId.toString(), multiaddrs: libp2p.getMultiaddrs().map((m) => m.toString()), admin: admin?.url, web: webUp?.url ?? null, dataDir: dataDir ?? null, ms: Date.now() - started }, 'node started')

  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      nodeLog.info({ event: 'node.stopping', connections: libp2p.getConnections().length }, 'node stopping')
      await admin?.close()
      await disposeToken?.()
      await webUp?.stop()
      await stopInReverse(services)
      await libp2p.stop()
      await store.close()
      tap?.close()
      nodeLog.info({ event: 'node.stopped' }, 'node stopped')
    })()
    await stopping
  }

  return {
    peerId: libp2p.peerId.toString(),
    multiaddrs: libp2p.getMultiaddrs().map((m) => m.toString()),
    dataDir,
    adminUrl: admin?.url,
    adminToken,
    webUrl: webUp?.url,
    adminTokenFile,
    libp2p,
    relay,
    fabric,
    readiness,
    stats,
    stop,
  }
}

/** Circuit relay reservations this node holds for other nodes of its fabric at once. */
export const MAX_FABRIC_RESERVATIONS = 64

/**
 * Reserves a relay slot on every node that proves the fabric key, so the
 * members connected to that node can reach streams at home here through it
 * (protocol/control.md section 1.1). A reservation that fails is logged: the
 * members of that node then cannot reach this one, nothing else breaks.
 */
function reserveOnFabricPeers (libp2p: Libp2p, fabric: FabricService, log: Logger): void {
  fabric.onFabricPeer((peer) => {
    listenThrough(libp2p, multiaddr(`/p2p/${peer}`)).then((done) => {
      if (done) log.info({ event: 'fabric.reserved', peer: short(peer) }, 'relay slot reserved on a fabric node')
      else log.warn({ event: 'fabric.reserve_unsupported', peer: short(peer) }, 'this libp2p release cannot listen through a relay at run time')
    }, (err: unknown) => {
      log.warn({ event: 'fabric.reserve_failed', peer: short(peer), err: (err as Error).message }, 'cannot reserve a relay slot on a fabric node')
    })
  })
}

/**
 * Announces each stream created here as at home on this node (a provider
 * record, protocol/fabric.md) and withdraws it when it ends, so every node
 * of the fabric can locate it. A failed announce is logged and left to the
 * DHT's re-providing.
 */
/**
 * Multiaddrs (with /p2p/) of fabric nodes this node is connected to, as they
 * announced them (identify), for a GoingAway notice; at most 8.
 */
async function otherNodeAddresses (libp2p: Libp2p, fabric: FabricService): Promise<string[]> {
  const out: string[] = []
  const seen = new Set<string>()
  for (const c of libp2p.getConnections()) {
    const peer = c.remotePeer
    const id = peer.toString()
    if (seen.has(id) || !fabric.isFabricPeer(id)) continue
    seen.add(id)
    try {
      const known = await libp2p.peerStore.get(peer)
      const addr = known.addresses.map((a) => a.multiaddr.toString()).find((a) => !a.includes('/p2p-circuit'))
      if (addr !== undefined) out.push(addr.includes('/p2p/') ? addr : `${addr}/p2p/${id}`)
    } catch {}
    if (out.length >= 8) break
  }
  return out
}

function announceStreams (group: GroupService, fabric: FabricService, log: Logger): void {
  group.on('roster', (event) => {
    if (event.epoch !== 0n && event.restored !== true) return
    fabric.discovery.announce(event.stream).catch((err: unknown) => {
      log.warn({ event: 'fabric.announce_failed', stream: event.stream, err: (err as Error).message }, 'cannot announce a stream')
    })
  })
  group.on('streamClosed', (event) => {
    fabric.discovery.withdraw(event.stream).catch((err: unknown) => {
      log.warn({ event: 'fabric.withdraw_failed', stream: event.stream, err: (err as Error).message }, 'cannot withdraw a stream')
    })
  })
}

/**
 * The node's fabric service, when it has a fabric key.
 * @throws ConfigError `NodeConfig.fabricKey` when the key file cannot be read
 *   or created or holds no key, or the bytes given are not 32; `NodeConfig.bootstrap`
 *   or `NodeConfig.fabricAllow` given without a key
 */
async function createFabric (config: NodeConfig, log: Logger): Promise<FabricService | undefined> {
  const key = config.fabricKey
  if (key === undefined) {
    if ((config.bootstrap ?? []).length > 0) throw new ConfigError('NodeConfig.bootstrap', 'joining a fabric needs its key; set fabricKey (--fabric-key FILE) too')
    if ((config.fabricAllow ?? []).length > 0) throw new ConfigError('NodeConfig.fabricAllow', 'an allow list narrows a fabric; set fabricKey (--fabric-key FILE) too')
    return undefined
  }
  const bytes = typeof key === 'string' ? await loadOrCreateFabricKey(key) : key
  if (bytes.byteLength !== 32) throw new ConfigError('NodeConfig.fabricKey', `a fabric key is 32 bytes, got ${bytes.byteLength}`)
  return new FabricService({ key: bytes, allow: config.fabricAllow, bootstrap: config.bootstrap, log: log.child({ component: 'fabric' }) })
}

/**
 * The relays the media service trusts: the operator's list, and with a
 * fabric every node that proved its key, asked at each subscription.
 */
function trustedRelaysOf (listed: string[] | undefined, fabric: FabricService | undefined): Iterable<string> | RelayTrust | undefined {
  if (fabric === undefined) return listed
  const fixed = new Set(listed ?? [])
  const live: Iterable<string> & RelayTrust = {
    has: (peer) => fixed.has(peer) || fabric.isFabricPeer(peer),
    settle: async (peer) => { if (!fixed.has(peer)) await fabric.gate(peer) },
    [Symbol.iterator]: () => fixed[Symbol.iterator](),
  }
  return live
}

/**
 * Opens the node's KeyPackage store.
 * @throws ConfigError `NodeConfig.dataDir` when another process holds the
 *   data dir's database (with its pid where the platform tells), else what
 *   openKeyPackageStore throws
 */
async function openStore (config: NodeConfig): Promise<KeyPackageStore> {
  const dataDir = config.dataDir
  try {
    return await openKeyPackageStore({
      dataDir,
      maxPerIdentity: config.directory?.maxPerIdentity,
      maxBytesPerIdentity: config.directory?.maxBytesPerIdentity,
      maxTotalBytes: config.directory?.maxTotalBytes,
    })
  } catch (err) {
    // LevelDB's own reason (the lock) does not survive datastore-level's wrapping.
    if (dataDir === undefined || (err as { name?: string }).name !== 'OpenFailedError') throw err
    const holder = await lockHolder(join(dataDir, KEY_PACKAGE_DB_DIR, 'LOCK'))
    if (holder === 'free') throw err
    const who = holder === 'unknown' ? 'another process' : `pid ${holder}`
    throw new ConfigError('NodeConfig.dataDir', `${dataDir} is in use by another fabric-node (${who}); stop it or use another data directory`)
  }
}

/** The directory as the node's other services are: its handler registered at start, unregistered at stop. */
class DirectoryStartable implements Startable {
  private readonly listener: ChannelListener
  private readonly store: KeyPackageStore
  private readonly options: DirectoryServiceOptions
  private service: DirectoryService | undefined

  constructor (listener: ChannelListener, store: KeyPackageStore, options: DirectoryServiceOptions) {
    this.listener = listener
    this.store = store
    this.options = options
  }

  /** The directory's live counters. @throws Error before `start` */
  get counters (): DirectoryCounters {
    if (this.service === undefined) throw new Error('the directory service is not started')
    return this.service.counters
  }

  async start (): Promise<void> {
    this.service = await registerDirectoryService(this.listener, this.store, this.options)
  }

  async stop (): Promise<void> {
    await this.service?.unregister()
  }
}
