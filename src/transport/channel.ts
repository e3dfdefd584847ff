/**
 * The transport seam: what fabric's protocols (directory, group, media) need
 * from a connection to a peer, and nothing else. A channel is one framed,
 * back-pressured, bidirectional stream of length-prefixed frames
 * (protocol/framing.md) to a peer whose identity the transport has
 * authenticated. Services and the member core are written against these
 * interfaces only; a transport (libp2p over TCP + noise + yamux today,
 * src/transport/libp2p/) is one adapter that implements them, and it is the
 * only code that touches its streams or sockets.
 *
 * Imports nothing from Node or libp2p, so the client core that uses it
 * builds for browsers.
 */
import type { WireFrame } from '../wire/framing.js'
import type { FrameBudget } from './frame-budget.js'

/** How a channel reads: bounds and clocks chosen by the protocol that opens or accepts it. */
export interface ChannelOptions {
  /** Bound of one inbound frame, bytes; a larger announcement ends the read with TooLargeError. */
  maxFrameLength: number
  /**
   * Longest time one inbound frame may take to arrive once its first byte
   * has, ms; the channel is aborted (FabricError TIMEOUT) beyond it. 0 or
   * absent: no deadline.
   */
  frameDeadlineMs?: number
  /**
   * A budget shared with other channels: the declared length of the frame
   * under way is held from it until the frame is whole or the channel ends;
   * an announcement that does not fit aborts the channel (FabricError
   * QUOTA_EXCEEDED).
   */
  budget?: FrameBudget
  /**
   * A clock (ms) read once per transport read into `lastReadAtMs` (the
   * relay's ingest time). Absent: no clock is read.
   */
  clock?: () => number
}

/**
 * One framed, back-pressured, bidirectional channel to an authenticated peer.
 * Writes never copy payloads; reads yield each frame's payload.
 */
export interface FrameChannel {
  /** The peer at the other end, as the transport authenticated it (a libp2p peer id string, Ed25519). */
  readonly remotePeer: string
  /** The protocol id negotiated for this channel (src/wire/protocol-ids.ts). */
  readonly protocol: string
  /** Identifies the underlying connection: channels of one connection share it. */
  readonly connectionId: string
  /** Bound of inbound frames not yet announced, bytes; settable as a peer's role changes. */
  maxFrameLength: number
  /** When the transport read that delivered the latest frames happened, ms (ChannelOptions.clock); NaN without a clock. */
  readonly lastReadAtMs: number
  /** Bytes written but not yet taken by the transport. */
  readonly bufferedBytes: number
  /** True when the transport asks writers to wait for `drained()`. */
  readonly needsDrain: boolean
  /** True until the channel has closed both ways or was reset. */
  readonly isOpen: boolean

  /**
   * Inbound frames in order; ends when the remote closes its write side.
   * One consumer only. Throws TooLargeError/MalformedError when the peer
   * breaks framing (the channel is then unusable).
   */
  frames: () => AsyncGenerator<Uint8Array>
  /**
   * The next inbound frame.
   * @param timeoutMs give up after this long (FabricError TIMEOUT; treat it as the end of the channel); 0 = wait forever
   * @throws FabricError INVALID_STATE when the channel ended first
   */
  next: (timeoutMs?: number) => Promise<Uint8Array>
  /** The rest of the inbound frames after any `next` calls. */
  rest: () => AsyncIterable<Uint8Array>

  /** Queues one frame. @returns false when the caller should wait for `drained()`. @throws when closed for writing */
  write: (frame: Uint8Array) => boolean
  /** Queues several payloads as one transport write, each with its own prefix. @returns as `write` */
  writeMany: (frames: readonly Uint8Array[]) => boolean
  /** Queues frames that already carry their prefix as one gather write, never joined. @returns as `write` */
  writeWire: (frames: readonly WireFrame[]) => boolean
  /**
   * Resolves when the channel accepts writes and holds at most
   * `lowWaterBytes` unsent. @throws FabricError INVALID_STATE when it closes first
   */
  drained: (lowWaterBytes?: number) => Promise<void>
  /** Writes one frame and waits until the channel accepts more. */
  send: (frame: Uint8Array) => Promise<void>

  /** Stops taking bytes from the peer for now (its sends back up to the transport's window). */
  pause: () => void
  /** Takes bytes from the peer again after `pause`. */
  resume: () => void
  /** Stops reading for good, for a channel this side will not read again but has not closed; never throws. */
  stopReading: () => void

  /** Half-closes our write side after queued bytes are written; never throws. */
  close: () => Promise<void>
  /** Half-closes, and aborts if the peer has not closed its side within `graceMs`; never throws. */
  closeOrReset: (graceMs: number) => void
  /** Resets the channel at once; the peer sees a reset. */
  abort: (err: Error) => void
  /** Calls `listener` once when the channel has closed both ways or was reset (with the error, if any). */
  onClose: (listener: (err?: Error) => void) => void
}

/** Limits a listener applies to the channels of one protocol. */
export interface ListenOptions {
  /** Channels of this protocol one connection may hold open at once. */
  maxInboundChannels: number
  /** Channels of this protocol this side may open on one connection at once. */
  maxOutboundChannels?: number
  /** Accept channels on connections the transport marks as limited (relayed). */
  runOnLimitedConnection?: boolean
}

/** Accepts channels that peers open to this side. */
export interface ChannelListener {
  /**
   * Serves `protocol`: every channel a peer opens is framed with `channel`
   * options and given to `accept`, which owns it from then on.
   */
  listen: (protocol: string, accept: (channel: FrameChannel) => void, channel: ChannelOptions, limits: ListenOptions) => Promise<void>
  /** Stops serving `protocol`; open channels are left to their owners. */
  unlisten: (protocol: string) => Promise<void>
}

/** Opens channels to one peer (the node a member uses, an upstream node). */
export interface ChannelDialer {
  /** The peer this dialer reaches, for messages (a multiaddr string for libp2p). */
  readonly target: string
  /**
   * Opens a channel of `protocol`.
   * @throws FabricError UNREACHABLE when the peer cannot be reached or does not speak `protocol`
   */
  open: (protocol: string, channel: ChannelOptions, signal?: AbortSignal) => Promise<FrameChannel>
}
