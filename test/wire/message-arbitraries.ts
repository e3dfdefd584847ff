/**
 * Arbitrary valid control messages, one per wrapper, in the shape the
 * decoder returns (version 1 and every default filled in), so that
 * decode(encode(m)) must equal m. Every oneof body is generated, and every
 * field of a stream address (owner and name), a join's redemption over its
 * whole 0..2 KiB range, a deny's reason, a publish's replace flag, a
 * resume's epoch and a going-away notice's addresses and wait up to their bounds.
 */
import fc from 'fast-check'
import { MAX_ADDRESS_TEXT, MAX_GOING_AWAY_ADDRESSES, MAX_RETRY_AFTER_MS } from '../../src/wire/group-messages.js'
import { MAX_REDEMPTION } from '../../src/wire/limits.js'
import type { OpenResult, PublisherNotice, PublishOpen, SubscribeOpen, SubscriberNotice } from '../../src/wire/pb/av.js'
import type { DirectoryRequest, DirectoryResponse } from '../../src/wire/pb/directory.js'
import type { GroupClientMessage, GroupServerMessage } from '../../src/wire/pb/group.js'
import { bytes, identity, streamName, u32, u64, wireError } from './arbitraries.js'

const version = fc.constant(1)
const none = fc.constant(new Uint8Array(0))
const key32 = bytes(32, 32)

/**
 * Redemption bytes (JoinStream, JoinRequested): mostly empty or short, and
 * sometimes of a length drawn from the whole 0..MAX_REDEMPTION range (the
 * integer arbitrary leans on the ends, so exactly 2 KiB comes up too).
 */
export const redemption: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: none },
  { weight: 2, arbitrary: bytes(1, 64) },
  fc.integer({ min: 0, max: MAX_REDEMPTION }).chain(n => bytes(n, n))
)

/** A deny reason: free text, usually short, empty (the node's default text) included. */
const reason = fc.oneof(fc.constant(''), fc.string({ unit: 'grapheme', maxLength: 40 }))

/**
 * An address a going-away notice names: free text, or ASCII up to
 * MAX_ADDRESS_TEXT bytes. Not multiaddr text: a bit flip in its letters
 * makes UTF-8 that the decoder reads into lone surrogates, a known bug
 * message-rules.test.ts pins; the mutation property would trip on it at random.
 */
const goingAwayAddress = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 0, max: MAX_ADDRESS_TEXT }).map(n => 'a'.repeat(n))
)

/**
 * A going-away notice with up to `maxAddresses` addresses (lengths spread
 * over the whole range) and a wait up to MAX_RETRY_AFTER_MS.
 */
const goingAway = (maxAddresses: number): fc.Arbitrary<{ reason: string, addresses: string[], retryAfterMs: number }> => fc.record({
  reason,
  addresses: fc.array(goingAwayAddress, { maxLength: maxAddresses, size: 'max' }),
  retryAfterMs: fc.oneof(fc.integer({ min: 0, max: MAX_RETRY_AFTER_MS }), fc.constant(MAX_RETRY_AFTER_MS))
})

export const directoryRequest: fc.Arbitrary<DirectoryRequest> = fc.oneof(
  fc.record({
    version,
    publish: fc.record({ keyPackages: fc.array(bytes(1, 64), { maxLength: 6 }), lastResort: fc.oneof(none, bytes(1, 64)), replace: fc.boolean() })
      .filter(p => p.keyPackages.length > 0 || p.lastResort.length > 0)
  }),
  fc.record({ version, fetch: fc.record({ identity }) }),
  fc.record({ version, count: fc.record({ identity }) }),
  fc.record({ version, locate: fc.record({ owner: identity, stream: streamName }) })
) as fc.Arbitrary<DirectoryRequest>

