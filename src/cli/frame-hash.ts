/**
 * How fabric's tools name one frame to prove byte identity across
 * processes: `fabric join --json` in its frame lists, the member page in
 * `fabricPage.sent.hashes` (src/web/page-state.ts), and the browser tests
 * comparing recordings with what a page sent.
 */
import { createHash } from 'node:crypto'

/** Hex of the first 8 bytes of SHA-256 of `bytes` (16 characters). */
export function frameHash (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16)
}
