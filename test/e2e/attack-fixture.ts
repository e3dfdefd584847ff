/**
 * Shared fixture of the attack tests (attacks-group.test.ts,
 * attacks-directory-relay.test.ts): the measured attacks of the
 * admission-and-quotas issue, replayed against a real `fabric-node` process
 * on 127.0.0.1. Every test has a healthy stream beside its attack: alice
 * (owner, publishing a real clip) and bob (admitted by name, receiving) are
 * `fabric join` processes; the attacker is the test process, speaking the
 * real protocols over libp2p with hand-made bytes where needed. Each test
 * asserts that
 * (a) the node's growth stays under the bound the quota implies (RSS from
 *     /api/v1/stats, before and after);
 * (b) the attack is refused with its documented error code and counted where
 *     the node counts it;
 * (c) bob receives every frame alice sent after bob's first keyframe,
 *     byte-identical (alice's `sent` against bob's `received`).
 * Measured figures go to the test output (console.log) so they can be quoted.
 */
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey, type Extension } from 'ts-mls'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, expect } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { GroupChannel } from '../../src/client/group-channel.js'
import { loadOrCreateIdentity } from '../../src/cli/identity-file.js'
import {
  REPO_ROOT, memberArgs, nodeStats, spawnTs, type MemberProc, type MemberSpec, type NodeProc, type Proc, type ProcEvent,
} from '../../src/cli/processes.js'
import { deriveTransitKey, generateLinkKeyPair } from '../../src/crypto/transit-key.js'
import { encodeSFrameHeader } from '../../src/crypto/sframe/index.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { credentialFor } from '../../src/session/credentials.js'
import { generateIdentity, privateKeyOfIdentity, type MemberIdentity } from '../../src/session/identity.js'
import { encodeKid } from '../../src/session/kid.js'
import { DEFAULT_CIPHER_SUITE, suiteImpl } from '../../src/session/suite.js'
import { encodeChunk } from '../../src/wire/chunk.js'
import { MAX_AV_MESSAGE, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { decodeOpenResult, encodePublishOpen, encodeSubscribeOpen } from '../../src/wire/messages.js'
import { AV_PUBLISH_PROTOCOL, AV_SUBSCRIBE_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { streamKey, streamTag } from '../../src/wire/stream-tag.js'
import { sleep, within } from '../timing.js'

export type FrameLog = Array<[number, string, number, string]>
export type Stats = any // eslint-disable-line @typescript-eslint/no-explicit-any

export const MIB = 1024 * 1024
export const KIB = 1024
export const clip = (n: string): string => join(REPO_ROOT, 'fixtures', 'media', `${n}.ivf`)

// ---------------------------------------------------------------------------
// Cleanup: everything a test starts is registered here and stopped after it,
// pass or fail, newest first.

const cleanups: Array<() => Promise<unknown>> = []

/** Registers `f` to run after the current test, pass or fail (newest first). */
export const later = (f: () => Promise<unknown>): void => { cleanups.push(f) }

/** Call once at the top of a test file: runs what `later` registered after each test. */
export function cleanUpAfterEachTest (): void {
  afterEach(async () => {
    while (cleanups.length > 0) {
      const f = cleanups.pop()!
      try { await within(f(), 15_000, 'cleanup') } catch {}
    }
  })
}

/** A dial-only libp2p host running as `identity` (fresh by default), stopped after the test. */
export async function attackerHost (identity?: MemberIdentity): Promise<Libp2p> {
  const id = identity ?? await generateIdentity()
  const host = await createHost({ listen: [], privateKey: privateKeyOfIdentity(id) })
  later(async () => { await host.stop() })
  return host
}

export async function client (node: NodeProc, identity: MemberIdentity): Promise<FabricClient> {
  const c = await FabricClient.connect({ node: node.addr, identity })
  later(async () => { await c.close() })
  return c
}

/** Registers `proc` to be stopped after the test, before anything waits on it. */
function stopLater (proc: Proc): void {
  later(async () => {
    // A stopped (SIGSTOP) process must run again to take SIGTERM.
    try { proc.child.kill('SIGCONT') } catch {}
    await proc.stop('SIGTERM', 5_000)
  })
}

/** `fabric join --json` as startMember runs it, stopped after the test even when it never gets in. */
export async function member (spec: MemberSpec): Promise<MemberProc> {
  const proc = spawnTs(spec.name, 'src/cli/fabric.ts', memberArgs(spec))
  stopLater(proc)
  const ready = await proc.waitFor((e) => e.event === 'ready', 60_000, `${spec.name} ready`)
  return { name: spec.name, proc, identity: ready.identity as string, ready }
}

/** `fabric-node start` as startNodeProcess runs it (ephemeral, port 0), stopped after the test even when it never gets ready. */
export async function nodeProcess (extra: string[] = []): Promise<NodeProc> {
  const proc = spawnTs('node', 'src/cli/fabric-node.ts', ['start', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0', '--ephemeral', ...extra])
  stopLater(proc)
  const ready = await proc.waitFor((e) => e.event === 'ready', 30_000, 'node ready')
  const adminToken = (await readFile(ready.adminTokenFile as string, 'utf8')).trim()
  return { proc, peerId: ready.peerId as string, addr: (ready.multiaddrs as string[])[0]!, adminUrl: ready.adminUrl as string, adminToken }
}

export async function rss (node: NodeProc): Promise<number> {
  return (await nodeStats(node)).memory.rss as number
}

export const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`

/** The node's /api/v1/stats entry of `key` (owner/name). */
export function streamStats (stats: Stats, key: string): Stats {
  return stats.relay.streams.find((s: { stream: string }) => s.stream === key)
}

export { codeOf } from '../codes.js'

// ---------------------------------------------------------------------------
// The healthy stream: node, alice, bob (and any other admitted processes).

export interface Healthy {
  node: NodeProc
  alice: MemberProc
  bob: MemberProc
  stream: string
  /** owner/name of the stream. */
  key: string
  dir: string
  /** Identity files prepared for members alice allows. */
  files: Record<string, { file: string, peerId: string }>
  /** When bob had alice's first keyframe. */
  readyAt: number
}

/**
 * Starts a node, alice (owner of `stream`, allowing bob, every name in
 * `prepare` and every peer id in `allowPeers`, publishing alice.ivf in a
 * loop) and bob (admitted by name, receiving), and waits until bob has
 * decrypted alice's first keyframe.
 */
export async function healthy (stream: string, opts: { nodeExtra?: string[], prepare?: string[], allowPeers?: string[] } = {}): Promise<Healthy> {
  const dir = await mkdtemp(join(tmpdir(), 'fabric-attack-'))
  later(async () => { await rm(dir, { recursive: true, force: true }) })
  const files: Healthy['files'] = {}
  for (const name of ['bob', ...(opts.prepare ?? [])]) {
    const file = join(dir, `${name}.key`)
    files[name] = { file, peerId: (await loadOrCreateIdentity(file)).identity.peerId }
  }
  const node = await nodeProcess(opts.nodeExtra)
  const allow = [...Object.values(files).map((f) => f.peerId), ...(opts.allowPeers ?? [])]
  const alice = await member({ name: 'alice', node: node.addr, stream, create: true, allow, publish: clip('alice'), loop: true })
  const bob = await member({ name: 'bob', node: node.addr, stream, owner: alice.identity, identity: files.bob!.file })
  await bob.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === alice.identity, 20_000, 'bob\'s first keyframe of alice')
  return { node, alice, bob, stream, key: streamKey(alice.identity, stream), dir, files, readyAt: Date.now() }
}

/** Starts another member of the healthy stream with its prepared identity file. */
export async function joiner (h: Healthy, name: string, extra: { publish?: string } = {}): Promise<MemberProc> {
  return await member({
    name, node: h.node.addr, stream: h.stream, owner: h.alice.identity, identity: h.files[name]!.file,
    ...(extra.publish === undefined ? {} : { publish: extra.publish, loop: true }),
  })
}

/**
 * The frames of `sent`, from the receiver's first keyframe of that sender
 * on, that the receiver (`got`) did not get byte for byte. Every frame
 * counts, to the last one sent: `finish` stops publishers (and awaits their
 * summaries) before receivers.
 */
export function missed (sent: FrameLog, got: FrameLog | undefined): { expected: number, missed: FrameLog, first: number } {
  expect(got, 'receiver got frames of this sender').toBeDefined()
  const firstKey = got!.find((f) => f[2] === 1)
  expect(firstKey, 'receiver got a keyframe of this sender').toBeDefined()
  const hashes = new Map(got!.map((f) => [f[0], f[1]]))
  const expected = sent.filter((f) => f[0] >= firstKey![0])
  return { expected: expected.length, missed: expected.filter((f) => hashes.get(f[0]) !== f[1]), first: firstKey![0] }
}

/**
 * Stops the publishers (`extraPublishers` first, then alice), then the
 * receivers, and checks (c): each receiver got every frame each publisher
 * sent after its first keyframe of that publisher.
 * @returns the summaries by name
 */
export async function finish (h: Healthy, opts: { extraPublishers?: MemberProc[], receivers?: MemberProc[], minFrames?: number } = {}): Promise<Record<string, ProcEvent>> {
  const summaries: Record<string, ProcEvent> = {}
  // At least 4 s of alice's video beside the attack, however quick it was.
  await sleep(h.readyAt + 4_000 - Date.now())
  const publishers = [...(opts.extraPublishers ?? []), h.alice]
  for (const p of publishers) {
    p.proc.send('stop')
    summaries[p.name] = await p.proc.waitFor((e) => e.event === 'summary', 20_000, `${p.name}'s summary`)
  }
  await sleep(500)
  const receivers = [h.bob, ...(opts.receivers ?? [])]
  for (const r of receivers) {
    r.proc.send('stop')
    summaries[r.name] = await r.proc.waitFor((e) => e.event === 'summary', 20_000, `${r.name}'s summary`)
  }
  for (const p of publishers) {
    const sent = summaries[p.name]!.sent as FrameLog
    for (const r of receivers) {
      const got = (summaries[r.name]!.received as Record<string, FrameLog>)[`${p.identity}/0`]
      const m = missed(sent, got)
      console.log(`  (c) ${r.name} <- ${p.name}: ${m.expected} frames expected from seq ${m.first}, ${m.missed.length} missed`)
      if (p === h.alice && r === h.bob) expect(m.expected).toBeGreaterThan(opts.minFrames ?? 60)
      else expect(m.expected).toBeGreaterThan(0)
      expect(m.missed, `frames ${r.name} missed or got altered from ${p.name}`).toEqual([])
    }
  }
  return summaries
}

// ---------------------------------------------------------------------------
// Wire helpers.

/** How the node ended a raw stream, seen from the attacker's side. */
export interface Ending { at: number, how: 'reset' | 'closed', data: Uint8ArrayList }

/** Reads `stream` to its end; resolves when the node closes its side or resets it. */
export async function ending (stream: Stream): Promise<Ending> {
  const data = new Uint8ArrayList()
  try {
    for await (const chunk of stream) data.append(chunk)
    return { at: Date.now(), how: 'closed', data }
  } catch {
    return { at: Date.now(), how: 'reset', data }
  }
}

/** A raw publish stream of `host` on `key`, opened (OpenResult without error). */
export async function rawPublish (host: Libp2p, node: Multiaddr, key: string): Promise<Libp2pChannel> {
  const [owner, name] = key.split('/') as [string, string]
  const framed = new Libp2pChannel(await host.dialProtocol(node, AV_PUBLISH_PROTOCOL), MAX_AV_MESSAGE)
  later(async () => { framed.abort(new Error('test over')) })
  await framed.send(encodePublishOpen({ stream: name, owner }))
  const result = decodeOpenResult(await framed.next(10_000))
  expect(result.error, 'publish open').toBeUndefined()
  return framed
}

/** Opens a raw subscription of `host` to `key`; resolves to the OpenResult error code, or 'ok'. */
export async function rawSubscribe (host: Libp2p, node: Multiaddr, key: string): Promise<{ code: string, framed: Libp2pChannel, at: number }> {
  const [owner, name] = key.split('/') as [string, string]
  const own = generateLinkKeyPair()
  const framed = new Libp2pChannel(await host.dialProtocol(node, AV_SUBSCRIBE_PROTOCOL), MAX_MEDIA_FRAME)
  later(async () => { framed.abort(new Error('test over')) })
  await framed.send(encodeSubscribeOpen({ stream: name, owner, subscriberPublicKey: own.publicKey, relay: false }))
  const result = decodeOpenResult(await framed.next(10_000))
  if (result.error === undefined) {
    // The link key derives: the subscription is real, not just answered.
    deriveTransitKey({ privateKey: own.privateKey, peerPublicKey: result.relayPublicKey, subscriberPublicKey: own.publicKey, relayPublicKey: result.relayPublicKey, stream: key })
  }
  return { code: result.error?.code ?? 'ok', framed, at: Date.now() }
}

/**
 * Keeps writing `chunk` on `stream` up to `times` times, waiting at most
 * `waitMs` for the transport each time: a peer that goes on sending after
 * the node has answered or refused it.
 */
export async function keepSending (stream: Stream, chunk: Uint8Array, times: number, waitMs: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    try {
      if (!stream.send(chunk)) await within(new Promise((resolve, reject) => {
        stream.addEventListener('drain', resolve, { once: true })
        stream.addEventListener('close', reject, { once: true })
      }), waitMs, 'drain')
    } catch {
      return
    }
  }
}

/** Resolves with the time `stream` closed or reset, or undefined if it is still open after `ms`. */
export async function closedWithin (stream: Stream, ms: number): Promise<number | undefined> {
  if (stream.status !== 'open') return Date.now()
  return await new Promise((resolve) => {
    const timer = setTimeout(() => { resolve(undefined) }, ms)
    stream.addEventListener('close', () => { clearTimeout(timer); resolve(Date.now()) }, { once: true })
  })
}

/** A group channel of `host`, closed after the test. */
export async function channel (host: Libp2p, node: Multiaddr): Promise<GroupChannel> {
  const ch = await GroupChannel.open(libp2pDialer(host, node))
  later(async () => { await ch.close() })
  return ch
}

/** Waits for the first unsolicited error on `ch` (a join's answer), with its arrival time. */
export function unsolicitedError (ch: GroupChannel): Promise<{ code: string, at: number }> {
  return new Promise((resolve) => {
    ch.onMessage((msg) => { if (msg.error !== undefined) resolve({ code: msg.error.code, at: Date.now() }) })
    ch.onClose(() => { resolve({ code: 'CLOSED', at: Date.now() }) })
  })
}

/** Polls the node's stats every `everyMs` until stopped; keeps what `pick` reads. */
export function sampler<T> (node: NodeProc, pick: (s: Stats) => T, everyMs = 100): { samples: T[], stop: () => Promise<void> } {
  const samples: T[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      try { samples.push(pick(await nodeStats(node))) } catch {}
      await sleep(everyMs)
    }
  })()
  return { samples, stop: async () => { running = false; await loop } }
}

