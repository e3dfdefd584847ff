/**
 * The GroupContext extensions (RFC 9420 section 12.1.7, private-use types of
 * section 17.3) that carry a stream's admission state, so every member holds
 * the same policy and it outlives any committer (protocol/admission.md).
 */
import type { Extension } from 'ts-mls'
import { MalformedError } from '../../errors.js'

/** fabric_admission_policy: a SignedPolicy (protocol/admission.proto). */
export const POLICY_EXTENSION_TYPE = 0xf0a0

/** fabric_admission_ledger: an AdmissionLedger. */
export const LEDGER_EXTENSION_TYPE = 0xf0a1

/** Both, as every fabric leaf lists them in its capabilities (RFC 9420 section 7.2). */
export const FABRIC_EXTENSION_TYPES: readonly number[] = [POLICY_EXTENSION_TYPE, LEDGER_EXTENSION_TYPE]

/** The extension list of a group with this policy and ledger, in type order. */
export function admissionExtensions (signedPolicy: Uint8Array, ledger: Uint8Array): Extension[] {
  return [
    { extensionType: POLICY_EXTENSION_TYPE, extensionData: signedPolicy },
    { extensionType: LEDGER_EXTENSION_TYPE, extensionData: ledger },
  ]
}

/** The two admission extension values of a GroupContext. */
export interface AdmissionExtensions {
  signedPolicy: Uint8Array
  ledger: Uint8Array
}

/**
 * Reads the admission extensions of a GroupContext extension list. A fabric
 * group holds exactly these two and nothing else, so anything more is refused
 * rather than ignored: an extension fabric does not check is one a committer
 * could use to change the group unnoticed.
 *
 * @throws MalformedError when either is missing, repeated, or another extension is present
 */
export function readAdmissionExtensions (extensions: readonly Extension[]): AdmissionExtensions {
  let signedPolicy: Uint8Array | undefined
  let ledger: Uint8Array | undefined
  for (const e of extensions) {
    if (e.extensionType === POLICY_EXTENSION_TYPE && signedPolicy === undefined) signedPolicy = e.extensionData
    else if (e.extensionType === LEDGER_EXTENSION_TYPE && ledger === undefined) ledger = e.extensionData
    else throw new MalformedError(`the group carries an extension fabric does not accept: ${String(e.extensionType)}`)
  }
  if (signedPolicy === undefined) throw new MalformedError('the group has no admission policy')
  if (ledger === undefined) throw new MalformedError('the group has no admission ledger')
  return { signedPolicy, ledger }
}
