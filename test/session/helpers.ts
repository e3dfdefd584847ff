/**
 * Test scaffolding: each member lives in its own "process", a closure that
 * only ever receives copies of bytes, never objects of another member.
 */
import { AvSession } from '../../src/session/av-session.js'
import { generateKeyPackage } from '../../src/session/key-package.js'

/** Copies bytes as a transport would, so no buffer is shared between members. */
export function wire (bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes)
}

/** Hex of bytes, for comparing keys in assertions. */
export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

/** A joiner before it joins: its published KeyPackage and the private half it keeps. */
export interface Joiner {
  identity: string
  /** What the joiner publishes (a copy goes to the committer). */
  keyPackage: Uint8Array
  /** Joins from Welcome bytes using only its own bytes. */
  join: (welcome: Uint8Array, nowMs: number) => Promise<AvSession>
}

/** Makes a joiner "process" holding its own KeyPackage private state. */
export async function makeJoiner (identity: string, nowMs: number): Promise<Joiner> {
  const bundle = await generateKeyPackage(identity, { nowMs })
  const keyPackage = bundle.keyPackage
  const privateState = bundle.privateState
  return {
    identity,
    keyPackage: wire(keyPackage),
    join: async (welcome, now) => await AvSession.joinFromWelcome({
      welcome: wire(welcome),
      keyPackage: wire(keyPackage),
      privateState: wire(privateState),
      identity,
      nowMs: now,
    }),
  }
}

/** A libp2p-like peer id string for member n (the content does not matter to MLS). */
export function peerId (n: number): string {
  return `12D3KooWTestPeer${String(n).padStart(4, '0')}`
}
