/** Small byte-string helpers of the session layer. */

/** Byte equality. Not constant-time: use on public values only. */
export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