/**
 * A KeyPackage of `id`, validly signed, inflated to about `bytes` by padding
 * its capabilities (which are not extension bytes, so within the directory's
 * extension bound): the flood of the issue, where identities filled the node
 * with big KeyPackages.
 */
export async function paddedKeyPackage (id: MemberIdentity, entries: number): Promise<Uint8Array> {
  const cs = await suiteImpl(DEFAULT_CIPHER_SUITE)
  const capabilities = defaultCapabilities()
  const pad = Array.from({ length: entries }, (_, i) => 0x1000 + i)
  capabilities.extensions = [...capabilities.extensions, ...pad]
  capabilities.proposals = [...capabilities.proposals, ...pad]
  const now = BigInt(Math.floor(Date.now() / 1000))
  const { publicPackage } = await generateKeyPackageWithKey(
    credentialFor(id.peerId), capabilities, { notBefore: now - 300n, notAfter: now + 3600n }, [],
    { signKey: Uint8Array.from(id.seed), publicKey: Uint8Array.from(id.publicKey) }, cs)
  return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage })
}

/** A KeyPackage of `id` with `n` bytes of KeyPackage extension data (above the 1 KiB bound: MALFORMED). */
export async function inflatedKeyPackage (id: MemberIdentity, n: number): Promise<Uint8Array> {
  const cs = await suiteImpl(DEFAULT_CIPHER_SUITE)
  const capabilities = defaultCapabilities()
  capabilities.extensions = [...capabilities.extensions, 0xff01]
  const ext: Extension[] = [{ extensionType: 0xff01, extensionData: new Uint8Array(n).fill(7) }]
  const now = BigInt(Math.floor(Date.now() / 1000))
  const { publicPackage } = await generateKeyPackageWithKey(
    credentialFor(id.peerId), capabilities, { notBefore: now - 300n, notAfter: now + 3600n }, ext,
    { signKey: Uint8Array.from(id.seed), publicKey: Uint8Array.from(id.publicKey) }, cs)
  return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage })
}

/** A chunk on `track` of stream `key` whose SFrame part is a header for `leaf` and 64 bytes of junk. */
export function junkChunk (key: string, track: number, leaf: number, epoch: bigint, sequence: number): Uint8Array {
  const header = encodeSFrameHeader(encodeKid({ context: track & 0xff, senderLeafIndex: leaf, epoch }), 1n)
  const sframe = new Uint8Array(header.byteLength + 64)
  sframe.set(header)
  return encodeChunk({
    keyframe: true, discardable: false, spatialLayer: 0, temporalLayer: 0,
    streamTag: streamTag(key), track, sequence, timestampUs: BigInt(Date.now()) * 1000n,
  }, sframe)
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

// ---------------------------------------------------------------------------

