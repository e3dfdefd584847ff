/**
 * The package's main entry point (`import { FabricClient } from
 * 'fabric-relay'`): the client API a Node app uses to join encrypted streams.
 * A member connects to a node (`FabricClient.connect`), creates or joins a
 * stream (`createStream`, `joinStream`), publishes frames on tracks
 * (`StreamMember.publishTrack`) and receives everyone else's decrypted
 * (`'frame'` events, typed by `StreamMemberEvents`). docs/client.md is the
 * guide. The node is `fabric-relay/node`, the byte layouts
 * `fabric-relay/wire`, the browser-safe core `fabric-relay/browser`.
 */
export { FabricClient, type ConnectOptions } from './client/client.js'
export {
  StreamMember, type StreamMemberEvents, type CreateOptions, type JoinOptions, type MemberOptions, type MemberStats,
} from './client/stream-member.js'
export type { TrackPublisher } from './client/track-publisher.js'
export type { ReceivedFrame, SenderStats } from './client/frame-decryptor.js'
export type { KnockRequest } from './client/committer.js'
export {
  FabricError, MalformedError, TooLargeError, AuthenticationError, ReplayError, UnknownKidError, isFabricError, type ErrorCode,
} from './errors.js'
export { generateIdentity, identityFromSeed, type MemberIdentity } from './session/identity.js'
export { loadOrCreateIdentity } from './cli/identity-file.js'
export {
  createInvitation, DEFAULT_INVITATION_LIFETIME_SECONDS, type AdmissionRules,
} from './session/admission/index.js'
export { streamKey, parseStreamKey, type StreamKey } from './wire/stream-tag.js'
export { TrackContext } from './wire/track.js'
