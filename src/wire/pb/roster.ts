import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface RosterError {
  code: string
  message: string
}

export namespace RosterError {
  let _codec: Codec<RosterError>

  export const codec = (): Codec<RosterError> => {
    if (_codec == null) {
      _codec = message<RosterError>((obj, w, opts = {}) => {
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

  export interface RosterErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface RosterErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<RosterError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RosterError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterError>): RosterError {
    return decodeMessage(buf, RosterError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterError>): Generator<RosterErrorCodeFieldEvent | RosterErrorMessageFieldEvent> {
    return streamMessage(buf, RosterError.codec(), opts)
  }
}

export interface RosterOpen {
  version: number
  owner: string
  stream: string
  capacity: number
}

export namespace RosterOpen {
  let _codec: Codec<RosterOpen>

  export const codec = (): Codec<RosterOpen> => {
    if (_codec == null) {
      _codec = message<RosterOpen>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(18)
          w.string(obj.owner)
        }

        if ((obj.stream != null && obj.stream !== '')) {
          w.uint32(26)
          w.string(obj.stream)
        }

        if ((obj.capacity != null && obj.capacity !== 0)) {
          w.uint32(32)
          w.uint32(obj.capacity)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          owner: '',
          stream: '',
          capacity: 0
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
              obj.owner = reader.string()
              break
            }
            case 3: {
              obj.stream = reader.string()
              break
            }
            case 4: {
              obj.capacity = reader.uint32()
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
                field: `${prefix}.owner`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.stream`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.capacity`,
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

  export interface RosterOpenVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface RosterOpenOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface RosterOpenStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface RosterOpenCapacityFieldEvent {
    field: '$.capacity'
    value: number
  }

  export function encode (obj: Partial<RosterOpen>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RosterOpen.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterOpen>): RosterOpen {
    return decodeMessage(buf, RosterOpen.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterOpen>): Generator<RosterOpenVersionFieldEvent | RosterOpenOwnerFieldEvent | RosterOpenStreamFieldEvent | RosterOpenCapacityFieldEvent> {
    return streamMessage(buf, RosterOpen.codec(), opts)
  }
}

export interface TreeHeartbeat {
  framesForwarded: bigint
  bytesForwarded: bigint
  childrenServed: number
}

export namespace TreeHeartbeat {
  let _codec: Codec<TreeHeartbeat>

  export const codec = (): Codec<TreeHeartbeat> => {
    if (_codec == null) {
      _codec = message<TreeHeartbeat>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.framesForwarded != null && obj.framesForwarded !== 0n)) {
          w.uint32(8)
          w.uint64(obj.framesForwarded)
        }

        if ((obj.bytesForwarded != null && obj.bytesForwarded !== 0n)) {
          w.uint32(16)
          w.uint64(obj.bytesForwarded)
        }

        if ((obj.childrenServed != null && obj.childrenServed !== 0)) {
          w.uint32(24)
          w.uint32(obj.childrenServed)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          framesForwarded: 0n,
          bytesForwarded: 0n,
          childrenServed: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.framesForwarded = reader.uint64()
              break
            }
            case 2: {
              obj.bytesForwarded = reader.uint64()
              break
            }
            case 3: {
              obj.childrenServed = reader.uint32()
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
                field: `${prefix}.framesForwarded`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.bytesForwarded`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.childrenServed`,
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

  export interface TreeHeartbeatFramesForwardedFieldEvent {
    field: '$.framesForwarded'
    value: bigint
  }

  export interface TreeHeartbeatBytesForwardedFieldEvent {
    field: '$.bytesForwarded'
    value: bigint
  }

  export interface TreeHeartbeatChildrenServedFieldEvent {
    field: '$.childrenServed'
    value: number
  }

  export function encode (obj: Partial<TreeHeartbeat>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TreeHeartbeat.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TreeHeartbeat>): TreeHeartbeat {
    return decodeMessage(buf, TreeHeartbeat.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TreeHeartbeat>): Generator<TreeHeartbeatFramesForwardedFieldEvent | TreeHeartbeatBytesForwardedFieldEvent | TreeHeartbeatChildrenServedFieldEvent> {
    return streamMessage(buf, TreeHeartbeat.codec(), opts)
  }
}

export interface TreeAssignment {
  parent: string
  standby: string
  depth: number
}

export namespace TreeAssignment {
  let _codec: Codec<TreeAssignment>

  export const codec = (): Codec<TreeAssignment> => {
    if (_codec == null) {
      _codec = message<TreeAssignment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.parent != null && obj.parent !== '')) {
          w.uint32(10)
          w.string(obj.parent)
        }

        if ((obj.standby != null && obj.standby !== '')) {
          w.uint32(18)
          w.string(obj.standby)
        }

        if ((obj.depth != null && obj.depth !== 0)) {
          w.uint32(24)
          w.uint32(obj.depth)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          parent: '',
          standby: '',
          depth: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.parent = reader.string()
              break
            }
            case 2: {
              obj.standby = reader.string()
              break
            }
            case 3: {
              obj.depth = reader.uint32()
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
                field: `${prefix}.parent`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.standby`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.depth`,
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

  export interface TreeAssignmentParentFieldEvent {
    field: '$.parent'
    value: string
  }

  export interface TreeAssignmentStandbyFieldEvent {
    field: '$.standby'
    value: string
  }

  export interface TreeAssignmentDepthFieldEvent {
    field: '$.depth'
    value: number
  }

  export function encode (obj: Partial<TreeAssignment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TreeAssignment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TreeAssignment>): TreeAssignment {
    return decodeMessage(buf, TreeAssignment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TreeAssignment>): Generator<TreeAssignmentParentFieldEvent | TreeAssignmentStandbyFieldEvent | TreeAssignmentDepthFieldEvent> {
    return streamMessage(buf, TreeAssignment.codec(), opts)
  }
}

export interface HomeMessage {
  roster?: RosterUpdate
  assignment?: TreeAssignment
}

export namespace HomeMessage {
  let _codec: Codec<HomeMessage>

  export const codec = (): Codec<HomeMessage> => {
    if (_codec == null) {
      _codec = message<HomeMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.assignment != null) {
          obj.roster = undefined
        }

        if (obj.roster != null) {
          obj.assignment = undefined
        }

        if (obj.roster != null) {
          w.uint32(10)
          RosterUpdate.codec().encode(obj.roster, w)
        }

        if (obj.assignment != null) {
          w.uint32(18)
          TreeAssignment.codec().encode(obj.assignment, w)
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
              obj.roster = RosterUpdate.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.roster
              })
              break
            }
            case 2: {
              obj.assignment = TreeAssignment.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.assignment
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.assignment != null) {
          delete obj.roster
        }

        if (obj.roster != null) {
          delete obj.assignment
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * RosterUpdate.codec().stream(reader, reader.uint32(), `${prefix}.roster`, {
                limits: opts.limits?.roster
              })

              break
            }
            case 2: {
              yield * TreeAssignment.codec().stream(reader, reader.uint32(), `${prefix}.assignment`, {
                limits: opts.limits?.assignment
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

  export interface HomeMessageRosterVersionFieldEvent {
    field: '$.roster.version'
    value: number
  }

  export interface HomeMessageRosterErrorCodeFieldEvent {
    field: '$.roster.error.code'
    value: string
  }

  export interface HomeMessageRosterErrorMessageFieldEvent {
    field: '$.roster.error.message'
    value: string
  }

  export interface HomeMessageRosterEpochFieldEvent {
    field: '$.roster.epoch'
    value: bigint
  }

  export interface HomeMessageRosterMembersIdentityFieldEvent {
    field: '$.roster.members[].identity'
    value: string
    index: number
  }

  export interface HomeMessageRosterMembersLeafFieldEvent {
    field: '$.roster.members[].leaf'
    value: number
    index: number
  }

  export interface HomeMessageAssignmentParentFieldEvent {
    field: '$.assignment.parent'
    value: string
  }

  export interface HomeMessageAssignmentStandbyFieldEvent {
    field: '$.assignment.standby'
    value: string
  }

  export interface HomeMessageAssignmentDepthFieldEvent {
    field: '$.assignment.depth'
    value: number
  }

  export function encode (obj: Partial<HomeMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HomeMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HomeMessage>): HomeMessage {
    return decodeMessage(buf, HomeMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HomeMessage>): Generator<HomeMessageRosterVersionFieldEvent | HomeMessageRosterErrorCodeFieldEvent | HomeMessageRosterErrorMessageFieldEvent | HomeMessageRosterEpochFieldEvent | HomeMessageRosterMembersIdentityFieldEvent | HomeMessageRosterMembersLeafFieldEvent | HomeMessageAssignmentParentFieldEvent | HomeMessageAssignmentStandbyFieldEvent | HomeMessageAssignmentDepthFieldEvent> {
    return streamMessage(buf, HomeMessage.codec(), opts)
  }
}

export interface RosterLeaf {
  identity: string
  leaf: number
}

export namespace RosterLeaf {
  let _codec: Codec<RosterLeaf>

  export const codec = (): Codec<RosterLeaf> => {
    if (_codec == null) {
      _codec = message<RosterLeaf>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.identity != null && obj.identity !== '')) {
          w.uint32(10)
          w.string(obj.identity)
        }

        if ((obj.leaf != null && obj.leaf !== 0)) {
          w.uint32(16)
          w.uint32(obj.leaf)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          identity: '',
          leaf: 0
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
              obj.leaf = reader.uint32()
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
                field: `${prefix}.leaf`,
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

  export interface RosterLeafIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export interface RosterLeafLeafFieldEvent {
    field: '$.leaf'
    value: number
  }

  export function encode (obj: Partial<RosterLeaf>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RosterLeaf.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterLeaf>): RosterLeaf {
    return decodeMessage(buf, RosterLeaf.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterLeaf>): Generator<RosterLeafIdentityFieldEvent | RosterLeafLeafFieldEvent> {
    return streamMessage(buf, RosterLeaf.codec(), opts)
  }
}

export interface RosterUpdate {
  version: number
  error?: RosterError
  epoch: bigint
  members: RosterLeaf[]
}

export namespace RosterUpdate {
  let _codec: Codec<RosterUpdate>

  export const codec = (): Codec<RosterUpdate> => {
    if (_codec == null) {
      _codec = message<RosterUpdate>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.error != null) {
          w.uint32(18)
          RosterError.codec().encode(obj.error, w)
        }

        if ((obj.epoch != null && obj.epoch !== 0n)) {
          w.uint32(24)
          w.uint64(obj.epoch)
        }

        if (obj.members != null && obj.members.length > 0) {
          for (const value of obj.members) {
            w.uint32(34)
            RosterLeaf.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          epoch: 0n,
          members: []
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
              obj.error = RosterError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 3: {
              obj.epoch = reader.uint64()
              break
            }
            case 4: {
              if (opts.limits?.members != null && obj.members.length === opts.limits.members) {
                throw new MaxLengthError('Decode error - repeated field "members" had too many elements')
              }

              obj.members.push(RosterLeaf.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.members$
              }))
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
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield * RosterError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              if (opts.limits?.members != null && obj.members === opts.limits.members) {
                throw new MaxLengthError('Streaming decode error - repeated field "members" had too many elements')
              }

              for (const evt of RosterLeaf.codec().stream(reader, reader.uint32(), `${prefix}.members[]`, {
                limits: opts.limits?.members$
              })) {
                yield {
                  ...evt,
                  index: obj.members
                }
              }

              obj.members++

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

  export interface RosterUpdateVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface RosterUpdateErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface RosterUpdateErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface RosterUpdateEpochFieldEvent {
    field: '$.epoch'
    value: bigint
  }

  export interface RosterUpdateMembersIdentityFieldEvent {
    field: '$.members[].identity'
    value: string
    index: number
  }

  export interface RosterUpdateMembersLeafFieldEvent {
    field: '$.members[].leaf'
    value: number
    index: number
  }

  export function encode (obj: Partial<RosterUpdate>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RosterUpdate.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterUpdate>): RosterUpdate {
    return decodeMessage(buf, RosterUpdate.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterUpdate>): Generator<RosterUpdateVersionFieldEvent | RosterUpdateErrorCodeFieldEvent | RosterUpdateErrorMessageFieldEvent | RosterUpdateEpochFieldEvent | RosterUpdateMembersIdentityFieldEvent | RosterUpdateMembersLeafFieldEvent> {
    return streamMessage(buf, RosterUpdate.codec(), opts)
  }
}
