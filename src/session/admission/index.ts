/**
 * Admission to a stream's group (protocol/admission.md): the owner's signed
 * policy, invitations and their redemptions, the ledger, the checks every
 * member makes, and safety codes.
 */
export * from './check.js'
export * from './extensions.js'
export * from './invitation.js'
export * from './ledger.js'
export * from './policy.js'
export * from './safety-code.js'
