/**
 * Seal benchmark: what one chunk costs to seal and open at 1 KiB, 10 KiB and
 * 64 KiB, from raw node:crypto AES-GCM up to the relay's full per-subscriber
 * forward path (RelayNode.forward + take, one LinkSealer per subscriber).
 *
 *   npx tsx bench/seal.ts
 *
 * Every op at a size encrypts or decrypts the same number of bytes N:
 *   - raw AES-GCM: createCipheriv per call (KeyObject key, fresh nonce in a
 *     reused 12-byte buffer, 12-byte AAD like the link header), update, final,
 *     getAuthTag; ciphertext and tag left as the two buffers node returns.
 *     This is the unavoidable per-chunk minimum on node:crypto.
 *   - SFrame: protect/unprotect of an N-byte frame (suite 0x0004, nodeBackend),
 *     the 28-byte chunk metadata as AAD.
 *   - link seal: seal / sealParts / open of an N-byte chunk (28 metadata bytes
 *     + SFrame), transit key from a real X25519 + HKDF agreement.
 *   - forward: RelayNode with one stream and S subscribers (S = 1, 100), each
 *     with its own LinkSealer; per chunk forward() then take() for every
 *     delivered subscriber, given the times the node's shell gives (take
 *     records the latency histograms); time per call / S = cost per
 *     subscriber-chunk.
 *     Also with S = 100 and a sealer that returns the chunk as is: the
 *     relay's own bookkeeping (validate, GOP cache, queues, take).
 *   - noble AES-128-GCM (reference; the browser-shared backend).
 * Payload bytes are slices of the fixtures' VP8 frames (random bytes if the
 * fixtures are missing).
 *
 * The machines are shared (2 vCPUs, often several busy processes), so wall
 * time per call swings by 2-10x from one moment to the next. Each op
 * therefore runs through the harness's timePerCall while process CPU time
 * (user + system, GC threads included) is read around it: CPU µs per call
 * is the figure used, wall µs is shown beside it. Ops run in short
 * interleaved rounds (every op of every size once per round), each op right
 * after a raw AES-128-GCM seal of its size. "x raw128 seal" and the targets
 * compare best rounds (interference only ever adds time, and the best rounds
 * agreed across runs here); "paired x" is the median over rounds of op / the
 * raw seal just before it, with quartiles in the targets: when those are
 * wide, the machine was too busy for the ratio to mean much.
 *
 * Environment (optional): SEAL_BENCH_ROUNDS (default 12), SEAL_BENCH_MS (time
 * per op per round, default 20), SEAL_BENCH_ONLY (regexp on op names, e.g.
 * "forward S=100" to profile one path), SEAL_BENCH_SIZES (bytes, comma-
 * separated, e.g. "1024"). A filtered run writes seal-filtered-* results.
 *
 * Profile one path, e.g. the forward path at 1 KiB:
 *   SEAL_BENCH_ONLY='^forward S=100 \(' SEAL_BENCH_SIZES=1024 node --cpu-prof \
 *     --cpu-prof-dir=/tmp/prof --cpu-prof-interval 100 --import tsx bench/seal.ts
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { AEAD_AES_128_GCM } from '../src/crypto/aead.js'
import { createNobleAead } from '../src/crypto/aead-noble.js'
// The Node platform: makes node:crypto the default backend, as every Node
// entry point does (the relay's and the subscriber's link seals use it).
import { nodeBackend } from '../src/platform/node/index.js'
import { LinkOpener, LinkSealer, sealedPacket } from '../src/crypto/link-seal.js'
import { SFrameReceiver, SFrameSender } from '../src/crypto/sframe/index.js'
import { sframeHeaderLength } from '../src/crypto/sframe/header.js'
import { deriveTransitKey, generateLinkKeyPair, type TransitKey } from '../src/crypto/transit-key.js'
import { REPO_ROOT } from '../src/cli/processes.js'
import { readIvfFile } from '../src/media/ivf-file.js'
import { BatchClock } from '../src/dispatch/subscriber-sender.js'
import { RelayNode, type ChunkSealer } from '../src/relay/relay-node.js'
import { CHUNK_META_LENGTH, encodeChunk, encodeChunkMeta, makeTrack, TrackContext, type ChunkMeta } from '../src/wire/chunk.js'
import { streamTag } from '../src/wire/stream-tag.js'
import { machineInfo, percentile, report, timePerCall, type Target } from './lib/report.js'

const SIZES = sizeList('SEAL_BENCH_SIZES', [1024, 10 * 1024, 64 * 1024])
const FANOUTS = [1, 100]
const ROUNDS = positiveInt('SEAL_BENCH_ROUNDS', 12)
const MS = positiveInt('SEAL_BENCH_MS', 20)
const ONLY = process.env.SEAL_BENCH_ONLY === undefined || process.env.SEAL_BENCH_ONLY === '' ? undefined : new RegExp(process.env.SEAL_BENCH_ONLY)
const STREAM = 'benchowner/bench-seal'
const PUBLISHER = 'publisher'
/** The publisher's MLS leaf: its chunks' track names it, as the relay requires. */
const PUBLISHER_LEAF = 3
/** Chunks per GOP in the forward runs: one keyframe, then deltas (as a real track). */
const GOP = 30
/** Pre-sealed packets per link-open ring; a fresh opener (new replay window) per lap, about 0.05 µs per open amortised. */
const OPEN_RING = 128
/** Forward budget: ratio of forward (S=100, per subscriber-chunk) to raw AES-128-GCM seal. */
const FORWARD_TARGET_RATIO = 1.25

