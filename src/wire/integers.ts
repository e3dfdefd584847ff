/**
 * Range checks for the unsigned integers encoders write (u32 and u64 fields
 * of the protobuf messages and of the media chunk). Decoders never need them:
 * a decoded value is in range by construction.
 */

/** @throws RangeError when v is not an integer in 0..2^32-1 */
export function checkU32 (what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} is not a u32: ${v}`)
}

/** @throws RangeError when v is not a bigint in 0..2^64-1 */
export function checkU64 (what: string, v: bigint): void {
  if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) throw new RangeError(`${what} is not a u64: ${String(v)}`)
}
