/**
 * libp2p host construction shared by nodes and members: TCP, noise, yamux,
 * identify, and circuit relay v2 (protocol/control.md section 1.1; versions
 * pinned in package.json). Circuit relay is how a member reaches a node
 * other than its own through it: noise runs end to end through the relay,
 * so the far node authenticates the member itself and the relaying node
 * sees ciphertext only. A node's Ed25519 peer key lives in its data
 * directory so its peer id, and the KeyPackages stored for it, survive a
 * restart.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Registry } from 'prom-client'
import { gatherSocketWrites } from './socket-writes.js'

/** File name of the peer key inside a data directory (libp2p protobuf encoding). */
export const PEER_KEY_FILE = 'peer-key'

/**
 * Largest yamux receive window per stream, bytes. yamux grows windows up to
 * 16 MiB, i.e. ~50 s of 2.5 Mbit/s video a stalled reader could absorb
 * before the sender feels it; real-time media wants back-pressure within
 * about a second or two, so the relay's drop policy acts instead of latency
 * piling up. 1 MiB still carries ~80 Mbit/s per stream at 100 ms RTT.
 */
export const MAX_STREAM_WINDOW_BYTES = 1024 * 1024

/**
 * Inbound connections accepted per second from one host. libp2p's default
 * of 5 refuses a relay's members that share an address (NAT, a test machine,
 * a load generator): with three load processes and a publisher starting
 * together, one connection was accepted and then closed.
 */
export const INBOUND_CONNECTIONS_PER_HOST_PER_SECOND = 100

/** Inbound connections allowed mid-handshake at once (libp2p's default is 10). */
export const MAX_PENDING_INBOUND_CONNECTIONS = 256

/**
 * A member host's liveness bound, ms: the longest its connection to the node
 * goes unanswered before it is cut. Generous, because a member's event loop
 * can block for seconds (a Welcome for a big group, hundreds of
 * subscriptions opening) and the node watches the member more closely.
 */
export const MEMBER_LIVENESS_TIMEOUT_MS = 30_000

/**
 * A node's default liveness bound, ms: a peer that stops answering (a frozen
 * process, a dead network path with no reset) is cut within this long, so
 * it leaves the roster and frees what it held. A node whose own event loop
 * is saturated (a load test) should raise it: a late pong looks like a dead peer.
 */
export const NODE_LIVENESS_TIMEOUT_MS = 5_000

/**
 * libp2p connection-monitor settings that cut an unanswering peer within
 * `timeoutMs`: a ping every 2/5 of it, each allowed the other 3/5, so a peer
 * frozen just after a pong misses the next ping's deadline in time.
 */
function livenessSettings (timeoutMs: number): { pingInterval: number, pingTimeout: { minTimeout: number, maxTimeout: number } } {
  const pingTimeout = Math.max(1, Math.round(timeoutMs * 0.6))
  return { pingInterval: Math.max(1, timeoutMs - pingTimeout), pingTimeout: { minTimeout: pingTimeout, maxTimeout: pingTimeout } }
}

/**
 * Streams a peer may open on a new connection before this side's upgrade has
 * finished and attached its stream handler. yamux's default of 10 aborts the
 * whole connection at the 11th: a downstream relay or load process opening
 * 50 subscriptions right after dialing lost every one of them whenever the
 * node's event loop was slower than the dialer (seen at N=300 in the fan-out
 * bench, for the raw baseline too). Each early stream can buffer at most its
 * initial window (256 KiB), so this bounds early memory at 32 MiB.
 */
export const MAX_EARLY_STREAMS = 128

/** The yamux factory every host uses: windows and early-stream bound above. */
export function hostStreamMuxer (): ReturnType<typeof yamux> {
  return yamux({
    maxEarlyStreams: MAX_EARLY_STREAMS,
    streamOptions: { initialStreamWindowSize: 256 * 1024, maxStreamWindowSize: MAX_STREAM_WINDOW_BYTES },
  })
}

/**
 * A node's circuit relay server: which peers may reserve a slot on it (so
 * that members connected here can reach them through it) and how many at once.
 */
export interface RelayServerOptions {
  /** Reservations held at once; each is one peer reachable through this host. */
  maxReservations: number
  /** True when `peer` (a peer id string) may reserve: the nodes of this node's fabric. */
  mayReserve: (peer: string) => boolean
}

/**
 * Relay reservations a host makes at once. The library's default of 1
 * left a node that met two fabric nodes together reserved on only one of
 * them (the second reservation never left its queue), so members of the
 * other could not reach it.
 */
