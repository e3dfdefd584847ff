/**
 * The admission ledger (protocol/admission.md "Ledger"): the GroupContext
 * record of who is in the group on evidence (a Redemption) rather than by
 * name, and how often each invitation has been used. It changes only in a
 * Commit that admits someone on evidence (or prunes), and every member
 * computes the ledger that Commit must produce and refuses any other, so the
 * use counts cannot be reset and no entry can be invented.
 */
import { MalformedError } from '../../errors.js'
import {
  decodeAdmissionLedger, encodeAdmissionLedger, type Admission, type AdmissionLedger, type Spent,
} from '../../wire/admission-messages.js'
import { equalBytes } from '../bytes.js'
import { toHex } from '../../wire/text.js'

/** A decoded ledger with its lookups. */
export interface LedgerState {
  /** The AdmissionLedger encoding: the fabric_admission_ledger extension value. */
  readonly bytes: Uint8Array
  readonly ledger: AdmissionLedger
  /** Admission entries by identity. */
  readonly admitted: ReadonlyMap<string, Admission>
  /** Uses by invitation id (hex). */
  readonly uses: ReadonlyMap<string, number>
}

/** The ledger of a new group: nobody admitted on evidence, nothing spent. */
export function emptyLedger (): LedgerState {
  return readLedger(encodeAdmissionLedger({ admitted: [], spent: [] }))
}

/**
 * Decodes a ledger in its canonical encoding (what encodeAdmissionLedger of
 * its content gives): a ledger is compared byte for byte between members, so
 * only one byte form of each may exist.
 *
 * @throws MalformedError | TooLargeError when it does not decode or is not canonical
 */
export function readLedger (bytes: Uint8Array): LedgerState {
  const ledger = decodeAdmissionLedger(bytes)
  if (!equalBytes(encodeAdmissionLedger(ledger), bytes)) throw new MalformedError('the admission ledger is not in canonical encoding')
  const admitted = new Map<string, Admission>()
  for (const a of ledger.admitted) admitted.set(a.identity, a)
  const uses = new Map<string, number>()
  for (const s of ledger.spent) uses.set(hexOf(s.invitationId), s.uses)
  return { bytes: Uint8Array.from(bytes), ledger, admitted, uses }
}

/** A new admission: who, on which evidence, spending which invitation. */
export interface NewAdmission {
  readonly admission: Admission
  /** The invitation id the evidence spends. */
  readonly invitationId: Uint8Array
}

/**
 * The ledger a Commit produces: entries of identities no longer in the
 * group (or admitted anew) dropped, the new admissions appended in Add
 * order, and one use counted per new admission (a first use appends its
 * invitation to `spent`).
 *
 * @param survivors identities in the group after the Commit
 * @throws TooLargeError | MalformedError when the result exceeds the ledger bounds
 */
export function nextLedger (before: LedgerState, survivors: ReadonlySet<string>, admissions: readonly NewAdmission[]): Uint8Array {
  const renewed = new Set(admissions.map((a) => a.admission.identity))
  const admitted: Admission[] = before.ledger.admitted.filter((a) => survivors.has(a.identity) && !renewed.has(a.identity))
  for (const a of admissions) admitted.push(a.admission)
  const spent: Spent[] = before.ledger.spent.map((s) => ({ invitationId: s.invitationId, uses: s.uses }))
  const index = new Map(spent.map((s, i) => [hexOf(s.invitationId), i]))
  for (const a of admissions) {
    const key = hexOf(a.invitationId)
    const i = index.get(key)
    if (i === undefined) {
      index.set(key, spent.length)
      spent.push({ invitationId: a.invitationId as Uint8Array<ArrayBuffer>, uses: 1 })
    } else {
      spent[i] = { invitationId: spent[i]!.invitationId, uses: spent[i]!.uses + 1 }
    }
  }
  return encodeAdmissionLedger({ admitted, spent })
}

function hexOf (bytes: Uint8Array): string {
  return toHex(bytes)
}
