/**
 * The libp2p listener of the transport seam: serves a protocol id with
 * `libp2p.handle` and gives each inbound stream to its service as a
 * FrameChannel carrying the connection's authenticated peer.
 */
import type { Libp2p } from '@libp2p/interface'
import type { ChannelListener, ChannelOptions, FrameChannel, ListenOptions } from '../channel.js'
import { Libp2pChannel, channelPeerOf } from './libp2p-channel.js'

/** A ChannelListener over `libp2p`'s protocol handlers. */
export function libp2pListener (libp2p: Pick<Libp2p, 'handle' | 'unhandle'>): ChannelListener {
  return {
    async listen (protocol: string, accept: (channel: FrameChannel) => void, channel: ChannelOptions, limits: ListenOptions): Promise<void> {
      await libp2p.handle(protocol, (stream, connection) => { accept(Libp2pChannel.of(stream, channel, channelPeerOf(connection))) }, {
        maxInboundStreams: limits.maxInboundChannels,
        ...(limits.maxOutboundChannels !== undefined ? { maxOutboundStreams: limits.maxOutboundChannels } : {}),
        ...(limits.runOnLimitedConnection !== undefined ? { runOnLimitedConnection: limits.runOnLimitedConnection } : {}),
      })
    },
    async unlisten (protocol: string): Promise<void> {
      await libp2p.unhandle(protocol)
    },
  }
}
