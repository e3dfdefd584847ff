/**
 * Every size bound of the fabric wire, in one place (protocol/limits.md).
 * A receiver checks the bound before it buffers or parses the thing bounded,
 * so a hostile peer costs at most the bound in memory. All sizes are in
 * bytes unless the name says count.
 */

const KIB = 1024
const MIB = 1024 * KIB

/** Length of the clear chunk metadata that precedes every SFrame payload (protocol/chunk.md). */
import { LINK_HEADER_LENGTH, LINK_TAG_LENGTH } from './link-header.js'

export const CHUNK_META_LENGTH = 28

/**
 * Largest SFrame payload (header || ciphertext || tag) of one media chunk:
 * 1 MiB. Large enough for a 4K keyframe at a sane bitrate; a publisher whose
 * encoder produces more must lower its bitrate or split the frame.
 */
export const MAX_CHUNK_PAYLOAD = 1 * MIB

/** Largest media chunk, metadata included: 28 + 1 MiB = 1 048 604. */
export const MAX_CHUNK = CHUNK_META_LENGTH + MAX_CHUNK_PAYLOAD

/**
 * Bytes the link seal adds around a chunk: a 12-byte link header and a
 * 16-byte AEAD tag (protocol/link-seal.md). src/crypto/link-seal.ts
 * re-exports this value.
 */
export const LINK_SEAL_OVERHEAD = LINK_HEADER_LENGTH + LINK_TAG_LENGTH

/**
 * Largest frame on a media stream (/fabric/av/publish/1, /fabric/av/subscribe/1):
 * a link-sealed chunk, 28 + 1 MiB + 28 = 1 048 632. The bound for the
 * FrameDecoder of either end of a media stream.
 */
export const MAX_MEDIA_FRAME = MAX_CHUNK + LINK_SEAL_OVERHEAD

/**
 * Largest frame on /fabric/group/1: 2 MiB, room for a Welcome of a large
 * group plus its envelope. It is also the bound of the directory message
 * codecs (wire/directory-messages.ts); the directory's frames themselves are
 * bounded lower, by MAX_DIRECTORY_FRAME.
 */
export const MAX_CONTROL_FRAME = 2 * MIB

/**
 * Largest frame on /fabric/directory/1, both directions: 320 KiB (327 680).
 * Sized to the largest legitimate request, not to what the fields could add
 * up to (64 KeyPackages of 64 KiB plus a last-resort one would be over
 * 4 MiB): a node stores at most 256 KiB of KeyPackage bytes per identity
 * (its default per-identity quota, node/directory-store.ts), so no publish
 * it could accept carries more than 256 KiB of KeyPackages. 64 KiB more
 * covers the protobuf envelope (at most 4 bytes of tag and length per
 * KeyPackage, 65 of them, and the version) many times over, and keeps room
 * for one KeyPackage of MAX_KEY_PACKAGE in a request of its own. A response
 * carries at most one KeyPackage (64 KiB) and fits as well. A node whose
 * operator raises the per-identity quota still reads at most this much per
 * request; a member then fills the quota over several publishes.
 */
export const MAX_DIRECTORY_FRAME = 320 * KIB

/**
 * Largest av control message (PublishOpen, SubscribeOpen, OpenResult,
 * PublisherNotice, SubscriberNotice): 4 KiB. They carry a stream name, a
 * key and an error text at most, so anything larger is hostile.
 */
export const MAX_AV_MESSAGE = 4 * KIB

/**
 * Largest KeyPackage (an MLSMessage, RFC 9420 section 10): 64 KiB. Ordinary
 * ones are under 1 KiB; post-quantum suites push them to a few KiB.
 */
export const MAX_KEY_PACKAGE = 64 * KIB

/** Count: most KeyPackages in one publish request (the last-resort one not counted). */
export const MAX_KEY_PACKAGES_PER_PUBLISH = 64

/** Largest Commit (an MLSMessage PublicMessage): 1 MiB. */
export const MAX_COMMIT = 1 * MIB

/** Largest Welcome (an MLSMessage, ratchet tree included): 1 MiB. */
export const MAX_WELCOME = 1 * MIB

/**
 * Longest stream name: 128 bytes. Names are restricted to ASCII
 * (stream-tag.ts validateStreamName), so bytes and characters coincide.
 */
export const MAX_STREAM_NAME = 128

/**
 * Longest member identity (a libp2p peer id string): 128 bytes. An Ed25519
 * peer id is 52 characters of base58btc; RSA ones are longer.
 */
