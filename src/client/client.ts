/**
 * The app's entry point: `FabricClient.connect` starts a dial-only libp2p
 * host running as the member's identity (an Ed25519 key that is also its MLS
 * signature key, session/identity.ts) and checks that the node answers;
 * `createStream` and `joinStream` return a StreamMember. A stream at home
 * on another node of the node's fabric is joined through the member's own
 * node (circuit relay, protocol/control.md section 1.1): the member dials
 * nobody else, and the home still authenticates it end to end.
 */
import '../polyfill.js'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { FabricError } from '../errors.js'
import { createHost } from '../transport/libp2p/host.js'
import type { ChannelDialer } from '../transport/channel.js'
import { libp2pDialer } from '../transport/libp2p/dialer.js'
import { throughRelay } from '../transport/libp2p/relay.js'
import { isFabricError } from '../errors.js'
import { parseInvitationToken } from '../session/admission/index.js'
import { locateStream } from './directory-client.js'
import { generateIdentity, privateKeyOfIdentity, type MemberIdentity } from '../session/identity.js'
import { KeyPackagePool } from './key-package-pool.js'
import { decodeMemberState } from './member-state.js'
import { StreamMember, type CreateOptions, type JoinOptions, type MemberContext } from './stream-member.js'

/** Options of FabricClient.connect. */
export interface ConnectOptions {
  /** The node's multiaddr, with /p2p/<peer id>. */
  node: string
  /** The member's identity (see `fabric id`); a fresh one when absent. */
  identity?: MemberIdentity
  /**
   * Longest the node may leave a liveness ping unanswered before this member
   * cuts the connection and reconnects, ms; default MEMBER_LIVENESS_TIMEOUT_MS
   * (30 000): a member's event loop can be busy for seconds (a large Welcome),
   * and the node watches members more closely (5 s) than they watch it.
   */
  livenessTimeoutMs?: number
}

export class FabricClient {
  readonly libp2p: Libp2p
  readonly node: Multiaddr
  /** The node's peer id, as noise authenticated it when this member connected. */
  readonly nodePeer: string
  /** Opens this member's channels to the node. */
  private readonly dialer: ChannelDialer
  /** This member's identity: its key and the peer id that names it. */
  readonly memberIdentity: MemberIdentity
  private readonly keyPackages: KeyPackagePool
  /** KeyPackage stocks at the homes of streams joined through a node, by home peer id and the node's address. */
  private readonly remoteStocks = new Map<string, KeyPackagePool>()
  private readonly members = new Set<StreamMember>()

  private constructor (libp2p: Libp2p, node: Multiaddr, nodePeer: string, identity: MemberIdentity) {
    this.libp2p = libp2p
    this.node = node
    this.nodePeer = nodePeer
    this.dialer = libp2pDialer(libp2p, node)
    this.memberIdentity = identity
    this.keyPackages = new KeyPackagePool(this.dialer, identity)
  }

