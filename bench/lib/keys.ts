/**
 * Deterministic libp2p identities for benchmark processes: the orchestrator
 * knows a load process's peer id before it starts (to list it as a trusted
 * relay on the node) by deriving both from the same seed.
 */
import { createHash } from 'node:crypto'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

/** The Ed25519 key for `label` (32-byte seed = SHA-256 of the label). */
export async function benchKey (label: string): Promise<PrivateKey> {
  return await generateKeyPairFromSeed('Ed25519', createHash('sha256').update(`fabric bench ${label}`).digest())
}

/** The peer id string for `label`. */
export async function benchPeerId (label: string): Promise<string> {
  return peerIdFromPrivateKey(await benchKey(label)).toString()
}

/** Microseconds since the Unix epoch, sub-millisecond precision, comparable across processes on one machine. */
export function nowUs (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}
