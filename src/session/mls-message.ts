/**
 * MLSMessage framing (RFC 9420 section 6) with typed errors: every byte string
 * the session layer exchanges with other processes (KeyPackage, Welcome,
 * Commit) is one MLSMessage, decoded here in full or refused.
 */
import { ciphersuites, decodeMlsMessage, encodeMlsMessage, type MLSMessage } from 'ts-mls'
import { CodecError, CryptoError, CryptoVerificationError, DependencyError, UsageError, ValidationError } from 'ts-mls/mlsError.js'
import { FabricError, MalformedError, type ErrorCode } from '../errors.js'
import { equalBytes } from './bytes.js'

/**
 * Decodes exactly one MLSMessage filling all of `bytes`.
 *
 * Only the canonical encoding is accepted (RFC 9420 section 2.1: presence
 * octets are 0 or 1, vector lengths use the shortest varint). ts-mls 1.6
 * decodes leniently (any presence octet but 1 reads as absent) and checks
 * signatures over its own re-encoding, so a non-canonical byte string would
 * verify as the message it decodes to: one Commit would have many valid byte
 * forms, and a flipped byte would go unnoticed. Re-encoding and comparing
 * makes decoding injective whatever the library's leniency.
 *
 * @param what name of the input, for error messages
 * @throws MalformedError on anything that does not decode, on trailing bytes,
 *         on a non-canonical encoding, or on a protocol version other than mls10
 */
export function decodeWholeMlsMessage (what: string, bytes: Uint8Array): MLSMessage {
  let decoded: [MLSMessage, number] | undefined
  try {
    decoded = decodeMlsMessage(bytes, 0)
  } catch (err) {
    throw new MalformedError(`${what} does not decode as an MLSMessage: ${messageOf(err)}`, { cause: err })
  }
  if (decoded === undefined) throw new MalformedError(`${what} does not decode as an MLSMessage`)
  const [msg, end] = decoded
  if (end !== bytes.length) throw new MalformedError(`${what} has ${bytes.length - end} trailing bytes after the MLSMessage`)
  if (msg.version !== 'mls10') throw new MalformedError(`${what} has MLS version ${String(msg.version)}, expected mls10`)
  let canonical: Uint8Array
  try {
    canonical = encodeMlsMessage(msg)
  } catch (err) {
    throw new MalformedError(`${what} decodes to an MLSMessage that does not encode again: ${messageOf(err)}`, { cause: err })
  }
  if (!equalBytes(canonical, bytes)) throw new MalformedError(`${what} is not in the canonical MLS encoding (RFC 9420 section 2.1)`)
  return msg
}

/**
 * The registry number of a cipher suite as ts-mls decoded it: ts-mls names
 * the suites it knows and leaves unknown ones as their decimal string.
 *
 * @throws MalformedError when the value is neither
 */
export function suiteNumberOf (name: string): number {
  const known = (ciphersuites as Record<string, number>)[name]
  if (known !== undefined) return known
  const n = Number(name)
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new MalformedError(`cipher suite ${name} is not a uint16`)
  return n
}

/**
 * Turns an exception out of ts-mls into a FabricError. Errors that are already
 * FabricErrors pass through unchanged.
 *
 * ts-mls codec and validation failures become MALFORMED; failed signatures,
 * tags and HPKE opens AUTH_FAILED; missing optional crypto packages
 * UNSUPPORTED_SUITE; misuse INVALID_STATE. Anything else gets `fallback`
 * (MALFORMED while digesting foreign bytes, INTERNAL while producing our own).
 *
 * @param what     what was being done, for the message
 * @param err      the exception caught
 * @param fallback code for exceptions ts-mls did not classify
 */
export function toFabricError (what: string, err: unknown, fallback: ErrorCode): FabricError {
  if (err instanceof FabricError) return err
  const msg = `${what}: ${messageOf(err)}`
  if (err instanceof CodecError || err instanceof ValidationError) return new MalformedError(msg, { cause: err })
  if (err instanceof CryptoVerificationError) return new FabricError('AUTH_FAILED', msg, { cause: err })
  // ts-mls wraps HPKE failures in CryptoError carrying the @hpke/core error's
  // text; OpenError there means the ciphertext did not open under our key.
  if (err instanceof CryptoError && messageOf(err).startsWith('OpenError')) return new FabricError('AUTH_FAILED', msg, { cause: err })
  if (err instanceof DependencyError) return new FabricError('UNSUPPORTED_SUITE', msg, { cause: err })
  if (err instanceof UsageError) return new FabricError('INVALID_STATE', msg, { cause: err })
  return fallback === 'MALFORMED' ? new MalformedError(msg, { cause: err }) : new FabricError(fallback, msg, { cause: err })
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