  /**
   * Starts this member's host and dials the node.
   * @throws FabricError MALFORMED on a bad multiaddr, UNREACHABLE when the
   *         node cannot be reached (the host is stopped again)
   */
  static async connect (opts: ConnectOptions): Promise<FabricClient> {
    let node: Multiaddr
    try {
      node = multiaddr(opts.node)
    } catch (err) {
      throw new FabricError('MALFORMED', `${opts.node} is not a multiaddr (it looks like /ip4/127.0.0.1/tcp/4100/p2p/<peer id>)`, { cause: err })
    }
    const identity = opts.identity ?? await generateIdentity()
    const libp2p = await createHost({ listen: [], privateKey: privateKeyOfIdentity(identity), livenessTimeoutMs: opts.livenessTimeoutMs })
    let nodePeer: string
    try {
      nodePeer = (await libp2p.dial(node)).remotePeer.toString()
    } catch (err) {
      await libp2p.stop()
      throw new FabricError('UNREACHABLE', `cannot reach the node at ${opts.node}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    return new FabricClient(libp2p, node, nodePeer, identity)
  }

  /** This member's identity: its libp2p peer id. */
  get identity (): string { return this.memberIdentity.peerId }

  /**
   * Creates stream `name` owned by this member, which becomes its committer.
   * By default it admits nobody else until the owner allows or invites
   * (`opts.admission`).
   * @throws FabricError ALREADY_EXISTS, QUOTA_EXCEEDED, MALFORMED (bad name), transport codes
   */
  async createStream (name: string, opts?: CreateOptions): Promise<StreamMember> {
    return this.track(await StreamMember.create(this.context(), name, opts))
  }

  /**
   * Joins stream `name` of `opts.owner` (or the stream an invitation names),
   * through the node's directory and a Welcome.
   * @throws FabricError NOT_ADMITTED (the policy refused), OWNER_MISMATCH, NOT_FOUND, TIMEOUT, transport codes
   */
  async joinStream (name: string | undefined, opts: JoinOptions): Promise<StreamMember> {
    return this.track(await StreamMember.join(await this.contextFor(name, opts), name, opts))
  }

  /**
   * Takes back a stream membership this identity held before its process
   * restarted, from the record MemberOptions.state saved (StreamMember.restore):
   * resumes at its epoch, or joins again when the node says its state is
   * no longer current.
   * @throws see StreamMember.restore
   */
  async restoreStream (record: Uint8Array, opts: JoinOptions = {}): Promise<StreamMember> {
    const saved = decodeMemberState(record)
    return this.track(await StreamMember.restore(await this.contextFor(saved.stream, { ...opts, owner: saved.owner }), record, opts))
  }

  /** Closes every stream membership (without leaving) and stops the host. */
  async close (): Promise<void> {
    await Promise.allSettled([...this.members].map(async (m) => { await m.shutdown() }))
    await this.libp2p.stop()
  }

  private context (): MemberContext {
    return { dialer: this.dialer, identity: this.memberIdentity, keyPackages: this.keyPackages }
  }

  /**
   * Where a join goes: this node when the stream is at home here or its
   * home is unknown (the node's group service then answers NOT_FOUND as
   * usual), else the home through this node, with a KeyPackage stock kept
   * at the home's directory, where the committer fetches. Media always goes
   * to this node, which relays the stream from its home.
   */
  private async contextFor (name: string | undefined, opts: JoinOptions): Promise<MemberContext> {
    const target = opts.invitation !== undefined ? parseInvitationToken(opts.invitation).invitation : { owner: opts.owner, stream: name }
    if (target.owner === undefined || target.stream === undefined) return this.context()
    let home: string
    try {
      home = await locateStream(this.dialer, target.owner, target.stream)
    } catch (err) {
      if (isFabricError(err) && err.code === 'NOT_FOUND') return this.context()
      throw err
    }
    if (home === this.nodePeer) return this.context()
    return this.homeThrough(this.node, home)
  }

  /**
   * The context of a member whose stream is at home on `home`, reached
   * through node `via`: group and directory channels by circuit relay, media
   * at `via`. When `via` stops and names other nodes of the fabric, the
   * member moves to the first that answers (MemberContext.moveTo); a
   * KeyPackage stock at the home is kept per route.
   */
  private homeThrough (via: Multiaddr, home: string): MemberContext {
    const dialer = libp2pDialer(this.libp2p, throughRelay(via, home))
    const key = `${home} ${via.toString()}`
    let stock = this.remoteStocks.get(key)
    if (stock === undefined) {
      stock = new KeyPackagePool(dialer, this.memberIdentity)
      this.remoteStocks.set(key, stock)
    }
    return {
      dialer,
      mediaDialer: libp2pDialer(this.libp2p, via),
      identity: this.memberIdentity,
      keyPackages: stock,
      moveTo: async (addresses) => {
        for (const text of addresses) {
          let addr: Multiaddr
          try {
            addr = multiaddr(text)
            const peer = (await this.libp2p.dial(addr)).remotePeer.toString()
            // The home itself: talk to it directly.
            if (peer === home) return { ...this.homeThrough(addr, home), dialer: libp2pDialer(this.libp2p, addr) }
          } catch {
            continue
          }
          return this.homeThrough(addr, home)
        }
        return undefined
      },
    }
  }

  private track (m: StreamMember): StreamMember {
    this.members.add(m)
    m.once('closed', () => this.members.delete(m))
    return m
  }
}
