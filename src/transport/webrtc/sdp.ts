/**
 * What fabric reads from an SDP (RFC 8866) description: the DTLS certificate
 * fingerprint (RFC 8122 section 5) that the binding handshake signs
 * (protocol/webrtc.md section 3). Nothing else of the SDP is interpreted
 * here; the WebRTC stacks parse the rest.
 */
import { MalformedError, TooLargeError } from '../../errors.js'

/** Largest SDP description fabric accepts, bytes (a data-channel-only offer is under 1 KiB). */
export const MAX_SDP_BYTES = 16 * 1024

/** Bytes of a SHA-256 fingerprint. */
export const FINGERPRINT_BYTES = 32

const FINGERPRINT_LINE = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/

/**
 * The SHA-256 DTLS fingerprint of `sdp`, as 32 bytes. Every
 * `a=fingerprint:sha-256` line (session or media level) must name the same
 * certificate: a description with two would leave open which one DTLS used.
 *
 * @throws TooLargeError above MAX_SDP_BYTES; MalformedError when no
 *         sha-256 fingerprint is present, one is malformed, or two differ
 */
export function sha256Fingerprint (sdp: string): Uint8Array {
  if (sdp.length > MAX_SDP_BYTES) throw new TooLargeError('an SDP description', sdp.length, MAX_SDP_BYTES)
  let found: string | undefined
  for (const raw of sdp.split('\n')) {
    const m = FINGERPRINT_LINE.exec(raw.replace(/\r$/, ''))
    if (m === null || m[1].toLowerCase() !== 'sha-256') continue
    const value = m[2].toUpperCase()
    if (found !== undefined && found !== value) throw new MalformedError('the SDP names two different sha-256 fingerprints')
    found = value
  }
  if (found === undefined) throw new MalformedError('the SDP has no a=fingerprint:sha-256 line')
  const parts = found.split(':')
  if (parts.length !== FINGERPRINT_BYTES || parts.some((p) => p.length !== 2)) throw new MalformedError(`a sha-256 fingerprint is ${FINGERPRINT_BYTES} colon-separated hex octets`)
  return Uint8Array.from(parts, (p) => parseInt(p, 16))
}
