/**
 * A member's saved state (protocol/survival.md section 6): what a member
 * process writes after every epoch change and every SFrame CTR reservation,
 * so that after a crash and a restart it resumes in the stream without
 * rejoining when its MLS state is still current.
 *
 * The record is JSON: the stream's owner and name, the member's identity,
 * its MLS session state (AvSession.exportState, base64) and, per SFrame KID
 * it sent under, the CTR it reserved up to. A restarted member starts each
 * such KID at its reservation, so it never uses a (key, CTR) pair twice,
 * whatever it sent before the crash (RFC 9605 section 9.1: a nonce reused
 * under one key breaks AES-GCM).
 *
 * The record holds the member's epoch secrets and private keys: it belongs
 * where the identity file is, readable by the member only.
 */
import { FabricError, MalformedError, TooLargeError } from '../errors.js'
import { MAX_SESSION_STATE_BYTES } from '../session/av-session.js'

/** CTRs reserved at once per KID: one state write per 65 536 frames of a track (36 min of 30 fps video). */
export const CTR_RESERVATION_BLOCK = 65_536n

/** Largest record read, bytes: the session state in base64 and the reservations. */
export const MAX_MEMBER_STATE_RECORD = Math.ceil(MAX_SESSION_STATE_BYTES * 4 / 3) + 64 * 1024

/** Most KIDs a record lists (tracks per member are few; old epochs are dropped). */
export const MAX_RESERVED_KIDS = 256

/** The saved state of one member of one stream. */
export interface MemberState {
  readonly owner: string
  readonly stream: string
  readonly identity: string
  /** AvSession.exportState bytes. */
  readonly session: Uint8Array
  /** Per KID: every CTR below this may have been used. */
  readonly ctrReserved: ReadonlyMap<bigint, bigint>
  /** The Redemption the member joined with, presented again if it must rejoin. */
  readonly redemption?: Uint8Array
}

/** Where a member keeps its state; `save` must be durable when it returns (a write, then a rename). */
export interface MemberStateStore {
  save: (record: Uint8Array) => void
}

/** Encodes a record. */
export function encodeMemberState (s: MemberState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({
    v: 1,
    owner: s.owner,
    stream: s.stream,
    identity: s.identity,
    session: toBase64(s.session),
    ctr: [...s.ctrReserved].map(([kid, ctr]) => [kid.toString(), ctr.toString()]),
    ...(s.redemption === undefined ? {} : { redemption: toBase64(s.redemption) }),
  }))
}

/**
 * Decodes a record.
 * @throws TooLargeError above MAX_MEMBER_STATE_RECORD
 * @throws MalformedError when it is not a version 1 record
 */
export function decodeMemberState (bytes: Uint8Array): MemberState {
  if (bytes.byteLength > MAX_MEMBER_STATE_RECORD) throw new TooLargeError('member state record', bytes.byteLength, MAX_MEMBER_STATE_RECORD)
  let o: Record<string, unknown>
  try {
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<string, unknown>
  } catch (err) {
    throw new MalformedError('the member state record is not JSON', { cause: err })
  }
  if (typeof o !== 'object' || o === null || o.v !== 1 || typeof o.owner !== 'string' || typeof o.stream !== 'string' ||
    typeof o.identity !== 'string' || typeof o.session !== 'string' || !Array.isArray(o.ctr) || o.ctr.length > MAX_RESERVED_KIDS) {
    throw new MalformedError('not a member state record (version 1)')
  }
  const ctrReserved = new Map<bigint, bigint>()
  for (const e of o.ctr as unknown[]) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string') throw new MalformedError('bad CTR reservation in the member state record')
    ctrReserved.set(u64(e[0]), u64(e[1]))
  }
  if (o.redemption !== undefined && typeof o.redemption !== 'string') throw new MalformedError('bad redemption in the member state record')
  return {
    owner: o.owner,
    stream: o.stream,
    identity: o.identity,
    session: fromBase64(o.session),
    ctrReserved,
    ...(typeof o.redemption === 'string' ? { redemption: fromBase64(o.redemption) } : {}),
  }
}

/** Checks that a record is this member's, for this stream. @throws FabricError IDENTITY_MISMATCH / OWNER_MISMATCH */
export function checkMemberState (s: MemberState, identity: string, owner: string | undefined, stream: string | undefined): void {
  if (s.identity !== identity) throw new FabricError('IDENTITY_MISMATCH', `the saved state is ${s.identity}'s, not ${identity}'s`)
  if ((owner !== undefined && owner !== s.owner) || (stream !== undefined && stream !== s.stream)) {
    throw new FabricError('OWNER_MISMATCH', `the saved state is of stream ${s.owner}/${s.stream}`)
  }
}

function u64 (text: string): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) throw new MalformedError('bad number in the member state record')
  const n = BigInt(text)
  if (n >= 1n << 64n) throw new MalformedError('number out of range in the member state record')
  return n
}

function toBase64 (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

function fromBase64 (text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new MalformedError('bad base64 in the member state record')
  const s = atob(text)
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}