export const directoryResponse: fc.Arbitrary<DirectoryResponse> = fc.record({
  version,
  error: fc.option(wireError, { nil: undefined }),
  accepted: fc.integer({ min: 0, max: 64 }),
  keyPackage: fc.oneof(none, bytes(1, 64)),
  lastResort: fc.boolean(),
  count: u32,
  hasLastResort: fc.boolean(),
  home: fc.oneof(fc.constant(''), identity)
}, { requiredKeys: ['version', 'accepted', 'keyPackage', 'lastResort', 'count', 'hasLastResort', 'home'] }) as fc.Arbitrary<DirectoryResponse>

const submitCommit = fc.record({
  epoch: u64,
  commit: bytes(1, 64),
  added: fc.array(identity, { maxLength: 4 }),
  removed: fc.array(identity, { maxLength: 4 })
}).chain(c => (c.added.length > 0 ? bytes(1, 64) : none).map(welcome => ({ ...c, welcome })))

export const groupClientMessage: fc.Arbitrary<GroupClientMessage> = fc.record({ version, requestId: u64 }).chain(head => fc.oneof(
  fc.record({ create: fc.record({ stream: streamName, groupId: bytes(1, 256) }) }),
  fc.record({ join: fc.record({ stream: streamName, owner: identity, redemption }) }),
  fc.record({ commit: submitCommit }),
  fc.record({ ack: fc.record({ epoch: u64 }) }),
  fc.record({ leave: fc.constant({}) }),
  fc.record({ deny: fc.record({ identity, reason }) }),
  fc.record({ resume: fc.record({ stream: streamName, owner: identity, epoch: u64 }) }),
  fc.record({ end: fc.constant({}) })
).map(body => ({ ...head, ...body }))) as fc.Arbitrary<GroupClientMessage>

export const groupServerMessage: fc.Arbitrary<GroupServerMessage> = fc.record({ version, requestId: u64 }).chain(head => fc.oneof(
  fc.record({ ok: fc.record({ epoch: u64 }) }),
  fc.record({ error: wireError.chain(e => u64.map(currentEpoch => ({ ...e, currentEpoch }))) }),
  fc.record({ joinRequested: fc.record({ identity, redemption }) }),
  fc.record({ joinWithdrawn: fc.record({ identity }) }),
  fc.record({ leaveRequested: fc.record({ identity }) }),
  fc.record({ commit: fc.record({ epoch: u64, commit: bytes(1, 64) }) }),
  fc.record({ welcome: fc.record({ epoch: u64, welcome: bytes(1, 64) }) }),
  fc.record({ roster: fc.record({ epoch: u64, members: fc.array(identity, { maxLength: 6 }), committer: identity }) }),
  fc.record({ epochReady: fc.record({ epoch: u64 }) }),
  fc.record({ goingAway: goingAway(MAX_GOING_AWAY_ADDRESSES) })
).map(body => ({ ...head, ...body }))) as fc.Arbitrary<GroupServerMessage>

export const publishOpen: fc.Arbitrary<PublishOpen> = fc.record({ version, stream: streamName, owner: identity })

export const subscribeOpen: fc.Arbitrary<SubscribeOpen> = fc.record({
  version, stream: streamName, subscriberPublicKey: key32, relay: fc.boolean(), owner: identity
}) as fc.Arbitrary<SubscribeOpen>

export const openResult: fc.Arbitrary<OpenResult> = fc.oneof(
  fc.record({ version, relayPublicKey: fc.oneof(none, key32) }),
  fc.record({ version, error: wireError, relayPublicKey: none })
) as fc.Arbitrary<OpenResult>

const notice = fc.record({ keyframeRequest: fc.record({ track: u32 }) })
/** A publisher's notices: a keyframe request, or the node going away (few addresses: the whole notice fits MAX_AV_MESSAGE). */
export const publisherNotice: fc.Arbitrary<PublisherNotice> = fc.oneof(notice, fc.record({ goingAway: goingAway(4) }))
export const subscriberNotice: fc.Arbitrary<SubscriberNotice> = notice
