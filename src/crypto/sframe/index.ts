/** SFrame (RFC 9605): header codec, cipher suites, key derivation, protect/unprotect, sender and receiver. */
export * from './header.js'
export * from './suites.js'
export * from './keys.js'
export * from './protect.js'
export * from './sender.js'
export * from './receiver.js'
