/**
 * Hash functions the crypto layer names: SHA-256 and SHA-512, the two that
 * RFC 9605 cipher suites (section 4.5) and the link seal use.
 */

/** A hash by its node:crypto name. */
export type HashName = 'sha256' | 'sha512'

/** Output length in bytes of each hash (Nh in RFC 9605 section 4.5). */
export const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha512: 64 }
