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

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          owner: '',
          stream: ''
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

  export function encode (obj: Partial<RosterOpen>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RosterOpen.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterOpen>): RosterOpen {
    return decodeMessage(buf, RosterOpen.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RosterOpen>): Generator<RosterOpenVersionFieldEvent | RosterOpenOwnerFieldEvent | RosterOpenStreamFieldEvent> {
    return streamMessage(buf, RosterOpen.codec(), opts)
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
