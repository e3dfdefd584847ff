/**
 * The control messages of every fabric protocol (protocol/control.md), as
 * bounded encode/decode pairs over the protons-generated types. Each
 * `decodeX(bytes)` takes one whole frame (framing.ts), checks its size
 * before parsing, caps repeated fields, turns any parser failure into a
 * MalformedError and checks version, oneof body and field bounds; each
 * `encodeX(msg)` applies the same checks, so what it emits `decodeX` accepts.
 */
export * from './directory-messages.js'
export * from './group-messages.js'
export * from './av-messages.js'
export * from './roster-messages.js'
export { PROTOCOL_VERSION, type Loose, type Unversioned, type WireError } from './message-codec.js'
export { DIRECTORY_PROTOCOL, GROUP_PROTOCOL, AV_PUBLISH_PROTOCOL, AV_SUBSCRIBE_PROTOCOL } from './protocol-ids.js'
export { ERROR_CODES, isErrorCode, toErrorCode } from './error-codes.js'
