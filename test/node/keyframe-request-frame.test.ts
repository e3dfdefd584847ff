/**
 * The keyframe request the media service writes: a PublisherNotice to a
 * member publishing, a SubscriberNotice to the upstream node (whose
 * subscriber the pulling node is). Both messages encode alike, so the wire
 * bytes are the same either way.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyframeRequestFrame } from '../../src/node/media/keyframe-request.js'
import * as W from '../../src/wire/messages.js'

const track = fc.integer({ min: 0, max: 0xffff_ffff })

describe('keyframeRequestFrame', () => {
  it('to the upstream node: a SubscriberNotice keyframe_request for the track', () => {
    expect(W.decodeSubscriberNotice(keyframeRequestFrame(true, 0x300))).toEqual({ keyframeRequest: { track: 0x300 } })
    expect(Buffer.from(keyframeRequestFrame(true, 0x300)).toString('hex')).toBe('0a03088006')
    fc.assert(fc.property(track, (t) => {
      const frame = keyframeRequestFrame(true, t)
      expect(W.decodeSubscriberNotice(frame).keyframeRequest?.track).toBe(t)
      expect(frame).toEqual(W.encodeSubscriberNotice({ keyframeRequest: { track: t } }))
    }))
  })

  it('to a publisher: a PublisherNotice keyframe_request, the same bytes as to the upstream', () => {
    expect(W.decodePublisherNotice(keyframeRequestFrame(false, 0))).toEqual({ keyframeRequest: { track: 0 } })
    fc.assert(fc.property(track, (t) => {
      const frame = keyframeRequestFrame(false, t)
      expect(W.decodePublisherNotice(frame).keyframeRequest?.track).toBe(t)
      expect(frame).toEqual(keyframeRequestFrame(true, t))
    }))
  })
})
