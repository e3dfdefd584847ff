import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface AvError {
  code: string
  message: string
}

export namespace AvError {
  let _codec: Codec<AvError>

  export const codec = (): Codec<AvError> => {
    if (_codec == null) {
      _codec = message<AvError>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AvErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface AvErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<AvError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AvError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AvError>): AvError {
    return decodeMessage(buf, AvError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AvError>): Generator<AvErrorCodeFieldEvent | AvErrorMessageFieldEvent> {
    return streamMessage(buf, AvError.codec(), opts)
  }
}

export interface PublishOpen {
  version: number
  stream: string
  owner: string
}

export namespace PublishOpen {
  let _codec: Codec<PublishOpen>

  export const codec = (): Codec<PublishOpen> => {
    if (_codec == null) {
      _codec = message<PublishOpen>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.stream != null && obj.stream !== '')) {
          w.uint32(18)
          w.string(obj.stream)
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(26)
          w.string(obj.owner)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          stream: '',
          owner: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.stream = reader.string()
              break
            }
            case 3: {
              obj.owner = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.stream`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.owner`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PublishOpenVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface PublishOpenStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface PublishOpenOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export function encode (obj: Partial<PublishOpen>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PublishOpen.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PublishOpen>): PublishOpen {
    return decodeMessage(buf, PublishOpen.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PublishOpen>): Generator<PublishOpenVersionFieldEvent | PublishOpenStreamFieldEvent | PublishOpenOwnerFieldEvent> {
    return streamMessage(buf, PublishOpen.codec(), opts)
  }
}

export interface SubscribeOpen {
  version: number
  stream: string
  subscriberPublicKey: Uint8Array<ArrayBuffer>
  relay: boolean
  owner: string
}

export namespace SubscribeOpen {
  let _codec: Codec<SubscribeOpen>

  export const codec = (): Codec<SubscribeOpen> => {
    if (_codec == null) {
      _codec = message<SubscribeOpen>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.stream != null && obj.stream !== '')) {
          w.uint32(18)
          w.string(obj.stream)
        }

        if ((obj.subscriberPublicKey != null && obj.subscriberPublicKey.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.subscriberPublicKey)
        }

        if ((obj.relay != null && obj.relay !== false)) {
          w.uint32(32)
          w.bool(obj.relay)
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(42)
          w.string(obj.owner)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          stream: '',
          subscriberPublicKey: uint8ArrayAlloc(0),
          relay: false,
          owner: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.stream = reader.string()
              break
            }
            case 3: {
              obj.subscriberPublicKey = reader.bytes()
              break
            }
            case 4: {
              obj.relay = reader.bool()
              break
            }
            case 5: {
              obj.owner = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.stream`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.subscriberPublicKey`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.relay`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.owner`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SubscribeOpenVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface SubscribeOpenStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface SubscribeOpenSubscriberPublicKeyFieldEvent {
    field: '$.subscriberPublicKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SubscribeOpenRelayFieldEvent {
    field: '$.relay'
    value: boolean
  }

  export interface SubscribeOpenOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export function encode (obj: Partial<SubscribeOpen>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SubscribeOpen.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubscribeOpen>): SubscribeOpen {
    return decodeMessage(buf, SubscribeOpen.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubscribeOpen>): Generator<SubscribeOpenVersionFieldEvent | SubscribeOpenStreamFieldEvent | SubscribeOpenSubscriberPublicKeyFieldEvent | SubscribeOpenRelayFieldEvent | SubscribeOpenOwnerFieldEvent> {
    return streamMessage(buf, SubscribeOpen.codec(), opts)
  }
}

export interface OpenResult {
  version: number
  error?: AvError
  relayPublicKey: Uint8Array<ArrayBuffer>
}

export namespace OpenResult {
  let _codec: Codec<OpenResult>

  export const codec = (): Codec<OpenResult> => {
    if (_codec == null) {
      _codec = message<OpenResult>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.error != null) {
          w.uint32(18)
          AvError.codec().encode(obj.error, w)
        }

        if ((obj.relayPublicKey != null && obj.relayPublicKey.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.relayPublicKey)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          relayPublicKey: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.error = AvError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 3: {
              obj.relayPublicKey = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield * AvError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.relayPublicKey`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface OpenResultVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface OpenResultErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface OpenResultErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface OpenResultRelayPublicKeyFieldEvent {
    field: '$.relayPublicKey'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<OpenResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, OpenResult.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OpenResult>): OpenResult {
    return decodeMessage(buf, OpenResult.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OpenResult>): Generator<OpenResultVersionFieldEvent | OpenResultErrorCodeFieldEvent | OpenResultErrorMessageFieldEvent | OpenResultRelayPublicKeyFieldEvent> {
    return streamMessage(buf, OpenResult.codec(), opts)
  }
}

export interface PublisherNotice {
  keyframeRequest?: KeyframeRequest
  goingAway?: NodeGoingAway
}

export namespace PublisherNotice {
  let _codec: Codec<PublisherNotice>

  export const codec = (): Codec<PublisherNotice> => {
    if (_codec == null) {
      _codec = message<PublisherNotice>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.goingAway != null) {
          obj.keyframeRequest = undefined
        }

        if (obj.keyframeRequest != null) {
          obj.goingAway = undefined
        }

        if (obj.keyframeRequest != null) {
          w.uint32(10)
          KeyframeRequest.codec().encode(obj.keyframeRequest, w)
        }

        if (obj.goingAway != null) {
          w.uint32(18)
          NodeGoingAway.codec().encode(obj.goingAway, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.keyframeRequest = KeyframeRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.keyframeRequest
              })
              break
            }
            case 2: {
              obj.goingAway = NodeGoingAway.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.goingAway
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.goingAway != null) {
          delete obj.keyframeRequest
        }

        if (obj.keyframeRequest != null) {
          delete obj.goingAway
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * KeyframeRequest.codec().stream(reader, reader.uint32(), `${prefix}.keyframeRequest`, {
                limits: opts.limits?.keyframeRequest
              })

              break
            }
            case 2: {
              yield * NodeGoingAway.codec().stream(reader, reader.uint32(), `${prefix}.goingAway`, {
                limits: opts.limits?.goingAway
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PublisherNoticeKeyframeRequestTrackFieldEvent {
    field: '$.keyframeRequest.track'
    value: number
  }

  export interface PublisherNoticeGoingAwayReasonFieldEvent {
    field: '$.goingAway.reason'
    value: string
  }

  export interface PublisherNoticeGoingAwayAddressesFieldEvent {
    field: '$.goingAway.addresses[]'
    index: number
    value: string
  }

  export interface PublisherNoticeGoingAwayRetryAfterMsFieldEvent {
    field: '$.goingAway.retryAfterMs'
    value: number
  }

  export function encode (obj: Partial<PublisherNotice>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PublisherNotice.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PublisherNotice>): PublisherNotice {
    return decodeMessage(buf, PublisherNotice.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PublisherNotice>): Generator<PublisherNoticeKeyframeRequestTrackFieldEvent | PublisherNoticeGoingAwayReasonFieldEvent | PublisherNoticeGoingAwayAddressesFieldEvent | PublisherNoticeGoingAwayRetryAfterMsFieldEvent> {
    return streamMessage(buf, PublisherNotice.codec(), opts)
  }
}

export interface NodeGoingAway {
  reason: string
  addresses: string[]
  retryAfterMs: number
}

export namespace NodeGoingAway {
  let _codec: Codec<NodeGoingAway>

  export const codec = (): Codec<NodeGoingAway> => {
    if (_codec == null) {
      _codec = message<NodeGoingAway>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(10)
          w.string(obj.reason)
        }

        if (obj.addresses != null && obj.addresses.length > 0) {
          for (const value of obj.addresses) {
            w.uint32(18)
            w.string(value)
          }
        }

        if ((obj.retryAfterMs != null && obj.retryAfterMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.retryAfterMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          reason: '',
          addresses: [],
          retryAfterMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.reason = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.addresses != null && obj.addresses.length === opts.limits.addresses) {
                throw new MaxLengthError('Decode error - repeated field "addresses" had too many elements')
              }

              obj.addresses.push(reader.string())
              break
            }
            case 3: {
              obj.retryAfterMs = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addresses: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.addresses != null && obj.addresses === opts.limits.addresses) {
                throw new MaxLengthError('Streaming decode error - repeated field "addresses" had too many elements')
              }

              yield {
                field: `${prefix}.addresses[]`,
                index: obj.addresses,
                value: reader.string()
              }

              obj.addresses++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.retryAfterMs`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface NodeGoingAwayReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface NodeGoingAwayAddressesFieldEvent {
    field: '$.addresses[]'
    index: number
    value: string
  }

  export interface NodeGoingAwayRetryAfterMsFieldEvent {
    field: '$.retryAfterMs'
    value: number
  }

  export function encode (obj: Partial<NodeGoingAway>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NodeGoingAway.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeGoingAway>): NodeGoingAway {
    return decodeMessage(buf, NodeGoingAway.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeGoingAway>): Generator<NodeGoingAwayReasonFieldEvent | NodeGoingAwayAddressesFieldEvent | NodeGoingAwayRetryAfterMsFieldEvent> {
    return streamMessage(buf, NodeGoingAway.codec(), opts)
  }
}

export interface SubscriberNotice {
  keyframeRequest?: KeyframeRequest
}

export namespace SubscriberNotice {
  let _codec: Codec<SubscriberNotice>

  export const codec = (): Codec<SubscriberNotice> => {
    if (_codec == null) {
      _codec = message<SubscriberNotice>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.keyframeRequest != null) {
          w.uint32(10)
          KeyframeRequest.codec().encode(obj.keyframeRequest, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.keyframeRequest = KeyframeRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.keyframeRequest
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * KeyframeRequest.codec().stream(reader, reader.uint32(), `${prefix}.keyframeRequest`, {
                limits: opts.limits?.keyframeRequest
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SubscriberNoticeKeyframeRequestTrackFieldEvent {
    field: '$.keyframeRequest.track'
    value: number
  }

  export function encode (obj: Partial<SubscriberNotice>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SubscriberNotice.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubscriberNotice>): SubscriberNotice {
    return decodeMessage(buf, SubscriberNotice.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubscriberNotice>): Generator<SubscriberNoticeKeyframeRequestTrackFieldEvent> {
    return streamMessage(buf, SubscriberNotice.codec(), opts)
  }
}

export interface KeyframeRequest {
  track: number
}

export namespace KeyframeRequest {
  let _codec: Codec<KeyframeRequest>

  export const codec = (): Codec<KeyframeRequest> => {
    if (_codec == null) {
      _codec = message<KeyframeRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.track != null && obj.track !== 0)) {
          w.uint32(8)
          w.uint32(obj.track)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          track: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.track = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.track`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface KeyframeRequestTrackFieldEvent {
    field: '$.track'
    value: number
  }

  export function encode (obj: Partial<KeyframeRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, KeyframeRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeyframeRequest>): KeyframeRequest {
    return decodeMessage(buf, KeyframeRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeyframeRequest>): Generator<KeyframeRequestTrackFieldEvent> {
    return streamMessage(buf, KeyframeRequest.codec(), opts)
  }
}