export const MAX_IDENTITY = 128

/** Count: most members of one stream's group (and entries of a Roster). */
export const MAX_ROSTER = 10_000

/**
 * Largest MLS leaf index a sender may hold: 65 535 (2^16 - 1), the widest
 * the SFrame KID's 16 sender bits carry (session/kid.ts, protocol/sframe.md
 * section 3.1): a member at a wider leaf could get no SFrame key. The chunk's
 * track field (track.ts) keeps 24 bits for the leaf on the wire, but a track
 * naming a leaf above this is MALFORMED (protocol/chunk.md "Track"). Above
 * MAX_ROSTER, so every group the wire allows fits.
 */
export const MAX_LEAF_INDEX = 0xffff

/**
 * Count: most identities one commit may add (and Welcome at once): 256.
 * The one bound on Adds per Commit: the session's prepareAdd takes at most
 * this many KeyPackages (session/limits.ts MAX_ADDS_PER_COMMIT), and a
 * node's default pending joiners per stream equals it (node/group/limits.ts),
 * so a committer can admit every waiting joiner in one Commit. (It was 1 000
 * on the wire while the session made and the node queued at most 256.)
 */
export const MAX_ADDED_PER_COMMIT = 256

/** Count: most identities one commit may remove; a commit may empty a full group. */
export const MAX_REMOVED_PER_COMMIT = MAX_ROSTER

/** Longest MLS group id (RFC 9420 section 8) in CreateStream: 256 bytes. */
export const MAX_GROUP_ID = 256

/**
 * Longest error code string on the wire: 32 bytes, charset [A-Z0-9_]
 * starting with a letter (protocol/errors.md).
 */
export const MAX_ERROR_CODE = 32

/** Longest human-readable error message on the wire: 1 KiB of UTF-8. */
export const MAX_ERROR_MESSAGE = 1 * KIB

/** Exact length of an X25519 public key (RFC 7748) in SubscribeOpen and OpenResult. */
export const X25519_PUBLIC_KEY_LENGTH = 32

// Admission (protocol/admission.md): the messages carried in GroupContext
// extensions, join requests and invitation tokens.

/** Count: most identities an AdmissionPolicy allows by name. */
export const MAX_POLICY_ALLOW = 1024

/** Count: most inviters an AdmissionPolicy lists. */
export const MAX_POLICY_INVITERS = 64

/**
 * Largest encoded AdmissionPolicy: 96 KiB, room for MAX_POLICY_ALLOW and
 * MAX_POLICY_INVITERS identities of 54 bytes each with their tags.
 */
export const MAX_ADMISSION_POLICY = 96 * KIB

/** Largest SignedPolicy (the fabric_admission_policy extension value). */
export const MAX_SIGNED_POLICY = MAX_ADMISSION_POLICY + 128

/** Largest encoded Invitation: 1 KiB (names, ids and keys only). */
export const MAX_INVITATION = 1 * KIB

/** Largest Redemption (a SignedInvitation, a joiner, a signature): 2 KiB; also JoinStream.redemption. */
export const MAX_REDEMPTION = 2 * KIB

/** Largest InvitationToken, before its text encoding: 2 KiB. */
export const MAX_INVITATION_TOKEN = 2 * KIB

/** Count: most members an AdmissionLedger records as admitted on evidence. */
export const MAX_LEDGER_ADMITTED = 256

/** Count: most invitations an AdmissionLedger counts uses of. */
export const MAX_LEDGER_SPENT = 4096

/** Largest AdmissionLedger (the fabric_admission_ledger extension value): 768 KiB. */
export const MAX_ADMISSION_LEDGER = 768 * KIB

/** Exact length of an MLS group id fabric derives for a stream (SHA-256). */
export const GROUP_ID_LENGTH = 32

/** Exact length of an invitation id. */
export const INVITATION_ID_LENGTH = 16

/** Exact length of an Ed25519 public key or seed in admission messages. */
export const ED25519_KEY_BYTES = 32

/** Exact length of an Ed25519 signature in admission messages. */
export const ED25519_SIGNATURE_BYTES = 64

/**
 * Bytes: largest RosterOpen or RosterUpdate frame (protocol/roster.proto).
 * A full roster of MAX_ROSTER members, each a peer id of at most
 * MAX_IDENTITY bytes and a leaf index, plus framing, fits: 10 000 x 136 B is
 * about 1.3 MiB.
 */
export const MAX_ROSTER_MESSAGE = 3 * MIB / 2
