/**
 * One ChannelListener over several transports: a service listens once and
 * takes channels from members however they came (libp2p, WebRTC). Each
 * transport applies the service's limits per connection on its own.
 */
import type { ChannelListener } from './channel.js'

/** A ChannelListener that listens and unlistens on every one of `listeners`. */
export function allListeners (listeners: readonly ChannelListener[]): ChannelListener {
  return {
    async listen (protocol, accept, channel, limits) {
      for (const l of listeners) await l.listen(protocol, accept, channel, limits)
    },
    async unlisten (protocol) {
      for (const l of listeners) await l.unlisten(protocol)
    },
  }
}