export const RESERVATION_CONCURRENCY = 8

/** Options of `createHost`. */
export interface HostOptions {
  /**
   * Serve circuit relay v2 for the peers `mayReserve` admits, without the
   * protocol's default data and time limits (a relayed member stays for a
   * whole call). Absent: this host relays for nobody.
   */
  relayServer?: RelayServerOptions
  /**
   * Accept connections relayed to this host only through relays for which
   * this returns true (peer id strings); absent: none are accepted.
   */
  acceptRelayedVia?: (relay: string) => boolean
  /** Multiaddrs to listen on; [] for a dial-only member. */
  listen: string[]
  /** Multiaddrs to tell peers instead of the bound ones (NAT, a proxy); default the bound ones. */
  announce?: string[]
  /** Peer key; a fresh Ed25519 key when absent. */
  privateKey?: PrivateKey
  /**
   * Send each transport write as one corked socket write (socket-writes.ts);
   * default true. false keeps @libp2p/tcp's one write per buffer (the
   * fan-out bench's plain-libp2p baseline).
   */
  gatherWrites?: boolean
  /**
   * Called for each connection whose writes could not be gathered (not a
   * TCP connection of the pinned @libp2p/tcp: another transport, or a
   * release whose private shapes changed), with the connection's remote
   * address; the node logs it, so a lost optimisation is never silent.
   */
  onWritesNotGathered?: (remoteAddr: string) => void
  /** Longest a connection may go without answering a liveness ping, ms; default MEMBER_LIVENESS_TIMEOUT_MS. */
  livenessTimeoutMs?: number
  /**
   * prom-client registry that receives libp2p's own metrics (connections,
   * streams per protocol, transfer bytes; @libp2p/prometheus-metrics);
   * default none, as members have no metrics endpoint. Process metrics are
   * left to the registry's owner. libp2p keeps one name table per process,
   * so with several metered hosts in one process the libp2p series are
   * trustworthy only for the last one created.
   */
  metrics?: Registry
  /**
   * Extra libp2p services by name, added beside identify (a fabric node's
   * DHT and the ping it needs, src/node/fabric/); default none, so members
   * and nodes outside a fabric build the same host as before.
   */
  services?: Record<string, (components: any) => unknown>
}

/** A started libp2p host with TCP, noise, yamux and identify. */
export async function createHost (opts: HostOptions): Promise<Libp2p> {
  const host = await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen, ...(opts.announce !== undefined && opts.announce.length > 0 ? { announce: opts.announce } : {}) },
    transports: [tcp(), circuitRelayTransport({ reservationConcurrency: RESERVATION_CONCURRENCY })],
    connectionEncrypters: [noise()],
    streamMuxers: [hostStreamMuxer()],
    services: {
      ...opts.services,
      identify: identify(),
      ...(opts.relayServer !== undefined
        ? { relay: circuitRelayServer({ reservations: { maxReservations: opts.relayServer.maxReservations, applyDefaultLimit: false } }) }
        : {}),
    },
    connectionGater: {
      denyInboundRelayReservation: (source) => opts.relayServer === undefined || !opts.relayServer.mayReserve(source.toString()),
      denyInboundRelayedConnection: (relay) => opts.acceptRelayedVia === undefined || !opts.acceptRelayedVia(relay.toString()),
    },
    ...(opts.metrics !== undefined ? { metrics: prometheusMetrics({ registry: opts.metrics, collectDefaultMetrics: false }) } : {}),
    connectionMonitor: livenessSettings(opts.livenessTimeoutMs ?? MEMBER_LIVENESS_TIMEOUT_MS),
    connectionManager: {
      maxConnections: 4096,
      inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_HOST_PER_SECOND,
      maxIncomingPendingConnections: MAX_PENDING_INBOUND_CONNECTIONS,
    },
  })
  if (opts.gatherWrites !== false) {
    host.addEventListener('connection:open', (evt) => {
      if (!gatherSocketWrites(evt.detail)) opts.onWritesNotGathered?.(evt.detail.remoteAddr.toString())
    })
  }
  return host
}

/**
 * Loads the peer key of `dataDir`, creating the directory and a new Ed25519
 * key on first use.
 */
export async function loadOrCreatePeerKey (dataDir: string): Promise<PrivateKey> {
  await mkdir(dataDir, { recursive: true })
  const path = join(dataDir, PEER_KEY_FILE)
  try {
    return privateKeyFromProtobuf(await readFile(path))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = await generateKeyPair('Ed25519')
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}
