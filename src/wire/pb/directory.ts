import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface DirError {
  code: string
  message: string
}

export namespace DirError {
  let _codec: Codec<DirError>

  export const codec = (): Codec<DirError> => {
    if (_codec == null) {
      _codec = message<DirError>((obj, w, opts = {}) => {
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

  export interface DirErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface DirErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<DirError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DirError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DirError>): DirError {
    return decodeMessage(buf, DirError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DirError>): Generator<DirErrorCodeFieldEvent | DirErrorMessageFieldEvent> {
    return streamMessage(buf, DirError.codec(), opts)
  }
}

export interface DirectoryRequest {
  version: number
  publish?: PublishKeyPackages
  fetch?: FetchKeyPackage
  count?: CountKeyPackages
  locate?: LocateStream
}

export namespace DirectoryRequest {
  let _codec: Codec<DirectoryRequest>

  export const codec = (): Codec<DirectoryRequest> => {
    if (_codec == null) {
      _codec = message<DirectoryRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.locate != null) {
          obj.count = undefined
          obj.fetch = undefined
          obj.publish = undefined
        }

        if (obj.count != null) {
          obj.locate = undefined
          obj.fetch = undefined
          obj.publish = undefined
        }

        if (obj.fetch != null) {
          obj.locate = undefined
          obj.count = undefined
          obj.publish = undefined
        }

        if (obj.publish != null) {
          obj.locate = undefined
          obj.count = undefined
          obj.fetch = undefined
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.publish != null) {
          w.uint32(18)
          PublishKeyPackages.codec().encode(obj.publish, w)
        }

        if (obj.fetch != null) {
          w.uint32(26)
          FetchKeyPackage.codec().encode(obj.fetch, w)
        }

        if (obj.count != null) {
          w.uint32(34)
          CountKeyPackages.codec().encode(obj.count, w)
        }

        if (obj.locate != null) {
          w.uint32(42)
          LocateStream.codec().encode(obj.locate, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0
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
              obj.publish = PublishKeyPackages.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.publish
              })
              break
            }
            case 3: {
              obj.fetch = FetchKeyPackage.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.fetch
              })
              break
            }
            case 4: {
              obj.count = CountKeyPackages.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.count
              })
              break
            }
            case 5: {
              obj.locate = LocateStream.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.locate
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.locate != null) {
          delete obj.count
          delete obj.fetch
          delete obj.publish
        }

        if (obj.count != null) {
          delete obj.locate
          delete obj.fetch
          delete obj.publish
        }

        if (obj.fetch != null) {
          delete obj.locate
          delete obj.count
          delete obj.publish
        }

