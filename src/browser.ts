/**
 * The browser entry point of the member's crypto core: the wire layer, the
 * crypto layer (SFrame RFC 9605, the link seal) and the session layer (MLS
 * RFC 9420 via ts-mls, admission), with the portable crypto backend
 * (@noble/* and WebCrypto's getRandomValues; MLS on ts-mls's default
 * provider) installed as the default. Nothing reachable from here imports a
 * node:* module or uses Buffer; test/crypto/browser-bundle.test.ts bundles it
 * for platform 'browser' to keep it so. Node processes load src/polyfill.ts
 * (node:crypto backend) instead.
 */
import { portableBackend } from './crypto/backend-noble.js'
import { setDefaultCryptoBackend } from './crypto/default-backend.js'

setDefaultCryptoBackend(portableBackend)

export * from './errors.js'

export * from './crypto/aead.js'
export * from './crypto/backend.js'
export { nobleBackend, portableBackend } from './crypto/backend-noble.js'
export * from './crypto/default-backend.js'
export * from './crypto/ed25519.js'
export * from './crypto/link-seal.js'
export * from './crypto/replay-window.js'
export * from './crypto/sframe/index.js'
export * from './crypto/transit-key.js'

export * from './session/index.js'
export * from './session/identity.js'
export * from './session/mls-crypto.js'
export * as admission from './session/admission/index.js'

export * as admissionMessages from './wire/admission-messages.js'
export * as avMessages from './wire/av-messages.js'
export * as chunk from './wire/chunk.js'
export * as directoryMessages from './wire/directory-messages.js'
export * as errorCodes from './wire/error-codes.js'
export * as framing from './wire/framing.js'
export * as groupMessages from './wire/group-messages.js'
export * as linkHeader from './wire/link-header.js'
export * as limits from './wire/limits.js'
export * as messages from './wire/messages.js'
export * as protocolIds from './wire/protocol-ids.js'
export * as streamTag from './wire/stream-tag.js'
export * as track from './wire/track.js'
