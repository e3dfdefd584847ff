import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface AdmissionPolicy {
  version: number
  owner: string
  stream: string
  groupId: Uint8Array<ArrayBuffer>
  serial: bigint
  open: boolean
  knock: boolean
  allow: string[]
  inviters: string[]
}

export namespace AdmissionPolicy {
  let _codec: Codec<AdmissionPolicy>

  export const codec = (): Codec<AdmissionPolicy> => {
    if (_codec == null) {
      _codec = message<AdmissionPolicy>((obj, w, opts = {}) => {
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

        if ((obj.groupId != null && obj.groupId.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.groupId)
        }

        if ((obj.serial != null && obj.serial !== 0n)) {
          w.uint32(40)
          w.uint64(obj.serial)
        }

        if ((obj.open != null && obj.open !== false)) {
          w.uint32(48)
          w.bool(obj.open)
        }

        if ((obj.knock != null && obj.knock !== false)) {
          w.uint32(56)
          w.bool(obj.knock)
        }

        if (obj.allow != null && obj.allow.length > 0) {
          for (const value of obj.allow) {
            w.uint32(66)
            w.string(value)
          }
        }

        if (obj.inviters != null && obj.inviters.length > 0) {
          for (const value of obj.inviters) {
            w.uint32(74)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          owner: '',
          stream: '',
          groupId: uint8ArrayAlloc(0),
          serial: 0n,
          open: false,
          knock: false,
          allow: [],
          inviters: []
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
              obj.groupId = reader.bytes()
              break
            }
            case 5: {
              obj.serial = reader.uint64()
              break
            }
            case 6: {
              obj.open = reader.bool()
              break
            }
            case 7: {
              obj.knock = reader.bool()
              break
            }
            case 8: {
              if (opts.limits?.allow != null && obj.allow.length === opts.limits.allow) {
                throw new MaxLengthError('Decode error - repeated field "allow" had too many elements')
              }

              obj.allow.push(reader.string())
              break
            }
            case 9: {
              if (opts.limits?.inviters != null && obj.inviters.length === opts.limits.inviters) {
                throw new MaxLengthError('Decode error - repeated field "inviters" had too many elements')
              }

              obj.inviters.push(reader.string())
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
          allow: 0,
          inviters: 0
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
                field: `${prefix}.groupId`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.serial`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.open`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.knock`,
                value: reader.bool()
              }
              break
            }
            case 8: {
              if (opts.limits?.allow != null && obj.allow === opts.limits.allow) {
                throw new MaxLengthError('Streaming decode error - repeated field "allow" had too many elements')
              }

              yield {
                field: `${prefix}.allow[]`,
                index: obj.allow,
                value: reader.string()
              }

              obj.allow++

              break
            }
            case 9: {
              if (opts.limits?.inviters != null && obj.inviters === opts.limits.inviters) {
                throw new MaxLengthError('Streaming decode error - repeated field "inviters" had too many elements')
              }

              yield {
                field: `${prefix}.inviters[]`,
                index: obj.inviters,
                value: reader.string()
              }

              obj.inviters++

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

  export interface AdmissionPolicyVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface AdmissionPolicyOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface AdmissionPolicyStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface AdmissionPolicyGroupIdFieldEvent {
    field: '$.groupId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AdmissionPolicySerialFieldEvent {
    field: '$.serial'
    value: bigint
  }

  export interface AdmissionPolicyOpenFieldEvent {
    field: '$.open'
    value: boolean
  }

  export interface AdmissionPolicyKnockFieldEvent {
    field: '$.knock'
    value: boolean
  }

  export interface AdmissionPolicyAllowFieldEvent {
    field: '$.allow[]'
    index: number
    value: string
  }

  export interface AdmissionPolicyInvitersFieldEvent {
    field: '$.inviters[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<AdmissionPolicy>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AdmissionPolicy.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AdmissionPolicy>): AdmissionPolicy {
    return decodeMessage(buf, AdmissionPolicy.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AdmissionPolicy>): Generator<AdmissionPolicyVersionFieldEvent | AdmissionPolicyOwnerFieldEvent | AdmissionPolicyStreamFieldEvent | AdmissionPolicyGroupIdFieldEvent | AdmissionPolicySerialFieldEvent | AdmissionPolicyOpenFieldEvent | AdmissionPolicyKnockFieldEvent | AdmissionPolicyAllowFieldEvent | AdmissionPolicyInvitersFieldEvent> {
    return streamMessage(buf, AdmissionPolicy.codec(), opts)
  }
}

export interface SignedPolicy {
  policy: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedPolicy {
  let _codec: Codec<SignedPolicy>

  export const codec = (): Codec<SignedPolicy> => {
    if (_codec == null) {
      _codec = message<SignedPolicy>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.policy != null && obj.policy.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.policy)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          policy: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.policy = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.policy`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignedPolicyPolicyFieldEvent {
    field: '$.policy'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedPolicySignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedPolicy>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedPolicy.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedPolicy>): SignedPolicy {
    return decodeMessage(buf, SignedPolicy.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedPolicy>): Generator<SignedPolicyPolicyFieldEvent | SignedPolicySignatureFieldEvent> {
    return streamMessage(buf, SignedPolicy.codec(), opts)
  }
}

export interface Invitation {
  version: number
  owner: string
  stream: string
  groupId: Uint8Array<ArrayBuffer>
  issuer: string
  invitee: string
  key: Uint8Array<ArrayBuffer>
  expiresAt: bigint
  maxUses: number
  id: Uint8Array<ArrayBuffer>
}

export namespace Invitation {
  let _codec: Codec<Invitation>

  export const codec = (): Codec<Invitation> => {
    if (_codec == null) {
      _codec = message<Invitation>((obj, w, opts = {}) => {
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

        if ((obj.groupId != null && obj.groupId.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.groupId)
        }

        if ((obj.issuer != null && obj.issuer !== '')) {
          w.uint32(42)
          w.string(obj.issuer)
        }

        if ((obj.invitee != null && obj.invitee !== '')) {
          w.uint32(50)
          w.string(obj.invitee)
        }

        if ((obj.key != null && obj.key.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.key)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0n)) {
          w.uint32(64)
          w.uint64(obj.expiresAt)
        }

        if ((obj.maxUses != null && obj.maxUses !== 0)) {
          w.uint32(72)
          w.uint32(obj.maxUses)
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(82)
          w.bytes(obj.id)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          owner: '',
          stream: '',
          groupId: uint8ArrayAlloc(0),
          issuer: '',
          invitee: '',
          key: uint8ArrayAlloc(0),
          expiresAt: 0n,
          maxUses: 0,
          id: uint8ArrayAlloc(0)
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
              obj.groupId = reader.bytes()
              break
            }
            case 5: {
              obj.issuer = reader.string()
              break
            }
            case 6: {
              obj.invitee = reader.string()
              break
            }
            case 7: {
              obj.key = reader.bytes()
              break
            }
            case 8: {
              obj.expiresAt = reader.uint64()
              break
            }
            case 9: {
              obj.maxUses = reader.uint32()
              break
            }
            case 10: {
              obj.id = reader.bytes()
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
                field: `${prefix}.groupId`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.issuer`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.invitee`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.uint64()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.maxUses`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.id`,
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

  export interface InvitationVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface InvitationOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface InvitationStreamFieldEvent {
    field: '$.stream'
    value: string
  }

  export interface InvitationGroupIdFieldEvent {
    field: '$.groupId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InvitationIssuerFieldEvent {
    field: '$.issuer'
    value: string
  }

  export interface InvitationInviteeFieldEvent {
    field: '$.invitee'
    value: string
  }

  export interface InvitationKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InvitationExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: bigint
  }

  export interface InvitationMaxUsesFieldEvent {
    field: '$.maxUses'
    value: number
  }

  export interface InvitationIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Invitation>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Invitation.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Invitation>): Invitation {
    return decodeMessage(buf, Invitation.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Invitation>): Generator<InvitationVersionFieldEvent | InvitationOwnerFieldEvent | InvitationStreamFieldEvent | InvitationGroupIdFieldEvent | InvitationIssuerFieldEvent | InvitationInviteeFieldEvent | InvitationKeyFieldEvent | InvitationExpiresAtFieldEvent | InvitationMaxUsesFieldEvent | InvitationIdFieldEvent> {
    return streamMessage(buf, Invitation.codec(), opts)
  }
}

export interface SignedInvitation {
  invitation: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedInvitation {
  let _codec: Codec<SignedInvitation>

  export const codec = (): Codec<SignedInvitation> => {
    if (_codec == null) {
      _codec = message<SignedInvitation>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.invitation != null && obj.invitation.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.invitation)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          invitation: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.invitation = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.invitation`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignedInvitationInvitationFieldEvent {
    field: '$.invitation'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedInvitationSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedInvitation>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedInvitation.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedInvitation>): SignedInvitation {
    return decodeMessage(buf, SignedInvitation.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedInvitation>): Generator<SignedInvitationInvitationFieldEvent | SignedInvitationSignatureFieldEvent> {
    return streamMessage(buf, SignedInvitation.codec(), opts)
  }
}

export interface Redemption {
  invitation?: SignedInvitation
  joiner: string
  signature: Uint8Array<ArrayBuffer>
}

export namespace Redemption {
  let _codec: Codec<Redemption>

  export const codec = (): Codec<Redemption> => {
    if (_codec == null) {
      _codec = message<Redemption>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.invitation != null) {
          w.uint32(10)
          SignedInvitation.codec().encode(obj.invitation, w)
        }

        if ((obj.joiner != null && obj.joiner !== '')) {
          w.uint32(18)
          w.string(obj.joiner)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          joiner: '',
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.invitation = SignedInvitation.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.invitation
              })
              break
            }
            case 2: {
              obj.joiner = reader.string()
              break
            }
            case 3: {
              obj.signature = reader.bytes()
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
              yield * SignedInvitation.codec().stream(reader, reader.uint32(), `${prefix}.invitation`, {
                limits: opts.limits?.invitation
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.joiner`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.signature`,
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

  export interface RedemptionInvitationInvitationFieldEvent {
    field: '$.invitation.invitation'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RedemptionInvitationSignatureFieldEvent {
    field: '$.invitation.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RedemptionJoinerFieldEvent {
    field: '$.joiner'
    value: string
  }

  export interface RedemptionSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Redemption>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Redemption.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Redemption>): Redemption {
    return decodeMessage(buf, Redemption.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Redemption>): Generator<RedemptionInvitationInvitationFieldEvent | RedemptionInvitationSignatureFieldEvent | RedemptionJoinerFieldEvent | RedemptionSignatureFieldEvent> {
    return streamMessage(buf, Redemption.codec(), opts)
  }
}

export interface InvitationToken {
  invitation?: SignedInvitation
  seed: Uint8Array<ArrayBuffer>
}

export namespace InvitationToken {
  let _codec: Codec<InvitationToken>

  export const codec = (): Codec<InvitationToken> => {
    if (_codec == null) {
      _codec = message<InvitationToken>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.invitation != null) {
          w.uint32(10)
          SignedInvitation.codec().encode(obj.invitation, w)
        }

        if ((obj.seed != null && obj.seed.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.seed)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          seed: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.invitation = SignedInvitation.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.invitation
              })
              break
            }
            case 2: {
              obj.seed = reader.bytes()
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
              yield * SignedInvitation.codec().stream(reader, reader.uint32(), `${prefix}.invitation`, {
                limits: opts.limits?.invitation
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.seed`,
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

  export interface InvitationTokenInvitationInvitationFieldEvent {
    field: '$.invitation.invitation'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InvitationTokenInvitationSignatureFieldEvent {
    field: '$.invitation.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InvitationTokenSeedFieldEvent {
    field: '$.seed'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<InvitationToken>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, InvitationToken.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InvitationToken>): InvitationToken {
    return decodeMessage(buf, InvitationToken.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InvitationToken>): Generator<InvitationTokenInvitationInvitationFieldEvent | InvitationTokenInvitationSignatureFieldEvent | InvitationTokenSeedFieldEvent> {
    return streamMessage(buf, InvitationToken.codec(), opts)
  }
}

export interface AdmissionLedger {
  version: number
  admitted: Admission[]
  spent: Spent[]
}

export namespace AdmissionLedger {
  let _codec: Codec<AdmissionLedger>

  export const codec = (): Codec<AdmissionLedger> => {
    if (_codec == null) {
      _codec = message<AdmissionLedger>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.admitted != null && obj.admitted.length > 0) {
          for (const value of obj.admitted) {
            w.uint32(18)
            Admission.codec().encode(value, w)
          }
        }

        if (obj.spent != null && obj.spent.length > 0) {
          for (const value of obj.spent) {
            w.uint32(26)
            Spent.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          admitted: [],
          spent: []
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
              if (opts.limits?.admitted != null && obj.admitted.length === opts.limits.admitted) {
                throw new MaxLengthError('Decode error - repeated field "admitted" had too many elements')
              }

              obj.admitted.push(Admission.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.admitted$
              }))
              break
            }
            case 3: {
              if (opts.limits?.spent != null && obj.spent.length === opts.limits.spent) {
                throw new MaxLengthError('Decode error - repeated field "spent" had too many elements')
              }

              obj.spent.push(Spent.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.spent$
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
          admitted: 0,
          spent: 0
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
              if (opts.limits?.admitted != null && obj.admitted === opts.limits.admitted) {
                throw new MaxLengthError('Streaming decode error - repeated field "admitted" had too many elements')
              }

              for (const evt of Admission.codec().stream(reader, reader.uint32(), `${prefix}.admitted[]`, {
                limits: opts.limits?.admitted$
              })) {
                yield {
                  ...evt,
                  index: obj.admitted
                }
              }

              obj.admitted++

              break
            }
            case 3: {
              if (opts.limits?.spent != null && obj.spent === opts.limits.spent) {
                throw new MaxLengthError('Streaming decode error - repeated field "spent" had too many elements')
              }

              for (const evt of Spent.codec().stream(reader, reader.uint32(), `${prefix}.spent[]`, {
                limits: opts.limits?.spent$
              })) {
                yield {
                  ...evt,
                  index: obj.spent
                }
              }

              obj.spent++

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

  export interface AdmissionLedgerVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface AdmissionLedgerAdmittedIdentityFieldEvent {
    field: '$.admitted[].identity'
    value: string
    index: number
  }

  export interface AdmissionLedgerAdmittedEvidenceInvitationInvitationFieldEvent {
    field: '$.admitted[].evidence.invitation.invitation'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface AdmissionLedgerAdmittedEvidenceInvitationSignatureFieldEvent {
    field: '$.admitted[].evidence.invitation.signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface AdmissionLedgerAdmittedEvidenceJoinerFieldEvent {
    field: '$.admitted[].evidence.joiner'
    value: string
    index: number
  }

  export interface AdmissionLedgerAdmittedEvidenceSignatureFieldEvent {
    field: '$.admitted[].evidence.signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface AdmissionLedgerSpentInvitationIdFieldEvent {
    field: '$.spent[].invitationId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface AdmissionLedgerSpentUsesFieldEvent {
    field: '$.spent[].uses'
    value: number
    index: number
  }

  export function encode (obj: Partial<AdmissionLedger>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AdmissionLedger.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AdmissionLedger>): AdmissionLedger {
    return decodeMessage(buf, AdmissionLedger.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AdmissionLedger>): Generator<AdmissionLedgerVersionFieldEvent | AdmissionLedgerAdmittedIdentityFieldEvent | AdmissionLedgerAdmittedEvidenceInvitationInvitationFieldEvent | AdmissionLedgerAdmittedEvidenceInvitationSignatureFieldEvent | AdmissionLedgerAdmittedEvidenceJoinerFieldEvent | AdmissionLedgerAdmittedEvidenceSignatureFieldEvent | AdmissionLedgerSpentInvitationIdFieldEvent | AdmissionLedgerSpentUsesFieldEvent> {
    return streamMessage(buf, AdmissionLedger.codec(), opts)
  }
}

export interface Admission {
  identity: string
  evidence?: Redemption
}

export namespace Admission {
  let _codec: Codec<Admission>

  export const codec = (): Codec<Admission> => {
    if (_codec == null) {
      _codec = message<Admission>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.identity != null && obj.identity !== '')) {
          w.uint32(10)
          w.string(obj.identity)
        }

        if (obj.evidence != null) {
          w.uint32(18)
          Redemption.codec().encode(obj.evidence, w)
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
            case 2: {
              obj.evidence = Redemption.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.evidence
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
              yield {
                field: `${prefix}.identity`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield * Redemption.codec().stream(reader, reader.uint32(), `${prefix}.evidence`, {
                limits: opts.limits?.evidence
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

  export interface AdmissionIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export interface AdmissionEvidenceInvitationInvitationFieldEvent {
    field: '$.evidence.invitation.invitation'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AdmissionEvidenceInvitationSignatureFieldEvent {
    field: '$.evidence.invitation.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AdmissionEvidenceJoinerFieldEvent {
    field: '$.evidence.joiner'
    value: string
  }

  export interface AdmissionEvidenceSignatureFieldEvent {
    field: '$.evidence.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Admission>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Admission.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Admission>): Admission {
    return decodeMessage(buf, Admission.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Admission>): Generator<AdmissionIdentityFieldEvent | AdmissionEvidenceInvitationInvitationFieldEvent | AdmissionEvidenceInvitationSignatureFieldEvent | AdmissionEvidenceJoinerFieldEvent | AdmissionEvidenceSignatureFieldEvent> {
    return streamMessage(buf, Admission.codec(), opts)
  }
}

export interface Spent {
  invitationId: Uint8Array<ArrayBuffer>
  uses: number
}

export namespace Spent {
  let _codec: Codec<Spent>

  export const codec = (): Codec<Spent> => {
    if (_codec == null) {
      _codec = message<Spent>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.invitationId != null && obj.invitationId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.invitationId)
        }

        if ((obj.uses != null && obj.uses !== 0)) {
          w.uint32(16)
          w.uint32(obj.uses)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          invitationId: uint8ArrayAlloc(0),
          uses: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.invitationId = reader.bytes()
              break
            }
            case 2: {
              obj.uses = reader.uint32()
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
                field: `${prefix}.invitationId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.uses`,
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

  export interface SpentInvitationIdFieldEvent {
    field: '$.invitationId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SpentUsesFieldEvent {
    field: '$.uses'
    value: number
  }

  export function encode (obj: Partial<Spent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Spent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Spent>): Spent {
    return decodeMessage(buf, Spent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Spent>): Generator<SpentInvitationIdFieldEvent | SpentUsesFieldEvent> {
    return streamMessage(buf, Spent.codec(), opts)
  }
}
