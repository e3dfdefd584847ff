/**
 * The session layer: MLS groups (RFC 9420) per stream and the SFrame keys
 * they yield (RFC 9605 section 5.2). See av-session.ts for the main type.
 */
export * from './av-session.js'
export * from './key-ring.js'
export * from './kid.js'
export * from './limits.js'
export * from './suite.js'
export { credentialFor, identityOfCredential } from './credentials.js'
export { type Member } from './roster.js'
export {
  DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS,
  LAST_RESORT_EXTENSION_TYPE,
  generateKeyPackage,
  generateKeyPackages,
  type GenerateKeyPackageOptions,
  type KeyPackageBundle,
  type KeyPackageInfo,
} from './key-package.js'
export { inspectCommit, inspectKeyPackage, type CommitInfo } from './inspect.js'
