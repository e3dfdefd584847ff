/**
 * A keyframe request as each kind of media channel carries it
 * (protocol/control.md section 4.2): a PublisherNotice on a member's publish
 * channel, a SubscriberNotice on the subscribe channel this node holds at
 * its upstream node. The two schemas are the same, so the bytes are too;
 * which one is sent follows from who is asked, not from a flag.
 */
import { encodePublisherNotice, encodeSubscriberNotice } from '../../wire/messages.js'

/** A PublisherNotice asking a member's publish channel for a keyframe of `track`. */
export function publisherKeyframeRequest (track: number): Uint8Array {
  return encodePublisherNotice({ keyframeRequest: { track } })
}

/** A SubscriberNotice asking the upstream node, of which this node is a subscriber, for a keyframe of `track`. */
export function subscriberKeyframeRequest (track: number): Uint8Array {
  return encodeSubscriberNotice({ keyframeRequest: { track } })
}

/**
 * A keyframe request for `track` as the channel to its source carries it:
 * `toUpstream` picks subscriberKeyframeRequest, else publisherKeyframeRequest.
 */
export function keyframeRequestFrame (toUpstream: boolean, track: number): Uint8Array {
  return toUpstream ? subscriberKeyframeRequest(track) : publisherKeyframeRequest(track)
}
