// Moved to src/transport/libp2p/libp2p-channel.ts; this re-export goes when the last importer has moved.
export { Libp2pChannel as FramedStream, type FramedStreamOptions } from '../transport/libp2p/libp2p-channel.js'
