/**
 * The libp2p dialer of the transport seam: opens protocol streams to one
 * peer (a member's node, a node's upstream) as FrameChannels. The dial
 * reuses an open connection to the peer, and the channel carries the
 * connection's authenticated peer id.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { FabricError } from '../../errors.js'
import type { ChannelDialer, ChannelOptions, FrameChannel } from '../channel.js'
import { Libp2pChannel, channelPeerOf } from './libp2p-channel.js'

/**
 * A ChannelDialer that reaches `target` through `libp2p`.
 * `open` throws FabricError UNREACHABLE when the peer cannot be dialled or
 * does not speak the protocol.
 */
export function libp2pDialer (libp2p: Pick<Libp2p, 'dial'>, target: Multiaddr | PeerId): ChannelDialer {
  const name = target.toString()
  return {
    target: name,
    async open (protocol: string, channel: ChannelOptions, signal?: AbortSignal): Promise<FrameChannel> {
      const options = signal === undefined ? undefined : { signal }
      try {
        const connection = await libp2p.dial(target, options)
        const stream = await connection.newStream(protocol, options)
        return Libp2pChannel.of(stream, channel, channelPeerOf(connection))
      } catch (err) {
        throw new FabricError('UNREACHABLE', `cannot open ${protocol} to ${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
    },
  }
}
