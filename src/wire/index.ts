/**
 * The package's wire entry point (`import { parseChunk } from
 * 'fabric-relay/wire'`): the byte layouts another implementation or a tool
 * reads, normative in protocol/ (chunk.md, framing.md, link-seal.md,
 * limits.md, errors.md). Pure functions over bytes; no keys, no sockets.
 */
export * from './chunk.js'
export * from './limits.js'
export * from './stream-tag.js'
export * from './error-codes.js'
export { decodeLinkHeader, LINK_HEADER_LENGTH, LINK_HEADER_VERSION, LINK_TAG_LENGTH, LinkKind } from './link-header.js'
