/**
 * The app's entry point: `FabricClient.connect` starts a dial-only libp2p
 * host for this member and checks that the node answers; `createStream` and
 * `joinStream` return a StreamMember.
 */
import '../polyfill.js'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createHost } from '../node/host.js'
import { StreamMember, type MemberOptions } from './stream-member.js'

/** Options of FabricClient.connect. */
export interface ConnectOptions {
  /** The node's multiaddr, with /p2p/<peer id>. */
  node: string
  /** The member's libp2p key (its identity); a fresh Ed25519 key when absent. */
  privateKey?: PrivateKey
}

export class FabricClient {
  readonly libp2p: Libp2p
  readonly node: Multiaddr
  private readonly members = new Set<StreamMember>()

  private constructor (libp2p: Libp2p, node: Multiaddr) {
    this.libp2p = libp2p
    this.node = node
  }

  /**
   * Starts this member's host and dials the node.
   * @throws when the node cannot be reached (the host is stopped again)
   */
  static async connect (opts: ConnectOptions): Promise<FabricClient> {
    const libp2p = await createHost({ listen: [], privateKey: opts.privateKey })
    const node = multiaddr(opts.node)
    try {
      await libp2p.dial(node)
    } catch (err) {
      await libp2p.stop()
      throw err
    }
    return new FabricClient(libp2p, node)
  }

  /** This member's identity: its libp2p peer id. */
  get identity (): string { return this.libp2p.peerId.toString() }

  /** Creates a stream; this member becomes its committer. */
  async createStream (stream: string, opts?: MemberOptions): Promise<StreamMember> {
    return this.track(await StreamMember.create({ libp2p: this.libp2p, node: this.node }, stream, opts))
  }

  /** Joins a stream through the node's directory and a Welcome. */
  async joinStream (stream: string, opts?: MemberOptions): Promise<StreamMember> {
    return this.track(await StreamMember.join({ libp2p: this.libp2p, node: this.node }, stream, opts))
  }

  /** Closes every stream membership (without leaving) and stops the host. */
  async close (): Promise<void> {
    await Promise.allSettled([...this.members].map(async (m) => { await m.shutdown() }))
    await this.libp2p.stop()
  }

  private track (m: StreamMember): StreamMember {
    this.members.add(m)
    m.once('closed', () => this.members.delete(m))
    return m
  }
}