        if (obj.publish != null) {
          delete obj.locate
          delete obj.count
          delete obj.fetch
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
              yield * PublishKeyPackages.codec().stream(reader, reader.uint32(), `${prefix}.publish`, {
                limits: opts.limits?.publish
              })

              break
            }
            case 3: {
              yield * FetchKeyPackage.codec().stream(reader, reader.uint32(), `${prefix}.fetch`, {
                limits: opts.limits?.fetch
              })

              break
            }
            case 4: {
              yield * CountKeyPackages.codec().stream(reader, reader.uint32(), `${prefix}.count`, {
                limits: opts.limits?.count
              })

              break
            }
            case 5: {
              yield * LocateStream.codec().stream(reader, reader.uint32(), `${prefix}.locate`, {
                limits: opts.limits?.locate
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

  export interface DirectoryRequestVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface DirectoryRequestPublishKeyPackagesFieldEvent {
    field: '$.publish.keyPackages[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface DirectoryRequestPublishLastResortFieldEvent {
    field: '$.publish.lastResort'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DirectoryRequestPublishReplaceFieldEvent {
    field: '$.publish.replace'
    value: boolean
  }

  export interface DirectoryRequestFetchIdentityFieldEvent {
    field: '$.fetch.identity'
    value: string
  }

  export interface DirectoryRequestCountIdentityFieldEvent {
    field: '$.count.identity'
    value: string
  }

  export interface DirectoryRequestLocateOwnerFieldEvent {
    field: '$.locate.owner'
    value: string
  }

  export interface DirectoryRequestLocateStreamFieldEvent {
    field: '$.locate.stream'
    value: string
  }

  export function encode (obj: Partial<DirectoryRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DirectoryRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DirectoryRequest>): DirectoryRequest {
    return decodeMessage(buf, DirectoryRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DirectoryRequest>): Generator<DirectoryRequestVersionFieldEvent | DirectoryRequestPublishKeyPackagesFieldEvent | DirectoryRequestPublishLastResortFieldEvent | DirectoryRequestPublishReplaceFieldEvent | DirectoryRequestFetchIdentityFieldEvent | DirectoryRequestCountIdentityFieldEvent | DirectoryRequestLocateOwnerFieldEvent | DirectoryRequestLocateStreamFieldEvent> {
    return streamMessage(buf, DirectoryRequest.codec(), opts)
  }
}

export interface PublishKeyPackages {
  keyPackages: Uint8Array<ArrayBuffer>[]
  lastResort: Uint8Array<ArrayBuffer>
  replace: boolean
}

export namespace PublishKeyPackages {
  let _codec: Codec<PublishKeyPackages>

  export const codec = (): Codec<PublishKeyPackages> => {
    if (_codec == null) {
      _codec = message<PublishKeyPackages>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.keyPackages != null && obj.keyPackages.length > 0) {
          for (const value of obj.keyPackages) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if ((obj.lastResort != null && obj.lastResort.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.lastResort)
        }

        if ((obj.replace != null && obj.replace !== false)) {
          w.uint32(24)
          w.bool(obj.replace)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          keyPackages: [],
          lastResort: uint8ArrayAlloc(0),
          replace: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.keyPackages != null && obj.keyPackages.length === opts.limits.keyPackages) {
                throw new MaxLengthError('Decode error - repeated field "keyPackages" had too many elements')
              }

              obj.keyPackages.push(reader.bytes())
              break
            }
            case 2: {
              obj.lastResort = reader.bytes()
              break
            }
            case 3: {
              obj.replace = reader.bool()
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
          keyPackages: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.keyPackages != null && obj.keyPackages === opts.limits.keyPackages) {
                throw new MaxLengthError('Streaming decode error - repeated field "keyPackages" had too many elements')
              }

              yield {
                field: `${prefix}.keyPackages[]`,
                index: obj.keyPackages,
                value: reader.bytes()
              }

              obj.keyPackages++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.lastResort`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.replace`,
                value: reader.bool()
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

  export interface PublishKeyPackagesKeyPackagesFieldEvent {
    field: '$.keyPackages[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PublishKeyPackagesLastResortFieldEvent {
    field: '$.lastResort'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PublishKeyPackagesReplaceFieldEvent {
    field: '$.replace'
    value: boolean
  }

  export function encode (obj: Partial<PublishKeyPackages>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PublishKeyPackages.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PublishKeyPackages>): PublishKeyPackages {
    return decodeMessage(buf, PublishKeyPackages.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PublishKeyPackages>): Generator<PublishKeyPackagesKeyPackagesFieldEvent | PublishKeyPackagesLastResortFieldEvent | PublishKeyPackagesReplaceFieldEvent> {
    return streamMessage(buf, PublishKeyPackages.codec(), opts)
  }
}

export interface FetchKeyPackage {
  identity: string
}

export namespace FetchKeyPackage {
  let _codec: Codec<FetchKeyPackage>

  export const codec = (): Codec<FetchKeyPackage> => {
    if (_codec == null) {
      _codec = message<FetchKeyPackage>((obj, w, opts = {}) => {
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

  export interface FetchKeyPackageIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export function encode (obj: Partial<FetchKeyPackage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchKeyPackage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchKeyPackage>): FetchKeyPackage {
    return decodeMessage(buf, FetchKeyPackage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchKeyPackage>): Generator<FetchKeyPackageIdentityFieldEvent> {
    return streamMessage(buf, FetchKeyPackage.codec(), opts)
  }
}

export interface CountKeyPackages {
  identity: string
}

export namespace CountKeyPackages {
  let _codec: Codec<CountKeyPackages>

  export const codec = (): Codec<CountKeyPackages> => {
    if (_codec == null) {
      _codec = message<CountKeyPackages>((obj, w, opts = {}) => {
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

  export interface CountKeyPackagesIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export function encode (obj: Partial<CountKeyPackages>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CountKeyPackages.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CountKeyPackages>): CountKeyPackages {
    return decodeMessage(buf, CountKeyPackages.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CountKeyPackages>): Generator<CountKeyPackagesIdentityFieldEvent> {
    return streamMessage(buf, CountKeyPackages.codec(), opts)
  }
}

export interface LocateStream {
  owner: string
  stream: string
}

export namespace LocateStream {
  let _codec: Codec<LocateStream>

  export const codec = (): Codec<LocateStream> => {
    if (_codec == null) {
      _codec = message<LocateStream>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(10)
          w.string(obj.owner)
        }

        if ((obj.stream != null && obj.stream !== '')) {
          w.uint32(18)
          w.string(obj.stream)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          owner: '',
          stream: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.owner = reader.string()
              break
            }
            case 2: {
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
                field: `${prefix}.owner`,
                value: reader.string()
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

  export interface LocateStreamOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface LocateStreamStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export function encode (obj: Partial<LocateStream>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LocateStream.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LocateStream>): LocateStream {
    return decodeMessage(buf, LocateStream.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LocateStream>): Generator<LocateStreamOwnerFieldEvent | LocateStreamStreamFieldEvent> {
    return streamMessage(buf, LocateStream.codec(), opts)
  }
}

export interface DirectoryResponse {
  version: number
  error?: DirError
  accepted: number
  keyPackage: Uint8Array<ArrayBuffer>
  lastResort: boolean
  count: number
  hasLastResort: boolean
  home: string
}

export namespace DirectoryResponse {
  let _codec: Codec<DirectoryResponse>

  export const codec = (): Codec<DirectoryResponse> => {
    if (_codec == null) {
      _codec = message<DirectoryResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.error != null) {
          w.uint32(18)
          DirError.codec().encode(obj.error, w)
        }

        if ((obj.accepted != null && obj.accepted !== 0)) {
          w.uint32(24)
          w.uint32(obj.accepted)
        }

        if ((obj.keyPackage != null && obj.keyPackage.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.keyPackage)
        }

        if ((obj.lastResort != null && obj.lastResort !== false)) {
          w.uint32(40)
          w.bool(obj.lastResort)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(48)
          w.uint32(obj.count)
        }

        if ((obj.hasLastResort != null && obj.hasLastResort !== false)) {
          w.uint32(56)
          w.bool(obj.hasLastResort)
        }

        if ((obj.home != null && obj.home !== '')) {
          w.uint32(66)
          w.string(obj.home)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          accepted: 0,
          keyPackage: uint8ArrayAlloc(0),
          lastResort: false,
          count: 0,
          hasLastResort: false,
          home: ''
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
              obj.error = DirError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 3: {
              obj.accepted = reader.uint32()
              break
            }
            case 4: {
              obj.keyPackage = reader.bytes()
              break
            }
            case 5: {
              obj.lastResort = reader.bool()
              break
            }
            case 6: {
              obj.count = reader.uint32()
              break
            }
            case 7: {
              obj.hasLastResort = reader.bool()
              break
            }
            case 8: {
              obj.home = reader.string()
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
              yield * DirError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.accepted`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.keyPackage`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.lastResort`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.hasLastResort`,
                value: reader.bool()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.home`,
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

  export interface DirectoryResponseVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface DirectoryResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface DirectoryResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface DirectoryResponseAcceptedFieldEvent {
    field: '$.accepted'
    value: number
  }

  export interface DirectoryResponseKeyPackageFieldEvent {
    field: '$.keyPackage'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DirectoryResponseLastResortFieldEvent {
    field: '$.lastResort'
    value: boolean
  }

  export interface DirectoryResponseCountFieldEvent {
    field: '$.count'
    value: number
  }

  export interface DirectoryResponseHasLastResortFieldEvent {
    field: '$.hasLastResort'
    value: boolean
  }

  export interface DirectoryResponseHomeFieldEvent {
    field: '$.home'
    value: string
  }

  export function encode (obj: Partial<DirectoryResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DirectoryResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DirectoryResponse>): DirectoryResponse {
    return decodeMessage(buf, DirectoryResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DirectoryResponse>): Generator<DirectoryResponseVersionFieldEvent | DirectoryResponseErrorCodeFieldEvent | DirectoryResponseErrorMessageFieldEvent | DirectoryResponseAcceptedFieldEvent | DirectoryResponseKeyPackageFieldEvent | DirectoryResponseLastResortFieldEvent | DirectoryResponseCountFieldEvent | DirectoryResponseHasLastResortFieldEvent | DirectoryResponseHomeFieldEvent> {
    return streamMessage(buf, DirectoryResponse.codec(), opts)
  }
}