function sizeList (name: string, fallback: number[]): number[] {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const sizes = raw.split(',').map(Number)
  if (sizes.some((n) => !Number.isInteger(n) || n < 64 || n > 1024 * 1024)) throw new RangeError(`${name} must list sizes in bytes, 64..1048576, got ${raw}`)
  return sizes
}

function positiveInt (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${raw}`)
  return n
}

/** Defeats dead-code elimination: every op folds a byte of its output in here. */
let sink = 0

/** Real media bytes: every frame of every fixture, back to back. */
async function mediaPool (): Promise<{ bytes: Uint8Array, source: string }> {
  const dir = join(REPO_ROOT, 'fixtures', 'media')
  let names: string[] = []
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.ivf')).sort()
  } catch {}
  const parts: Uint8Array[] = []
  for (const name of names) for (const f of (await readIvfFile(join(dir, name))).frames) parts.push(f.data)
  const total = parts.reduce((a, p) => a + p.byteLength, 0)
  if (total < 4 * 64 * 1024) return { bytes: new Uint8Array(randomBytes(4 * 64 * 1024)), source: 'random bytes (fixtures/media/*.ivf missing)' }
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return { bytes: out, source: `${names.length} fixtures/media/*.ivf files, ${parts.length} VP8 frames, ${total} bytes` }
}

/** Both ends of one subscription's link, agreed as subscribe does (X25519 + HKDF). */
function makeTransit (stream: string): { relaySide: TransitKey, subscriberSide: TransitKey } {
  const sub = generateLinkKeyPair()
  const relay = generateLinkKeyPair()
  const common = { subscriberPublicKey: sub.publicKey, relayPublicKey: relay.publicKey, stream }
  return {
    relaySide: deriveTransitKey({ ...common, privateKey: relay.privateKey, peerPublicKey: sub.publicKey }),
    subscriberSide: deriveTransitKey({ ...common, privateKey: sub.privateKey, peerPublicKey: relay.publicKey }),
  }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

function check (ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench self-check failed: ${what}`)
}

/**
 * One harness timePerCall run of `fn`, with the process CPU time it used:
 * CPU µs per call (warm-up calls counted on both sides) and wall µs per call.
 */
function measure (fn: () => void, ms: number): { cpu: number, wall: number } {
  let calls = 0
  const counted = (): void => { calls++; fn() }
  const before = process.cpuUsage()
  const wall = timePerCall(counted, ms)
  const used = process.cpuUsage(before)
  return { cpu: (used.user + used.system) / calls, wall }
}

interface Op {
  size: number
  name: string
  /** What the ratio and MB/s are per: one call, or one subscriber-chunk. */
  perCall: number
  fn: () => void
}

async function main (): Promise<void> {
  const started = Date.now()
  const pool = await mediaPool()
  let cursor = 0
  /** The next `n` media bytes (wrapping), as a fresh array. */
  const media = (n: number): Uint8Array => {
    if (cursor + n > pool.bytes.byteLength) cursor = 0
    const out = pool.bytes.slice(cursor, cursor + n)
    cursor += n
    return out
  }

  const tag = streamTag(STREAM)
  const track = makeTrack(PUBLISHER_LEAF, TrackContext.video)
  let chunkSeq = 0
  const metaOf = (keyframe: boolean): ChunkMeta => ({
    keyframe, discardable: false, spatialLayer: 0, temporalLayer: 0,
    streamTag: tag, track, sequence: chunkSeq, timestampUs: 1_700_000_000_000_000n + BigInt(chunkSeq++) * 33_333n,
  })

  // Raw AES-GCM: KeyObjects made once, as LinkSealer does; a 12-byte AAD like the link header.
  const key128 = createSecretKey(randomBytes(16))
  const key256 = createSecretKey(randomBytes(32))
  const aad12 = new Uint8Array(randomBytes(12))
  const nonce = Buffer.alloc(12)
  let nonceCounter = 0
  const rawSeal = (alg: 'aes-128-gcm' | 'aes-256-gcm', key: KeyObject, pt: Uint8Array) => (): void => {
    nonce.writeUInt32BE(nonceCounter = (nonceCounter + 1) >>> 0, 8)
    const c = createCipheriv(alg, key, nonce)
    c.setAAD(aad12)
    const ct = c.update(pt)
    c.final()
    sink ^= c.getAuthTag()[0] ^ ct.byteLength
  }
  const rawSealed = (alg: 'aes-128-gcm' | 'aes-256-gcm', key: KeyObject, pt: Uint8Array): { nonce: Buffer, ct: Buffer, tag: Buffer } => {
    const n = randomBytes(12)
    const c = createCipheriv(alg, key, n)
    c.setAAD(aad12)
    const ct = c.update(pt)
    c.final()
    return { nonce: n, ct, tag: c.getAuthTag() }
  }
  const rawOpen = (alg: 'aes-128-gcm' | 'aes-256-gcm', key: KeyObject, s: { nonce: Buffer, ct: Buffer, tag: Buffer }) => (): void => {
    const d = createDecipheriv(alg, key, s.nonce)
    d.setAAD(aad12)
    d.setAuthTag(s.tag)
    const pt = d.update(s.ct)
    d.final()
    sink ^= pt.byteLength
  }

  // SFrame, default suite, KID as MLS would build it (context 0, leaf 3, epoch 5).
  const baseKey = new Uint8Array(randomBytes(16))
  const kid = (BigInt(PUBLISHER_LEAF) << 8n) + 5n
  const sender = new SFrameSender({ backend: nodeBackend, kid, baseKey })
  const receiver = new SFrameReceiver({ backend: nodeBackend, lookup: (k) => k === kid ? baseKey : undefined })
  /** A real chunk of exactly `n` bytes: metadata || SFrame(frame bytes). */
  const makeChunk = (n: number, keyframe: boolean): Uint8Array => {
    const meta = metaOf(keyframe)
    const metaBytes = encodeChunkMeta(meta)
    const payload = n - CHUNK_META_LENGTH - sframeHeaderLength(kid, sender.nextCtr) - 16
    const chunk = encodeChunk(meta, sender.protect(metaBytes, media(payload)))
    check(chunk.byteLength === n, `chunk of ${n} bytes`)
    return chunk
  }

  const noble = createNobleAead(AEAD_AES_128_GCM)
  const nobleKey = new Uint8Array(randomBytes(16))
  const nobleNonce = new Uint8Array(12)
  const nobleView = new DataView(nobleNonce.buffer)

  // Relays: one per fan-out, the same subscribers for every size.
  const relays = new Map<number, { relay: RelayNode, openers: Map<number, LinkOpener> }>()
  for (const s of FANOUTS) {
    const relay = new RelayNode()
    relay.openStream(STREAM)
    relay.setPublisherLeaf(STREAM, PUBLISHER, PUBLISHER_LEAF)
    const openers = new Map<number, LinkOpener>()
    for (let i = 0; i < s; i++) {
      const t = makeTransit(STREAM)
      const { id } = relay.subscribe(STREAM, `subscriber-${i}`, new LinkSealer(t.relaySide), 0)
      openers.set(id, new LinkOpener(t.subscriberSide))
    }
    relays.set(s, { relay, openers })
  }
  // The same fan-out with a sealer that returns the chunk untouched: what forward + take cost apart from sealing.
  const bookkeeping = new RelayNode()
  bookkeeping.openStream(STREAM)
  bookkeeping.setPublisherLeaf(STREAM, PUBLISHER, PUBLISHER_LEAF)
  const EMPTY = new Uint8Array(0)
  const identity: ChunkSealer = { sealFrame: (chunk: Uint8Array) => ({ head: EMPTY, body: chunk, tail: EMPTY, byteLength: chunk.byteLength }) }
  for (let i = 0; i < 100; i++) bookkeeping.subscribe(STREAM, `subscriber-${i}`, identity, 0)
  // The node's relay clock (media/counters.ts): read once per chunk forwarded, and
  // for the batches taken through a BatchClock, as the FlushScheduler's senders do.
  const clock = (): number => performance.now()
  const batchClock = new BatchClock(clock)
  let forwardDropped = 0
  let forwardKeyframeRequests = 0

  const ops: Op[] = []
  for (const n of SIZES) {
    const pt = media(n)
    const add = (name: string, fn: () => void, perCall = 1): void => {
      if (ONLY === undefined || ONLY.test(name)) ops.push({ size: n, name, perCall, fn })
    }

    // Raw node:crypto.
    add('raw AES-128-GCM seal', rawSeal('aes-128-gcm', key128, pt))
    const sealed128 = rawSealed('aes-128-gcm', key128, pt)
    add('raw AES-128-GCM open', rawOpen('aes-128-gcm', key128, sealed128))

    // Link seal.
    const link = makeTransit(STREAM)
    const sealer = new LinkSealer(link.relaySide)
    const chunk = makeChunk(n, false)
    add('link seal', () => { const out = sealer.seal(chunk); sink ^= out[out.byteLength - 1] })
    add('link sealParts', () => { const p = sealer.sealParts(chunk); sink ^= p.tag[0] ^ p.byteLength })
    const ringSealer = new LinkSealer(link.relaySide)
    const ring = Array.from({ length: OPEN_RING }, () => ringSealer.seal(chunk))
    let opener = new LinkOpener(link.subscriberSide)
    check(equalBytes(opener.open(ring[0]), chunk), 'link seal round trip')
    let at = 1
    add('link open', () => {
      if (at === OPEN_RING) { opener = new LinkOpener(link.subscriberSide); at = 0 }
      const out = opener.open(ring[at++])
      sink ^= out.byteLength
    })

    // Link seal plus forward, per subscriber-chunk.
    const gop = Array.from({ length: GOP }, (_, i) => makeChunk(n, i === 0))
    for (const s of FANOUTS) {
      const { relay, openers } = relays.get(s)!
      // Self-check once per size: every subscriber gets the chunk, sealed for its own link.
      const first = relay.forward(STREAM, PUBLISHER, gop[0], clock())
      check(first.delivered.length === s && first.dropped === 0, `forward delivers to all ${s} subscribers`)
      for (const id of first.delivered) {
        const frames = relay.take(id)
        check(frames.length === 1 && equalBytes(openers.get(id)!.open(sealedPacket(frames[0])), gop[0]), `subscriber ${id} opens the forwarded chunk`)
      }
      let g = 1
      add(`forward S=${s} (per sub-chunk)`, () => {
        const chunk = gop[g]
        const r = relay.forward(STREAM, PUBLISHER, chunk, clock())
        g = g + 1 === GOP ? 0 : g + 1
        forwardDropped += r.dropped
        forwardKeyframeRequests += r.keyframeRequests.length
        // One scheduler run: every delivered subscriber's batch, back to back.
        batchClock.beginRun()
        for (const id of r.delivered) {
          const frames = relay.take(id, Infinity, batchClock.now(chunk.byteLength))
          sink ^= frames.length
        }
        batchClock.endRun()
      }, s)
    }

    {
      let g = 1
      add('forward S=100, no seal (relay only)', () => {
        const chunk = gop[g]
        const r = bookkeeping.forward(STREAM, PUBLISHER, chunk, clock())
        g = g + 1 === GOP ? 0 : g + 1
        forwardDropped += r.dropped
        batchClock.beginRun()
        for (const id of r.delivered) sink ^= bookkeeping.take(id, Infinity, batchClock.now(chunk.byteLength)).length
        batchClock.endRun()
      }, 100)
    }

    // SFrame.
    const metaBytes = encodeChunkMeta(metaOf(false))
    add('SFrame protect', () => { const out = sender.protect(metaBytes, pt); sink ^= out[0] })
    const sframe = sender.protect(metaBytes, pt)
    check(equalBytes(receiver.unprotect(metaBytes, sframe).plaintext, pt), 'SFrame round trip')
    add('SFrame unprotect', () => { const out = receiver.unprotect(metaBytes, sframe); sink ^= out.headerLength })

    // AES-256-GCM for reference.
    add('raw AES-256-GCM seal', rawSeal('aes-256-gcm', key256, pt))
    const sealed256 = rawSealed('aes-256-gcm', key256, pt)
    add('raw AES-256-GCM open', rawOpen('aes-256-gcm', key256, sealed256))

    // noble AES-128-GCM for reference.
    let nobleCounter = 0
    add('noble AES-128-GCM seal', () => {
      nobleView.setUint32(8, nobleCounter = (nobleCounter + 1) >>> 0)
      const out = noble.seal(nobleKey, nobleNonce, aad12, pt)
      sink ^= out[0]
    })
    const nobleSealed = noble.seal(nobleKey, nobleNonce, aad12, pt)
    const nobleNonceCopy = nobleNonce.slice()
    check(equalBytes(noble.open(nobleKey, nobleNonceCopy, aad12, nobleSealed), pt), 'noble round trip')
    add('noble AES-128-GCM open', () => { const out = noble.open(nobleKey, nobleNonceCopy, aad12, nobleSealed); sink ^= out.byteLength })
  }
  // Fixed per-call cost: a seal of 0 bytes (cipher setup, AAD, final, tag).
  const fixedOp: Op = { size: 0, name: 'raw AES-128-GCM seal', perCall: 1, fn: rawSeal('aes-128-gcm', key128, new Uint8Array(0)) }
  if (ONLY === undefined || ONLY.test(fixedOp.name)) ops.unshift(fixedOp)
  if (ops.length === 0) throw new Error(`SEAL_BENCH_ONLY=${String(process.env.SEAL_BENCH_ONLY)} matches no op`)

  const find = (size: number, name: string): Op | undefined => ops.find((o) => o.size === size && o.name === name)

  // Interleaved rounds; each op's figure is per unit (call or subscriber-chunk).
  const samples = new Map<Op, number[]>(ops.map((o) => [o, []]))
  const best = (op: Op): number => Math.min(...samples.get(op)!)
  const wallSamples = new Map<Op, number[]>(ops.map((o) => [o, []]))
  const ratioSamples = new Map<Op, number[]>(ops.map((o) => [o, []]))
  const baseOf = new Map<Op, Op | undefined>(ops.map((o) => [o, find(o.size, 'raw AES-128-GCM seal')]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const op of ops) {
      // Each op right after the raw seal of its size, so the pair shares the machine's state.
      const base = baseOf.get(op)
      const b = base === undefined || base === op ? undefined : measure(base.fn, MS)
      const m = measure(op.fn, MS)
      samples.get(op)!.push(m.cpu / op.perCall)
      wallSamples.get(op)!.push(m.wall / op.perCall)
      ratioSamples.get(op)!.push(b === undefined ? 1 : m.cpu / op.perCall / b.cpu)
      if (b !== undefined && base !== undefined) {
        samples.get(base)!.push(b.cpu)
        wallSamples.get(base)!.push(b.wall)
      }
    }
  }
  check(forwardDropped === 0, `no subscriber dropped a chunk (dropped ${forwardDropped})`)

  /** Ratios of op / raw AES-128-GCM seal of the same size, measured back to back; undefined without a base. */
  const ratios = (op: Op): number[] | undefined => baseOf.get(op) === undefined ? undefined : ratioSamples.get(op)
  const rows: Array<Record<string, unknown>> = []
  for (const op of ops) {
    const us = best(op)
    const rs = ratios(op)
    rows.push({
      size: op.size === 0 ? '0 B' : `${op.size / 1024} KiB`,
      op: op.name,
      'µs/op': us,
      'median µs': percentile(samples.get(op)!, 50),
      'MB/s': op.size === 0 ? '' : op.size / us,
      'x raw128 seal': rs === undefined ? '' : us / best(baseOf.get(op)!),
      'paired x': rs === undefined ? '' : percentile(rs, 50),
      'wall µs': percentile(wallSamples.get(op)!, 50),
    })
  }

  const targets: Target[] = []
  for (const n of SIZES) {
    const f100 = find(n, 'forward S=100 (per sub-chunk)')
    const f1 = find(n, 'forward S=1 (per sub-chunk)')
    const base = find(n, 'raw AES-128-GCM seal')
    const r100 = f100 === undefined ? undefined : ratios(f100)
    if (f100 === undefined || base === undefined || r100 === undefined) continue
    const q = (xs: number[]): string => `${percentile(xs, 50).toFixed(2)}x (quartiles ${percentile(xs, 25).toFixed(2)}-${percentile(xs, 75).toFixed(2)})`
    const r1 = f1 === undefined ? undefined : ratios(f1)
    const ratio = best(f100) / best(base)
    targets.push({
      name: `link seal plus forward cost at most ${FORWARD_TARGET_RATIO}x the raw AEAD cost of the same bytes, ${n / 1024} KiB`,
      met: ratio <= FORWARD_TARGET_RATIO,
      figure: `S=100: ${best(f100).toFixed(2)} µs per subscriber-chunk = ${ratio.toFixed(2)}x raw AES-128-GCM seal (${best(base).toFixed(2)} µs), paired ${q(r100)}` +
        (f1 === undefined || r1 === undefined ? '' : `; S=1: ${best(f1).toFixed(2)} µs = ${(best(f1) / best(base)).toFixed(2)}x, paired ${q(r1)}`),
    })
  }

  const notes: string[] = [
    `payload bytes: ${pool.source}; N bytes encrypted per op (link/forward: N-byte chunk = 28 metadata + SFrame; SFrame: N-byte frame)`,
    `µs/op = process CPU µs per op (or per subscriber-chunk), best of ${ROUNDS} interleaved rounds of ${MS} ms, median beside it; x raw128 seal = best / best raw AES-128-GCM seal of the same size; paired x = median over rounds of the ratio to a raw seal of the same size measured just before it; wall µs = median wall-clock round (harness timePerCall); MB/s = 10^6 bytes per best CPU second`,
    'raw = createCipheriv per call with a KeyObject key, fresh nonce, 12-byte AAD, update + final + getAuthTag, outputs not joined: the node:crypto minimum per chunk',
    'forward = RelayNode.forward(stream, publisher, chunk, now) then take(id, Infinity, now) per delivered subscriber, with the clocks the node uses (performance.now per chunk forwarded; for the takes a BatchClock run per chunk, as the senders of one FlushScheduler run share one read per 16 batches or 64 KiB), so the latency histograms are recorded, GOP of 30 chunks (1 keyframe), divided by S',
  ]
  const fixed = ops.find((o) => o.size === 0)
  const base1k = find(1024, 'raw AES-128-GCM seal')
  const base64k = find(64 * 1024, 'raw AES-128-GCM seal')
  if (fixed !== undefined && base1k !== undefined && base64k !== undefined) {
    const perByte = (best(base64k) - best(fixed)) / (64 * 1024)
    notes.push(`per-call fixed cost of raw AES-128-GCM seal (0 bytes): ${best(fixed).toFixed(2)} µs = ${Math.round(best(fixed) / best(base1k) * 100)}% of the 1 KiB seal; ` +
      `marginal ${(perByte * 1024 * 1000).toFixed(0)} ns per KiB (${(1 / perByte).toFixed(0)} MB/s): at 1 KiB cipher setup (createCipheriv: OpenSSL context + key schedule, JS object) dominates, at 64 KiB the AES-GCM pass does`)
  }
  for (const n of SIZES) {
    const ls = find(n, 'link seal')
    const lp = find(n, 'link sealParts')
    const base = find(n, 'raw AES-128-GCM seal')
    if (ls !== undefined && lp !== undefined && base !== undefined) {
      notes.push(`${n / 1024} KiB: link seal ${best(ls).toFixed(2)} µs (${(best(ls) / best(base)).toFixed(2)}x raw), sealParts ${best(lp).toFixed(2)} µs (${(best(lp) / best(base)).toFixed(2)}x): the difference is mostly the join copy into a second buffer`)
    }
    const relayOnly = find(n, 'forward S=100, no seal (relay only)')
    if (relayOnly !== undefined && base !== undefined) {
      notes.push(`${n / 1024} KiB: forward + take without sealing costs ${best(relayOnly).toFixed(2)} µs per subscriber-chunk (${(best(relayOnly) / best(base) * 100).toFixed(1)}% of raw seal): the gap to raw AEAD is in the seal, not in the relay's bookkeeping`)
    }
  }
  if (forwardKeyframeRequests > 0) notes.push(`forward raised ${forwardKeyframeRequests} keyframe requests`)
  notes.push(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s; sink ${sink & 1}`)

  await report({
    bench: ONLY === undefined && process.env.SEAL_BENCH_SIZES === undefined ? 'seal' : 'seal-filtered',
    machine: machineInfo(),
    params: { sizes: SIZES, fanouts: FANOUTS, rounds: ROUNDS, msPerOpPerRound: MS, only: ONLY?.source, gop: GOP, suite: '0x0004', linkAead: 'aes-128-gcm' },
    rows,
    targets,
    notes,
  })
}

await main()
