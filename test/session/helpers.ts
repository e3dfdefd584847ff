/**
 * Test scaffolding: each member lives in its own "process", a closure that
 * only ever receives copies of bytes, never objects of another member.
 */
import { expect } from 'vitest'
import { AvSession } from '../../src/session/av-session.js'
import { FabricError } from '../../src/errors.js'
import { identityFromSeed, type MemberIdentity } from '../../src/session/identity.js'
import { generateKeyPackage } from '../../src/session/key-package.js'

/** The stream name the tests' groups use unless they say otherwise. */
export const STREAM = 'room'

/** Copies bytes as a transport would, so no buffer is shared between members. */
export function wire (bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes)
}

/** Hex of bytes, for comparing keys in assertions. */
export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

const identities = new Map<number, MemberIdentity>()

/**
 * Member n's identity: a real Ed25519 key from the seed filled with n + 1
 * (deterministic, so failures reproduce), named by its peer id. n is 0..254.
 */
export function peer (n: number): MemberIdentity {
  let id = identities.get(n)
  if (id === undefined) {
    if (!Number.isInteger(n) || n < 0 || n > 254) throw new RangeError(`test peer ${n} outside 0..254`)
    id = identityFromSeed(new Uint8Array(32).fill(n + 1))
    identities.set(n, id)
  }
  return id
}

/** Member n's peer id (peer(n).peerId). */
export function peerId (n: number): string {
  return peer(n).peerId
}

/** Which stream a joiner expects to land in. */
export interface Expectation {
  owner: string
  stream: string
}

/** A joiner before it joins: its published KeyPackage and the private half it keeps. */
export interface Joiner {
  identity: string
  /** What the joiner publishes (a copy goes to the committer). */
  keyPackage: Uint8Array
  /** Joins from Welcome bytes using only its own bytes. */
  join: (welcome: Uint8Array, nowMs: number) => Promise<AvSession>
}

/**
 * Makes a joiner "process" holding its own KeyPackage private state.
 *
 * @param who    the joiner's identity, or n for peer(n)
 * @param expect the stream it asks to join; default peer(0)'s STREAM
 */
export async function makeJoiner (
  who: MemberIdentity | number,
  nowMs: number,
  options: { expect?: Expectation, cipherSuite?: number } = {},
): Promise<Joiner> {
  const identity = typeof who === 'number' ? peer(who) : who
  const expectation = options.expect ?? { owner: peerId(0), stream: STREAM }
  const bundle = await generateKeyPackage(identity, { nowMs, ...(options.cipherSuite === undefined ? {} : { cipherSuite: options.cipherSuite }) })
  const keyPackage = bundle.keyPackage
  const privateState = bundle.privateState
  return {
    identity: identity.peerId,
    keyPackage: wire(keyPackage),
    join: async (welcome, now) => await AvSession.joinFromWelcome({
      welcome: wire(welcome),
      keyPackage: wire(keyPackage),
      privateState: wire(privateState),
      identity: identity.peerId,
      expect: expectation,
      nowMs: now,
    }),
  }
}

/** Expects `p` to reject with a FabricError of `code` (one of `code` when a list). */
export async function expectCode (p: Promise<unknown>, code: string | readonly string[]): Promise<void> {
  const codes = typeof code === 'string' ? [code] : code
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  expect(caught, `expected a rejection with ${codes.join(' or ')}`).toBeInstanceOf(FabricError)
  expect(codes, (caught as Error).message).toContain((caught as FabricError).code)
}

/** Expects `f` to throw a FabricError of `code` (one of `code` when a list). */
export function expectCodeSync (f: () => unknown, code: string | readonly string[]): void {
  const codes = typeof code === 'string' ? [code] : code
  let caught: unknown
  try {
    f()
  } catch (err) {
    caught = err
  }
  expect(caught, `expected a throw with ${codes.join(' or ')}`).toBeInstanceOf(FabricError)
  expect(codes, (caught as Error).message).toContain((caught as FabricError).code)
}
