/**
 * The signalling exchange of the WebRTC transport (protocol/webrtc.md
 * section 2): the member POSTs its SDP offer to the node's signalling path
 * and gets the answer (201) or a refusal carrying a fabric error code.
 */
import { FabricError, type ErrorCode } from '../../errors.js'
import { isErrorCode } from '../../wire/error-codes.js'

/** The node's signalling path, under its web endpoint. */
export const SIGNAL_PATH = '/api/v1/webrtc/offer'

/** Content type of offers and answers (RFC 3264 SDP). */
export const SIGNAL_CONTENT_TYPE = 'application/sdp'

/** HTTP status of each refusal code the node answers with. */
export const SIGNAL_STATUS: Partial<Record<ErrorCode, number>> = {
  MALFORMED: 400,
  TOO_LARGE: 413,
  QUOTA_EXCEEDED: 429,
  INVALID_STATE: 503,
}

/** The JSON body of a refusal: `{"code":"QUOTA_EXCEEDED","message":"..."}`. */
export function refusalBody (err: FabricError): string {
  return JSON.stringify({ code: err.code, message: err.message })
}

/** The FabricError a refusal stands for; a body that is not a refusal, or names no fabric code, maps to UNREACHABLE. */
export function signalRefusal (status: number, body: string): FabricError {
  try {
    const parsed = JSON.parse(body) as { code?: unknown, message?: unknown }
    if (typeof parsed.code === 'string' && isErrorCode(parsed.code) && typeof parsed.message === 'string') {
      return new FabricError(parsed.code, `the node refused the offer (${status}): ${parsed.message.slice(0, 500)}`)
    }
  } catch {}
  return new FabricError('UNREACHABLE', `the node answered the offer with HTTP ${status}`)
}
