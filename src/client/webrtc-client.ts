/**
 * A Node member that reaches its node over WebRTC (werift) instead of
 * libp2p: the same StreamMember, the same protocols, over data channels
 * (protocol/webrtc.md). What a browser does, from a process: interop
 * tests, benchmarks of the WebRTC transport, and members behind networks
 * that pass only UDP. A stream at home on another node of a fabric is not
 * reached this way (that takes the libp2p client's circuit relay).
 */
import '../polyfill.js'
import { isIP } from 'node:net'
import { FabricError } from '../errors.js'
import { weriftOfferingPeer } from '../platform/node/werift-peer.js'
import { generateIdentity, type MemberIdentity } from '../session/identity.js'
import { webrtcDialer, type WebRtcDialer } from '../transport/webrtc/dialer.js'
import { SIGNAL_PATH } from '../transport/webrtc/signal.js'
import { KeyPackagePool } from './key-package-pool.js'
import { decodeMemberState } from './member-state.js'
import { StreamMember, type CreateOptions, type JoinOptions, type MemberContext } from './stream-member.js'

/** Options of WebRtcClient.connect. */
export interface WebRtcConnectOptions {
  /** The node's web endpoint, `http://host:port` (`fabric-node start --web`). */
  url: string
  /** The member's identity; a fresh one when absent. */
  identity?: MemberIdentity
  /** The node's peer id when known; a node proving another is refused. */
  nodePeer?: string
}

/** True when `node` names a web endpoint (http:// or https://) rather than a multiaddr. */
export function isWebUrl (node: string): boolean {
  return /^https?:\/\//i.test(node)
}

export class WebRtcClient {
  /** The node's peer id, as the binding handshake proved it. */
  readonly nodePeer: string
  readonly memberIdentity: MemberIdentity
  private readonly dialer: WebRtcDialer
  private readonly keyPackages: KeyPackagePool
  private readonly members = new Set<StreamMember>()

  private constructor (dialer: WebRtcDialer, nodePeer: string, identity: MemberIdentity) {
    this.dialer = dialer
    this.nodePeer = nodePeer
    this.memberIdentity = identity
    this.keyPackages = new KeyPackagePool(dialer, identity)
  }

  /**
   * Connects to the node's web endpoint and proves this member's identity.
   * @throws FabricError MALFORMED on a bad URL, UNREACHABLE when the node
   *         cannot be reached, IDENTITY_MISMATCH when it proves another peer id
   */
  static async connect (opts: WebRtcConnectOptions): Promise<WebRtcClient> {
    let url: URL
    try {
      url = new URL(SIGNAL_PATH, opts.url)
    } catch (err) {
      throw new FabricError('MALFORMED', `${opts.url} is not a URL (it looks like http://127.0.0.1:8080)`, { cause: err })
    }
    const identity = opts.identity ?? await generateIdentity()
    // A node named by its address is reached from the matching interface; a
    // loopback node only from loopback, which werift skips unless told.
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const peers = weriftOfferingPeer(isIP(host) !== 0 && (host.startsWith('127.') || host === '::1') ? { hosts: [host] } : {})
    const dialer = webrtcDialer({ signalUrl: url.toString(), identity, ...(opts.nodePeer !== undefined ? { nodePeer: opts.nodePeer } : {}) }, peers)
    const nodePeer = await dialer.connect()
    return new WebRtcClient(dialer, nodePeer, identity)
  }

  /** This member's identity: its peer id. */
  get identity (): string { return this.memberIdentity.peerId }

  /** As FabricClient.createStream. */
  async createStream (name: string, opts?: CreateOptions): Promise<StreamMember> {
    return this.track(await StreamMember.create(this.context(), name, opts))
  }

  /** As FabricClient.joinStream, for streams at home on this node. */
  async joinStream (name: string | undefined, opts: JoinOptions): Promise<StreamMember> {
    return this.track(await StreamMember.join(this.context(), name, opts))
  }

  /** As FabricClient.restoreStream. */
  async restoreStream (record: Uint8Array, opts: JoinOptions = {}): Promise<StreamMember> {
    const saved = decodeMemberState(record)
    return this.track(await StreamMember.restore(this.context(), record, { ...opts, owner: saved.owner }))
  }

  /** Closes every stream membership (without leaving) and the peer connection. */
  async close (): Promise<void> {
    await Promise.allSettled([...this.members].map(async (m) => { await m.shutdown() }))
    this.dialer.close()
  }

  private context (): MemberContext {
    return { dialer: this.dialer, identity: this.memberIdentity, keyPackages: this.keyPackages }
  }

  private track (m: StreamMember): StreamMember {
    this.members.add(m)
    m.once('closed', () => this.members.delete(m))
    return m
  }
}
