/* eslint-disable require-yield */

import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface GroupError {
  code: string
  message: string
  currentEpoch: bigint
}

export namespace GroupError {
  let _codec: Codec<GroupError>

  export const codec = (): Codec<GroupError> => {
    if (_codec == null) {
      _codec = message<GroupError>((obj, w, opts = {}) => {
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

        if ((obj.currentEpoch != null && obj.currentEpoch !== 0n)) {
          w.uint32(24)
          w.uint64(obj.currentEpoch)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          message: '',
          currentEpoch: 0n
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
            case 3: {
              obj.currentEpoch = reader.uint64()
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
            case 3: {
              yield {
                field: `${prefix}.currentEpoch`,
                value: reader.uint64()
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

  export interface GroupErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface GroupErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface GroupErrorCurrentEpochFieldEvent {
    field: '$.currentEpoch'
    value: bigint
  }

  export function encode (obj: Partial<GroupError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GroupError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupError>): GroupError {
    return decodeMessage(buf, GroupError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupError>): Generator<GroupErrorCodeFieldEvent | GroupErrorMessageFieldEvent | GroupErrorCurrentEpochFieldEvent> {
    return streamMessage(buf, GroupError.codec(), opts)
  }
}

export interface GroupClientMessage {
  version: number
  requestId: bigint
  create?: CreateStream
  join?: JoinStream
  commit?: SubmitCommit
  ack?: AckEpoch
  leave?: LeaveStream
  deny?: DenyJoin
  resume?: ResumeStream
  end?: EndStream
}

export namespace GroupClientMessage {
  let _codec: Codec<GroupClientMessage>

  export const codec = (): Codec<GroupClientMessage> => {
    if (_codec == null) {
      _codec = message<GroupClientMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.end != null) {
          obj.resume = undefined
          obj.deny = undefined
          obj.leave = undefined
          obj.ack = undefined
          obj.commit = undefined
          obj.join = undefined
          obj.create = undefined
        }

        if (obj.resume != null) {
          obj.end = undefined
          obj.deny = undefined
          obj.leave = undefined
          obj.ack = undefined
          obj.commit = undefined
          obj.join = undefined
          obj.create = undefined
        }

        if (obj.deny != null) {
          obj.end = undefined
          obj.resume = undefined
          obj.leave = undefined
          obj.ack = undefined
          obj.commit = undefined
          obj.join = undefined
          obj.create = undefined
        }

        if (obj.leave != null) {
          obj.end = undefined
          obj.resume = undefined
          obj.deny = undefined
          obj.ack = undefined
          obj.commit = undefined
          obj.join = undefined
          obj.create = undefined
        }

        if (obj.ack != null) {
          obj.end = undefined
          obj.resume = undefined
          obj.deny = undefined
          obj.leave = undefined
          obj.commit = undefined
          obj.join = undefined
          obj.create = undefined
        }

        if (obj.commit != null) {
          obj.end = undefined
          obj.resume = undefined
          obj.deny = undefined
          obj.leave = undefined
          obj.ack = undefined
          obj.join = undefined
          obj.create = undefined
        }

        if (obj.join != null) {
          obj.end = undefined
          obj.resume = undefined
          obj.deny = undefined
          obj.leave = undefined
          obj.ack = undefined
          obj.commit = undefined
          obj.create = undefined
        }

        if (obj.create != null) {
          obj.end = undefined
          obj.resume = undefined
          obj.deny = undefined
          obj.leave = undefined
          obj.ack = undefined
          obj.commit = undefined
          obj.join = undefined
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.requestId != null && obj.requestId !== 0n)) {
          w.uint32(16)
          w.uint64(obj.requestId)
        }

        if (obj.create != null) {
          w.uint32(26)
          CreateStream.codec().encode(obj.create, w)
        }

        if (obj.join != null) {
          w.uint32(34)
          JoinStream.codec().encode(obj.join, w)
        }

        if (obj.commit != null) {
          w.uint32(42)
          SubmitCommit.codec().encode(obj.commit, w)
        }

        if (obj.ack != null) {
          w.uint32(50)
          AckEpoch.codec().encode(obj.ack, w)
        }

        if (obj.leave != null) {
          w.uint32(58)
          LeaveStream.codec().encode(obj.leave, w)
        }

        if (obj.deny != null) {
          w.uint32(66)
          DenyJoin.codec().encode(obj.deny, w)
        }

        if (obj.resume != null) {
          w.uint32(74)
          ResumeStream.codec().encode(obj.resume, w)
        }

        if (obj.end != null) {
          w.uint32(82)
          EndStream.codec().encode(obj.end, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          requestId: 0n
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
              obj.requestId = reader.uint64()
              break
            }
            case 3: {
              obj.create = CreateStream.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.create
              })
              break
            }
            case 4: {
              obj.join = JoinStream.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.join
              })
              break
            }
            case 5: {
              obj.commit = SubmitCommit.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.commit
              })
              break
            }
            case 6: {
              obj.ack = AckEpoch.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
              })
              break
            }
            case 7: {
              obj.leave = LeaveStream.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.leave
              })
              break
            }
            case 8: {
              obj.deny = DenyJoin.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.deny
              })
              break
            }
            case 9: {
              obj.resume = ResumeStream.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.resume
              })
              break
            }
            case 10: {
              obj.end = EndStream.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.end
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.end != null) {
          delete obj.resume
          delete obj.deny
          delete obj.leave
          delete obj.ack
          delete obj.commit
          delete obj.join
          delete obj.create
        }

        if (obj.resume != null) {
          delete obj.end
          delete obj.deny
          delete obj.leave
          delete obj.ack
          delete obj.commit
          delete obj.join
          delete obj.create
        }

        if (obj.deny != null) {
          delete obj.end
          delete obj.resume
          delete obj.leave
          delete obj.ack
          delete obj.commit
          delete obj.join
          delete obj.create
        }

        if (obj.leave != null) {
          delete obj.end
          delete obj.resume
          delete obj.deny
          delete obj.ack
          delete obj.commit
          delete obj.join
          delete obj.create
        }

        if (obj.ack != null) {
          delete obj.end
          delete obj.resume
          delete obj.deny
          delete obj.leave
          delete obj.commit
          delete obj.join
          delete obj.create
        }

        if (obj.commit != null) {
          delete obj.end
          delete obj.resume
          delete obj.deny
          delete obj.leave
          delete obj.ack
          delete obj.join
          delete obj.create
        }

        if (obj.join != null) {
          delete obj.end
          delete obj.resume
          delete obj.deny
          delete obj.leave
          delete obj.ack
          delete obj.commit
          delete obj.create
        }

        if (obj.create != null) {
          delete obj.end
          delete obj.resume
          delete obj.deny
          delete obj.leave
          delete obj.ack
          delete obj.commit
          delete obj.join
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
                field: `${prefix}.requestId`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield * CreateStream.codec().stream(reader, reader.uint32(), `${prefix}.create`, {
                limits: opts.limits?.create
              })

              break
            }
            case 4: {
              yield * JoinStream.codec().stream(reader, reader.uint32(), `${prefix}.join`, {
                limits: opts.limits?.join
              })

              break
            }
            case 5: {
              yield * SubmitCommit.codec().stream(reader, reader.uint32(), `${prefix}.commit`, {
                limits: opts.limits?.commit
              })

              break
            }
            case 6: {
              yield * AckEpoch.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
              })

              break
            }
            case 7: {
              yield * LeaveStream.codec().stream(reader, reader.uint32(), `${prefix}.leave`, {
                limits: opts.limits?.leave
              })

              break
            }
            case 8: {
              yield * DenyJoin.codec().stream(reader, reader.uint32(), `${prefix}.deny`, {
                limits: opts.limits?.deny
              })

              break
            }
            case 9: {
              yield * ResumeStream.codec().stream(reader, reader.uint32(), `${prefix}.resume`, {
                limits: opts.limits?.resume
              })

              break
            }
            case 10: {
              yield * EndStream.codec().stream(reader, reader.uint32(), `${prefix}.end`, {
                limits: opts.limits?.end
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

  export interface GroupClientMessageVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface GroupClientMessageRequestIdFieldEvent {
    field: '$.requestId'
    value: bigint
  }

  export interface GroupClientMessageCreateStreamFieldEvent {
    field: '$.create.stream'
    value: string
  }

  export interface GroupClientMessageCreateGroupIdFieldEvent {
    field: '$.create.groupId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupClientMessageJoinStreamFieldEvent {
    field: '$.join.stream'
    value: string
  }

  export interface GroupClientMessageJoinOwnerFieldEvent {
    field: '$.join.owner'
    value: string
  }

  export interface GroupClientMessageJoinRedemptionFieldEvent {
    field: '$.join.redemption'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupClientMessageCommitEpochFieldEvent {
    field: '$.commit.epoch'
    value: bigint
  }

  export interface GroupClientMessageCommitCommitFieldEvent {
    field: '$.commit.commit'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupClientMessageCommitWelcomeFieldEvent {
    field: '$.commit.welcome'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupClientMessageCommitAddedFieldEvent {
    field: '$.commit.added[]'
    index: number
    value: string
  }

  export interface GroupClientMessageCommitRemovedFieldEvent {
    field: '$.commit.removed[]'
    index: number
    value: string
  }

  export interface GroupClientMessageAckEpochFieldEvent {
    field: '$.ack.epoch'
    value: bigint
  }

  export interface GroupClientMessageDenyIdentityFieldEvent {
    field: '$.deny.identity'
    value: string
  }

  export interface GroupClientMessageDenyReasonFieldEvent {
    field: '$.deny.reason'
    value: string
  }

  export interface GroupClientMessageResumeStreamFieldEvent {
    field: '$.resume.stream'
    value: string
  }

  export interface GroupClientMessageResumeOwnerFieldEvent {
    field: '$.resume.owner'
    value: string
  }

  export interface GroupClientMessageResumeEpochFieldEvent {
    field: '$.resume.epoch'
    value: bigint
  }

  export function encode (obj: Partial<GroupClientMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GroupClientMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupClientMessage>): GroupClientMessage {
    return decodeMessage(buf, GroupClientMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupClientMessage>): Generator<GroupClientMessageVersionFieldEvent | GroupClientMessageRequestIdFieldEvent | GroupClientMessageCreateStreamFieldEvent | GroupClientMessageCreateGroupIdFieldEvent | GroupClientMessageJoinStreamFieldEvent | GroupClientMessageJoinOwnerFieldEvent | GroupClientMessageJoinRedemptionFieldEvent | GroupClientMessageCommitEpochFieldEvent | GroupClientMessageCommitCommitFieldEvent | GroupClientMessageCommitWelcomeFieldEvent | GroupClientMessageCommitAddedFieldEvent | GroupClientMessageCommitRemovedFieldEvent | GroupClientMessageAckEpochFieldEvent | GroupClientMessageDenyIdentityFieldEvent | GroupClientMessageDenyReasonFieldEvent | GroupClientMessageResumeStreamFieldEvent | GroupClientMessageResumeOwnerFieldEvent | GroupClientMessageResumeEpochFieldEvent> {
    return streamMessage(buf, GroupClientMessage.codec(), opts)
  }
}

export interface CreateStream {
  stream: string
  groupId: Uint8Array<ArrayBuffer>
}

export namespace CreateStream {
  let _codec: Codec<CreateStream>

  export const codec = (): Codec<CreateStream> => {
    if (_codec == null) {
      _codec = message<CreateStream>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.stream != null && obj.stream !== '')) {
          w.uint32(10)
          w.string(obj.stream)
        }

        if ((obj.groupId != null && obj.groupId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.groupId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          stream: '',
          groupId: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.stream = reader.string()
              break
            }
            case 2: {
              obj.groupId = reader.bytes()
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
                field: `${prefix}.stream`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.groupId`,
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

  export interface CreateStreamStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface CreateStreamGroupIdFieldEvent {
    field: '$.groupId'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<CreateStream>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CreateStream.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CreateStream>): CreateStream {
    return decodeMessage(buf, CreateStream.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CreateStream>): Generator<CreateStreamStreamFieldEvent | CreateStreamGroupIdFieldEvent> {
    return streamMessage(buf, CreateStream.codec(), opts)
  }
}

export interface JoinStream {
  stream: string
  owner: string
  redemption: Uint8Array<ArrayBuffer>
}

export namespace JoinStream {
  let _codec: Codec<JoinStream>

  export const codec = (): Codec<JoinStream> => {
    if (_codec == null) {
      _codec = message<JoinStream>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.stream != null && obj.stream !== '')) {
          w.uint32(10)
          w.string(obj.stream)
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(18)
          w.string(obj.owner)
        }

        if ((obj.redemption != null && obj.redemption.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.redemption)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          stream: '',
          owner: '',
          redemption: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.stream = reader.string()
              break
            }
            case 2: {
              obj.owner = reader.string()
              break
            }
            case 3: {
              obj.redemption = reader.bytes()
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
                field: `${prefix}.stream`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.owner`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.redemption`,
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

  export interface JoinStreamStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface JoinStreamOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface JoinStreamRedemptionFieldEvent {
    field: '$.redemption'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<JoinStream>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JoinStream.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinStream>): JoinStream {
    return decodeMessage(buf, JoinStream.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinStream>): Generator<JoinStreamStreamFieldEvent | JoinStreamOwnerFieldEvent | JoinStreamRedemptionFieldEvent> {
    return streamMessage(buf, JoinStream.codec(), opts)
  }
}

export interface SubmitCommit {
  epoch: bigint
  commit: Uint8Array<ArrayBuffer>
  welcome: Uint8Array<ArrayBuffer>
  added: string[]
  removed: string[]
}

export namespace SubmitCommit {
  let _codec: Codec<SubmitCommit>

  export const codec = (): Codec<SubmitCommit> => {
    if (_codec == null) {
      _codec = message<SubmitCommit>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(8)
          w.uint64(obj.epoch)
        }

        if ((obj.commit != null && obj.commit.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.commit)
        }

        if ((obj.welcome != null && obj.welcome.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.welcome)
        }

        if (obj.added != null && obj.added.length > 0) {
          for (const value of obj.added) {
            w.uint32(34)
            w.string(value)
          }
        }

        if (obj.removed != null && obj.removed.length > 0) {
          for (const value of obj.removed) {
            w.uint32(42)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          epoch: 0n,
          commit: uint8ArrayAlloc(0),
          welcome: uint8ArrayAlloc(0),
          added: [],
          removed: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = reader.uint64()
              break
            }
            case 2: {
              obj.commit = reader.bytes()
              break
            }
            case 3: {
              obj.welcome = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.added != null && obj.added.length === opts.limits.added) {
                throw new MaxLengthError('Decode error - repeated field "added" had too many elements')
              }

              obj.added.push(reader.string())
              break
            }
            case 5: {
              if (opts.limits?.removed != null && obj.removed.length === opts.limits.removed) {
                throw new MaxLengthError('Decode error - repeated field "removed" had too many elements')
              }

              obj.removed.push(reader.string())
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
          added: 0,
          removed: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.commit`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.welcome`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.added != null && obj.added === opts.limits.added) {
                throw new MaxLengthError('Streaming decode error - repeated field "added" had too many elements')
              }

              yield {
                field: `${prefix}.added[]`,
                index: obj.added,
                value: reader.string()
              }

              obj.added++

              break
            }
            case 5: {
              if (opts.limits?.removed != null && obj.removed === opts.limits.removed) {
                throw new MaxLengthError('Streaming decode error - repeated field "removed" had too many elements')
              }

              yield {
                field: `${prefix}.removed[]`,
                index: obj.removed,
                value: reader.string()
              }

              obj.removed++

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

  export interface SubmitCommitEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export interface SubmitCommitCommitFieldEvent {
    field: '$.commit'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SubmitCommitWelcomeFieldEvent {
    field: '$.welcome'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SubmitCommitAddedFieldEvent {
    field: '$.added[]'
    index: number
    value: string
  }

  export interface SubmitCommitRemovedFieldEvent {
    field: '$.removed[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<SubmitCommit>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SubmitCommit.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubmitCommit>): SubmitCommit {
    return decodeMessage(buf, SubmitCommit.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubmitCommit>): Generator<SubmitCommitEpochFieldEvent | SubmitCommitCommitFieldEvent | SubmitCommitWelcomeFieldEvent | SubmitCommitAddedFieldEvent | SubmitCommitRemovedFieldEvent> {
    return streamMessage(buf, SubmitCommit.codec(), opts)
  }
}

export interface AckEpoch {
  epoch: bigint
}

export namespace AckEpoch {
  let _codec: Codec<AckEpoch>

  export const codec = (): Codec<AckEpoch> => {
    if (_codec == null) {
      _codec = message<AckEpoch>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(8)
          w.uint64(obj.epoch)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          epoch: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = reader.uint64()
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
                field: `${prefix}.epoch`,
                value: reader.uint64()
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

  export interface AckEpochEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export function encode (obj: Partial<AckEpoch>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AckEpoch.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AckEpoch>): AckEpoch {
    return decodeMessage(buf, AckEpoch.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AckEpoch>): Generator<AckEpochEpochFieldEvent> {
    return streamMessage(buf, AckEpoch.codec(), opts)
  }
}

export interface LeaveStream {}

export namespace LeaveStream {
  let _codec: Codec<LeaveStream>

  export const codec = (): Codec<LeaveStream> => {
    if (_codec == null) {
      _codec = message<LeaveStream>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
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

  export function encode (obj: Partial<LeaveStream>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LeaveStream.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaveStream>): LeaveStream {
    return decodeMessage(buf, LeaveStream.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaveStream>): Generator<{}> {
    return streamMessage(buf, LeaveStream.codec(), opts)
  }
}

export interface ResumeStream {
  stream: string
  owner: string
  epoch: bigint
}

export namespace ResumeStream {
  let _codec: Codec<ResumeStream>

  export const codec = (): Codec<ResumeStream> => {
    if (_codec == null) {
      _codec = message<ResumeStream>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.stream != null && obj.stream !== '')) {
          w.uint32(10)
          w.string(obj.stream)
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(18)
          w.string(obj.owner)
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(24)
          w.uint64(obj.epoch)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          stream: '',
          owner: '',
          epoch: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.stream = reader.string()
              break
            }
            case 2: {
              obj.owner = reader.string()
              break
            }
            case 3: {
              obj.epoch = reader.uint64()
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
                field: `${prefix}.stream`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.owner`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64()
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

  export interface ResumeStreamStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface ResumeStreamOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface ResumeStreamEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export function encode (obj: Partial<ResumeStream>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ResumeStream.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResumeStream>): ResumeStream {
    return decodeMessage(buf, ResumeStream.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResumeStream>): Generator<ResumeStreamStreamFieldEvent | ResumeStreamOwnerFieldEvent | ResumeStreamEpochFieldEvent> {
    return streamMessage(buf, ResumeStream.codec(), opts)
  }
}

export interface EndStream {}

export namespace EndStream {
  let _codec: Codec<EndStream>

  export const codec = (): Codec<EndStream> => {
    if (_codec == null) {
      _codec = message<EndStream>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
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

  export function encode (obj: Partial<EndStream>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, EndStream.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EndStream>): EndStream {
    return decodeMessage(buf, EndStream.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EndStream>): Generator<{}> {
    return streamMessage(buf, EndStream.codec(), opts)
  }
}

export interface DenyJoin {
  identity: string
  reason: string
}

export namespace DenyJoin {
  let _codec: Codec<DenyJoin>

  export const codec = (): Codec<DenyJoin> => {
    if (_codec == null) {
      _codec = message<DenyJoin>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.identity != null && obj.identity !== '')) {
          w.uint32(10)
          w.string(obj.identity)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          identity: '',
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.identity = reader.string()
              break
            }
            case 2: {
              obj.reason = reader.string()
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
                field: `${prefix}.identity`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
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

  export interface DenyJoinIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export interface DenyJoinReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<DenyJoin>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DenyJoin.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DenyJoin>): DenyJoin {
    return decodeMessage(buf, DenyJoin.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DenyJoin>): Generator<DenyJoinIdentityFieldEvent | DenyJoinReasonFieldEvent> {
    return streamMessage(buf, DenyJoin.codec(), opts)
  }
}

export interface GroupServerMessage {
  version: number
  requestId: bigint
  ok?: GroupOk
  error?: GroupError
  joinRequested?: JoinRequested
  commit?: CommitDelivery
  welcome?: WelcomeDelivery
  roster?: Roster
  epochReady?: EpochReady
  leaveRequested?: LeaveRequested
  joinWithdrawn?: JoinWithdrawn
  goingAway?: GoingAway
}

export namespace GroupServerMessage {
  let _codec: Codec<GroupServerMessage>

  export const codec = (): Codec<GroupServerMessage> => {
    if (_codec == null) {
      _codec = message<GroupServerMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.goingAway != null) {
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.joinWithdrawn != null) {
          obj.goingAway = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.leaveRequested != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.epochReady != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.roster != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.welcome != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.commit != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.joinRequested = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.joinRequested != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.error = undefined
          obj.ok = undefined
        }

        if (obj.error != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.ok = undefined
        }

        if (obj.ok != null) {
          obj.goingAway = undefined
          obj.joinWithdrawn = undefined
          obj.leaveRequested = undefined
          obj.epochReady = undefined
          obj.roster = undefined
          obj.welcome = undefined
          obj.commit = undefined
          obj.joinRequested = undefined
          obj.error = undefined
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.requestId != null && obj.requestId !== 0n)) {
          w.uint32(16)
          w.uint64(obj.requestId)
        }

        if (obj.ok != null) {
          w.uint32(26)
          GroupOk.codec().encode(obj.ok, w)
        }

        if (obj.error != null) {
          w.uint32(34)
          GroupError.codec().encode(obj.error, w)
        }

        if (obj.joinRequested != null) {
          w.uint32(42)
          JoinRequested.codec().encode(obj.joinRequested, w)
        }

        if (obj.commit != null) {
          w.uint32(50)
          CommitDelivery.codec().encode(obj.commit, w)
        }

        if (obj.welcome != null) {
          w.uint32(58)
          WelcomeDelivery.codec().encode(obj.welcome, w)
        }

        if (obj.roster != null) {
          w.uint32(66)
          Roster.codec().encode(obj.roster, w)
        }

        if (obj.epochReady != null) {
          w.uint32(74)
          EpochReady.codec().encode(obj.epochReady, w)
        }

        if (obj.leaveRequested != null) {
          w.uint32(82)
          LeaveRequested.codec().encode(obj.leaveRequested, w)
        }

        if (obj.joinWithdrawn != null) {
          w.uint32(90)
          JoinWithdrawn.codec().encode(obj.joinWithdrawn, w)
        }

        if (obj.goingAway != null) {
          w.uint32(98)
          GoingAway.codec().encode(obj.goingAway, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          requestId: 0n
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
              obj.requestId = reader.uint64()
              break
            }
            case 3: {
              obj.ok = GroupOk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ok
              })
              break
            }
            case 4: {
              obj.error = GroupError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 5: {
              obj.joinRequested = JoinRequested.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.joinRequested
              })
              break
            }
            case 6: {
              obj.commit = CommitDelivery.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.commit
              })
              break
            }
            case 7: {
              obj.welcome = WelcomeDelivery.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.welcome
              })
              break
            }
            case 8: {
              obj.roster = Roster.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.roster
              })
              break
            }
            case 9: {
              obj.epochReady = EpochReady.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.epochReady
              })
              break
            }
            case 10: {
              obj.leaveRequested = LeaveRequested.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.leaveRequested
              })
              break
            }
            case 11: {
              obj.joinWithdrawn = JoinWithdrawn.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.joinWithdrawn
              })
              break
            }
            case 12: {
              obj.goingAway = GoingAway.codec().decode(reader, reader.uint32(), {
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
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.roster
          delete obj.welcome
          delete obj.commit
          delete obj.joinRequested
          delete obj.error
          delete obj.ok
        }

        if (obj.joinWithdrawn != null) {
          delete obj.goingAway
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.roster
          delete obj.welcome
          delete obj.commit
          delete obj.joinRequested
          delete obj.error
          delete obj.ok
        }

        if (obj.leaveRequested != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.epochReady
          delete obj.roster
          delete obj.welcome
          delete obj.commit
          delete obj.joinRequested
          delete obj.error
          delete obj.ok
        }

        if (obj.epochReady != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.roster
          delete obj.welcome
          delete obj.commit
          delete obj.joinRequested
          delete obj.error
          delete obj.ok
        }

        if (obj.roster != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.welcome
          delete obj.commit
          delete obj.joinRequested
          delete obj.error
          delete obj.ok
        }

        if (obj.welcome != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.roster
          delete obj.commit
          delete obj.joinRequested
          delete obj.error
          delete obj.ok
        }

        if (obj.commit != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.roster
          delete obj.welcome
          delete obj.joinRequested
          delete obj.error
          delete obj.ok
        }

        if (obj.joinRequested != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.roster
          delete obj.welcome
          delete obj.commit
          delete obj.error
          delete obj.ok
        }

        if (obj.error != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.roster
          delete obj.welcome
          delete obj.commit
          delete obj.joinRequested
          delete obj.ok
        }

        if (obj.ok != null) {
          delete obj.goingAway
          delete obj.joinWithdrawn
          delete obj.leaveRequested
          delete obj.epochReady
          delete obj.roster
          delete obj.welcome
          delete obj.commit
          delete obj.joinRequested
          delete obj.error
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
                field: `${prefix}.requestId`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield * GroupOk.codec().stream(reader, reader.uint32(), `${prefix}.ok`, {
                limits: opts.limits?.ok
              })

              break
            }
            case 4: {
              yield * GroupError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 5: {
              yield * JoinRequested.codec().stream(reader, reader.uint32(), `${prefix}.joinRequested`, {
                limits: opts.limits?.joinRequested
              })

              break
            }
            case 6: {
              yield * CommitDelivery.codec().stream(reader, reader.uint32(), `${prefix}.commit`, {
                limits: opts.limits?.commit
              })

              break
            }
            case 7: {
              yield * WelcomeDelivery.codec().stream(reader, reader.uint32(), `${prefix}.welcome`, {
                limits: opts.limits?.welcome
              })

              break
            }
            case 8: {
              yield * Roster.codec().stream(reader, reader.uint32(), `${prefix}.roster`, {
                limits: opts.limits?.roster
              })

              break
            }
            case 9: {
              yield * EpochReady.codec().stream(reader, reader.uint32(), `${prefix}.epochReady`, {
                limits: opts.limits?.epochReady
              })

              break
            }
            case 10: {
              yield * LeaveRequested.codec().stream(reader, reader.uint32(), `${prefix}.leaveRequested`, {
                limits: opts.limits?.leaveRequested
              })

              break
            }
            case 11: {
              yield * JoinWithdrawn.codec().stream(reader, reader.uint32(), `${prefix}.joinWithdrawn`, {
                limits: opts.limits?.joinWithdrawn
              })

              break
            }
            case 12: {
              yield * GoingAway.codec().stream(reader, reader.uint32(), `${prefix}.goingAway`, {
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

  export interface GroupServerMessageVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface GroupServerMessageRequestIdFieldEvent {
    field: '$.requestId'
    value: bigint
  }

  export interface GroupServerMessageOkEpochFieldEvent {
    field: '$.ok.epoch'
    value: bigint
  }

  export interface GroupServerMessageErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface GroupServerMessageErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface GroupServerMessageErrorCurrentEpochFieldEvent {
    field: '$.error.currentEpoch'
    value: bigint
  }

  export interface GroupServerMessageJoinRequestedIdentityFieldEvent {
    field: '$.joinRequested.identity'
    value: string
  }

  export interface GroupServerMessageJoinRequestedRedemptionFieldEvent {
    field: '$.joinRequested.redemption'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupServerMessageCommitEpochFieldEvent {
    field: '$.commit.epoch'
    value: bigint
  }

  export interface GroupServerMessageCommitCommitFieldEvent {
    field: '$.commit.commit'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupServerMessageWelcomeEpochFieldEvent {
    field: '$.welcome.epoch'
    value: bigint
  }

  export interface GroupServerMessageWelcomeWelcomeFieldEvent {
    field: '$.welcome.welcome'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupServerMessageRosterEpochFieldEvent {
    field: '$.roster.epoch'
    value: bigint
  }

  export interface GroupServerMessageRosterMembersFieldEvent {
    field: '$.roster.members[]'
    index: number
    value: string
  }

  export interface GroupServerMessageRosterCommitterFieldEvent {
    field: '$.roster.committer'
    value: string
  }

  export interface GroupServerMessageEpochReadyEpochFieldEvent {
    field: '$.epochReady.epoch'
    value: bigint
  }

  export interface GroupServerMessageLeaveRequestedIdentityFieldEvent {
    field: '$.leaveRequested.identity'
    value: string
  }

  export interface GroupServerMessageJoinWithdrawnIdentityFieldEvent {
    field: '$.joinWithdrawn.identity'
    value: string
  }

  export interface GroupServerMessageGoingAwayReasonFieldEvent {
    field: '$.goingAway.reason'
    value: string
  }

  export interface GroupServerMessageGoingAwayAddressesFieldEvent {
    field: '$.goingAway.addresses[]'
    index: number
    value: string
  }

  export interface GroupServerMessageGoingAwayRetryAfterMsFieldEvent {
    field: '$.goingAway.retryAfterMs'
    value: number
  }

  export function encode (obj: Partial<GroupServerMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GroupServerMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupServerMessage>): GroupServerMessage {
    return decodeMessage(buf, GroupServerMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupServerMessage>): Generator<GroupServerMessageVersionFieldEvent | GroupServerMessageRequestIdFieldEvent | GroupServerMessageOkEpochFieldEvent | GroupServerMessageErrorCodeFieldEvent | GroupServerMessageErrorMessageFieldEvent | GroupServerMessageErrorCurrentEpochFieldEvent | GroupServerMessageJoinRequestedIdentityFieldEvent | GroupServerMessageJoinRequestedRedemptionFieldEvent | GroupServerMessageCommitEpochFieldEvent | GroupServerMessageCommitCommitFieldEvent | GroupServerMessageWelcomeEpochFieldEvent | GroupServerMessageWelcomeWelcomeFieldEvent | GroupServerMessageRosterEpochFieldEvent | GroupServerMessageRosterMembersFieldEvent | GroupServerMessageRosterCommitterFieldEvent | GroupServerMessageEpochReadyEpochFieldEvent | GroupServerMessageLeaveRequestedIdentityFieldEvent | GroupServerMessageJoinWithdrawnIdentityFieldEvent | GroupServerMessageGoingAwayReasonFieldEvent | GroupServerMessageGoingAwayAddressesFieldEvent | GroupServerMessageGoingAwayRetryAfterMsFieldEvent> {
    return streamMessage(buf, GroupServerMessage.codec(), opts)
  }
}

export interface GroupOk {
  epoch: bigint
}

export namespace GroupOk {
  let _codec: Codec<GroupOk>

  export const codec = (): Codec<GroupOk> => {
    if (_codec == null) {
      _codec = message<GroupOk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(8)
          w.uint64(obj.epoch)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          epoch: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = reader.uint64()
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
                field: `${prefix}.epoch`,
                value: reader.uint64()
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

  export interface GroupOkEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export function encode (obj: Partial<GroupOk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GroupOk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupOk>): GroupOk {
    return decodeMessage(buf, GroupOk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupOk>): Generator<GroupOkEpochFieldEvent> {
    return streamMessage(buf, GroupOk.codec(), opts)
  }
}

export interface JoinRequested {
  identity: string
  redemption: Uint8Array<ArrayBuffer>
}

export namespace JoinRequested {
  let _codec: Codec<JoinRequested>

  export const codec = (): Codec<JoinRequested> => {
    if (_codec == null) {
      _codec = message<JoinRequested>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.identity != null && obj.identity !== '')) {
          w.uint32(10)
          w.string(obj.identity)
        }

        if ((obj.redemption != null && obj.redemption.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.redemption)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          identity: '',
          redemption: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.identity = reader.string()
              break
            }
            case 2: {
              obj.redemption = reader.bytes()
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
                field: `${prefix}.identity`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.redemption`,
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

  export interface JoinRequestedIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export interface JoinRequestedRedemptionFieldEvent {
    field: '$.redemption'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<JoinRequested>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JoinRequested.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinRequested>): JoinRequested {
    return decodeMessage(buf, JoinRequested.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinRequested>): Generator<JoinRequestedIdentityFieldEvent | JoinRequestedRedemptionFieldEvent> {
    return streamMessage(buf, JoinRequested.codec(), opts)
  }
}

export interface LeaveRequested {
  identity: string
}

export namespace LeaveRequested {
  let _codec: Codec<LeaveRequested>

  export const codec = (): Codec<LeaveRequested> => {
    if (_codec == null) {
      _codec = message<LeaveRequested>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.identity != null && obj.identity !== '')) {
          w.uint32(10)
          w.string(obj.identity)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          identity: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.identity = reader.string()
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
                field: `${prefix}.identity`,
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

  export interface LeaveRequestedIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export function encode (obj: Partial<LeaveRequested>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LeaveRequested.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaveRequested>): LeaveRequested {
    return decodeMessage(buf, LeaveRequested.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaveRequested>): Generator<LeaveRequestedIdentityFieldEvent> {
    return streamMessage(buf, LeaveRequested.codec(), opts)
  }
}

export interface JoinWithdrawn {
  identity: string
}

export namespace JoinWithdrawn {
  let _codec: Codec<JoinWithdrawn>

  export const codec = (): Codec<JoinWithdrawn> => {
    if (_codec == null) {
      _codec = message<JoinWithdrawn>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.identity != null && obj.identity !== '')) {
          w.uint32(10)
          w.string(obj.identity)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          identity: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.identity = reader.string()
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
                field: `${prefix}.identity`,
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

  export interface JoinWithdrawnIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export function encode (obj: Partial<JoinWithdrawn>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JoinWithdrawn.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinWithdrawn>): JoinWithdrawn {
    return decodeMessage(buf, JoinWithdrawn.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinWithdrawn>): Generator<JoinWithdrawnIdentityFieldEvent> {
    return streamMessage(buf, JoinWithdrawn.codec(), opts)
  }
}

export interface CommitDelivery {
  epoch: bigint
  commit: Uint8Array<ArrayBuffer>
}

export namespace CommitDelivery {
  let _codec: Codec<CommitDelivery>

  export const codec = (): Codec<CommitDelivery> => {
    if (_codec == null) {
      _codec = message<CommitDelivery>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(8)
          w.uint64(obj.epoch)
        }

        if ((obj.commit != null && obj.commit.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.commit)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          epoch: 0n,
          commit: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = reader.uint64()
              break
            }
            case 2: {
              obj.commit = reader.bytes()
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
                field: `${prefix}.epoch`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.commit`,
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

  export interface CommitDeliveryEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export interface CommitDeliveryCommitFieldEvent {
    field: '$.commit'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<CommitDelivery>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CommitDelivery.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CommitDelivery>): CommitDelivery {
    return decodeMessage(buf, CommitDelivery.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CommitDelivery>): Generator<CommitDeliveryEpochFieldEvent | CommitDeliveryCommitFieldEvent> {
    return streamMessage(buf, CommitDelivery.codec(), opts)
  }
}

export interface WelcomeDelivery {
  epoch: bigint
  welcome: Uint8Array<ArrayBuffer>
}

export namespace WelcomeDelivery {
  let _codec: Codec<WelcomeDelivery>

  export const codec = (): Codec<WelcomeDelivery> => {
    if (_codec == null) {
      _codec = message<WelcomeDelivery>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(8)
          w.uint64(obj.epoch)
        }

        if ((obj.welcome != null && obj.welcome.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.welcome)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          epoch: 0n,
          welcome: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = reader.uint64()
              break
            }
            case 2: {
              obj.welcome = reader.bytes()
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
                field: `${prefix}.epoch`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.welcome`,
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

  export interface WelcomeDeliveryEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export interface WelcomeDeliveryWelcomeFieldEvent {
    field: '$.welcome'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<WelcomeDelivery>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WelcomeDelivery.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WelcomeDelivery>): WelcomeDelivery {
    return decodeMessage(buf, WelcomeDelivery.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WelcomeDelivery>): Generator<WelcomeDeliveryEpochFieldEvent | WelcomeDeliveryWelcomeFieldEvent> {
    return streamMessage(buf, WelcomeDelivery.codec(), opts)
  }
}

export interface Roster {
  epoch: bigint
  members: string[]
  committer: string
}

export namespace Roster {
  let _codec: Codec<Roster>

  export const codec = (): Codec<Roster> => {
    if (_codec == null) {
      _codec = message<Roster>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(8)
          w.uint64(obj.epoch)
        }

        if (obj.members != null && obj.members.length > 0) {
          for (const value of obj.members) {
            w.uint32(18)
            w.string(value)
          }
        }

        if ((obj.committer != null && obj.committer !== '')) {
          w.uint32(26)
          w.string(obj.committer)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          epoch: 0n,
          members: [],
          committer: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = reader.uint64()
              break
            }
            case 2: {
              if (opts.limits?.members != null && obj.members.length === opts.limits.members) {
                throw new MaxLengthError('Decode error - repeated field "members" had too many elements')
              }

              obj.members.push(reader.string())
              break
            }
            case 3: {
              obj.committer = reader.string()
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
          members: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              if (opts.limits?.members != null && obj.members === opts.limits.members) {
                throw new MaxLengthError('Streaming decode error - repeated field "members" had too many elements')
              }

              yield {
                field: `${prefix}.members[]`,
                index: obj.members,
                value: reader.string()
              }

              obj.members++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.committer`,
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

  export interface RosterEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export interface RosterMembersFieldEvent {
    field: '$.members[]'
    index: number
    value: string
  }

  export interface RosterCommitterFieldEvent {
    field: '$.committer'
    value: string
  }

  export function encode (obj: Partial<Roster>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Roster.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Roster>): Roster {
    return decodeMessage(buf, Roster.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Roster>): Generator<RosterEpochFieldEvent | RosterMembersFieldEvent | RosterCommitterFieldEvent> {
    return streamMessage(buf, Roster.codec(), opts)
  }
}

export interface EpochReady {
  epoch: bigint
}

export namespace EpochReady {
  let _codec: Codec<EpochReady>

  export const codec = (): Codec<EpochReady> => {
    if (_codec == null) {
      _codec = message<EpochReady>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(8)
          w.uint64(obj.epoch)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          epoch: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.epoch = reader.uint64()
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
                field: `${prefix}.epoch`,
                value: reader.uint64()
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

  export interface EpochReadyEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export function encode (obj: Partial<EpochReady>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, EpochReady.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EpochReady>): EpochReady {
    return decodeMessage(buf, EpochReady.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EpochReady>): Generator<EpochReadyEpochFieldEvent> {
    return streamMessage(buf, EpochReady.codec(), opts)
  }
}

export interface GoingAway {
  reason: string
  addresses: string[]
  retryAfterMs: number
}

export namespace GoingAway {
  let _codec: Codec<GoingAway>

  export const codec = (): Codec<GoingAway> => {
    if (_codec == null) {
      _codec = message<GoingAway>((obj, w, opts = {}) => {
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

  export interface GoingAwayReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface GoingAwayAddressesFieldEvent {
    field: '$.addresses[]'
    index: number
    value: string
  }

  export interface GoingAwayRetryAfterMsFieldEvent {
    field: '$.retryAfterMs'
    value: number
  }

  export function encode (obj: Partial<GoingAway>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GoingAway.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GoingAway>): GoingAway {
    return decodeMessage(buf, GoingAway.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GoingAway>): Generator<GoingAwayReasonFieldEvent | GoingAwayAddressesFieldEvent | GoingAwayRetryAfterMsFieldEvent> {
    return streamMessage(buf, GoingAway.codec(), opts)
  }
}
