/**
 * The browser entry point of the member: the wire layer, the crypto layer
 * (SFrame RFC 9605, the link seal), the session layer (MLS RFC 9420 via
 * ts-mls, admission) and the member core (`MemberCore` and its
 * `StreamMember` shell, the committer, the group, media and directory
 * clients) over the transport seam: the page supplies a `ChannelDialer`
 * to its node (src/transport/channel.ts), usually `webrtcDialer` to the
 * node's web endpoint (protocol/webrtc.md). The portable crypto backend
 * (@noble/* and WebCrypto's getRandomValues; MLS on ts-mls's default
 * provider) installed as the default. Nothing reachable from here imports a
 * node:* module or uses Buffer; test/crypto/browser-bundle.test.ts bundles it
 * for platform 'browser' to keep it so. Node processes load src/polyfill.ts
 * (node:crypto backend) instead.
 */
import { portableBackend } from './crypto/backend-noble.js'
import { setDefaultCryptoBackend } from './crypto/default-backend.js'

setDefaultCryptoBackend(portableBackend)

export * from './errors.js'

export * from './crypto/aead.js'
export * from './crypto/backend.js'
export { nobleBackend, portableBackend } from './crypto/backend-noble.js'
export * from './crypto/default-backend.js'
export * from './crypto/ed25519.js'
export * from './crypto/link-seal.js'
export * from './crypto/replay-window.js'
export * from './crypto/sframe/index.js'
export * from './crypto/transit-key.js'

export * from './session/index.js'
export * from './session/identity.js'
export * from './session/mls-crypto.js'
export * as admission from './session/admission/index.js'

export type {
  ChannelDialer, ChannelListener, ChannelOptions, FrameChannel, ListenOptions,
} from './transport/channel.js'
export { FrameBudget } from './transport/frame-budget.js'
export { webrtcDialer, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MEMBER_LIVENESS_TIMEOUT_MS, type WebRtcDialer, type WebRtcDialerOptions } from './transport/webrtc/dialer.js'
export { SIGNAL_PATH } from './transport/webrtc/signal.js'

export {
  StreamMember, DEFAULT_JOIN_TIMEOUT_MS, DEFAULT_SEND_SWITCH_TIMEOUT_MS,
  type MemberContext, type MemberOptions, type CreateOptions, type JoinOptions, type MemberStats,
} from './client/stream-member.js'
export { MemberCore, type MemberCoreOptions } from './client/member-core.js'
export type {
  StreamMemberEvents, MemberInput, MemberAction, MemberOutput, EmitAction, CoreEventName,
} from './client/member-actions.js'
export { Committer, type CommitterHost, type KnockRequest } from './client/committer.js'
export { FrameDecryptor, type ReceivedFrame, type SenderStats, type DecryptOutcome } from './client/frame-decryptor.js'
export { TrackPublisher, type FrameOptions, type TrackHost } from './client/track-publisher.js'
export { KeyPackagePool } from './client/key-package-pool.js'
export { GroupChannel } from './client/group-channel.js'
export { PublishStream, Subscription, type LinkRefusal } from './client/media-streams.js'
export {
  publishKeyPackages, fetchKeyPackage, countKeyPackages, type DirectoryCallOptions, type FetchedKeyPackage, type KeyPackageCount,
} from './client/directory-client.js'

export * as admissionMessages from './wire/admission-messages.js'
export * as avMessages from './wire/av-messages.js'
export * as chunk from './wire/chunk.js'
export * as directoryMessages from './wire/directory-messages.js'
export * as errorCodes from './wire/error-codes.js'
export * as framing from './wire/framing.js'
export * as groupMessages from './wire/group-messages.js'
export * as linkHeader from './wire/link-header.js'
export * as limits from './wire/limits.js'
export * as messages from './wire/messages.js'
export * as protocolIds from './wire/protocol-ids.js'
export * as streamTag from './wire/stream-tag.js'
export * as track from './wire/track.js'
