/**
 * A load process: COUNT subscriptions to one stream over one libp2p host.
 *
 *   tsx bench/lib/load-subscribers.ts --addr MULTIADDR --stream NAME --owner PEER_ID
 *       --count N --mode relay|raw|probe --label LABEL
 *
 * relay: trusted-relay subscriptions to a fabric node (link seal opened,
 *        inner SFrame left alone, as a downstream relay would);
 * raw:   subscriptions to the baseline server (bench/lib/raw-server.ts);
 * probe: full members (MLS join, link seal, SFrame decrypt) — the app's path.
 * relay and probe address the stream by its owner (the publisher's ready
 * event names it) and name; raw ignores --owner.
 * Latency = receive time minus the chunk's capture timestamp (same clock).
 * stdin: "reset" starts a measurement window, "close" ends it, "report" prints
 * it (with the window's bounds, windowStartUs and windowEndUs, null before
 * "close"), "quit". Frames published inside the window (by their capture time) are
 * counted however late they arrive before "report", so a backlog in flight
 * at the window's end is not mistaken for loss.
 */
import '../../src/polyfill.js'
// Exit through process.exit on SIGTERM so --cpu-prof (FABRIC_CHILD_NODE_ARGS) writes its profile.
process.on('SIGTERM', () => process.exit(0))
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { FabricClient } from '../../src/client/client.js'
import { LinkOpener } from '../../src/crypto/link-seal.js'
import { deriveTransitKey, generateLinkKeyPair } from '../../src/crypto/transit-key.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { chunkTimestampUs } from '../../src/wire/chunk.js'
import { MAX_CONTROL_FRAME, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { decodeOpenResult, encodeSubscribeOpen } from '../../src/wire/messages.js'
import { AV_SUBSCRIBE_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { streamKey } from '../../src/wire/stream-tag.js'
import { benchKey, nowUs } from './keys.js'
import { RAW_SUBSCRIBE } from './raw-protocol.js'

const MAX_SAMPLES = 200_000

const { values } = parseArgs({
  options: {
    addr: { type: 'string' },
    stream: { type: 'string' },
    owner: { type: 'string' },
    count: { type: 'string' },
    mode: { type: 'string' },
    label: { type: 'string' },
  },
})
const addr = multiaddr(values.addr!)
const stream = values.stream!
const owner = values.owner
const count = Number(values.count)
const mode = values.mode as 'relay' | 'raw' | 'probe'
if (mode !== 'raw' && owner === undefined) throw new Error(`--mode ${mode} needs --owner (the publisher's identity)`)
/** The stream's address (owner/name): the transit key is bound to it (protocol/link-seal.md). */
const key = owner === undefined ? undefined : streamKey(owner, stream)

let frames = 0
let bytes = 0
let refused = 0
let failedOpens = 0
let retries = 0
let latencies: number[] = []
let perSub: number[] = new Array(count).fill(0)
let windowStartUs = nowUs()
let windowEndUs = Infinity
let windowFrames = 0
const record = (i: number, size: number, tsUs: number): void => {
  frames++
  if (tsUs >= windowStartUs && tsUs <= windowEndUs) windowFrames++
  bytes += size
  perSub[i]++
  if (latencies.length < MAX_SAMPLES) latencies.push(nowUs() - tsUs)
}

const closers: Array<() => Promise<void>> = []
if (mode === 'probe') {
  for (let i = 0; i < count; i++) {
    const client = await FabricClient.connect({ node: values.addr! })
    const member = await client.joinStream(stream, { owner })
    member.on('frame', (f: { payload: Uint8Array, timestampUs: bigint }) => { record(i, f.payload.byteLength, Number(f.timestampUs)) })
    closers.push(async () => { await client.close() })
  }
} else {
  const host = await createHost({ listen: [], privateKey: await benchKey(values.label!) })
  closers.push(async () => { await host.stop() })
  await host.dial(addr)
  const open = async (i: number): Promise<void> => {
    const s = await host.dialProtocol(addr, mode === 'raw' ? RAW_SUBSCRIBE : AV_SUBSCRIBE_PROTOCOL, { maxOutboundStreams: 1024 })
    const framed = new Libp2pChannel(s, mode === 'raw' ? MAX_MEDIA_FRAME : MAX_CONTROL_FRAME)
    let opener: LinkOpener | undefined
    if (mode === 'relay') {
      const own = generateLinkKeyPair()
      await framed.send(encodeSubscribeOpen({ stream, owner: owner!, subscriberPublicKey: own.publicKey, relay: true }))
      const res = decodeOpenResult(await framed.next(30_000))
      if (res.error !== undefined) throw new Error(`subscribe refused: ${res.error.code} ${res.error.message}`)
      opener = new LinkOpener(deriveTransitKey({ privateKey: own.privateKey, peerPublicKey: res.relayPublicKey, subscriberPublicKey: own.publicKey, relayPublicKey: res.relayPublicKey, stream: key! }))
    }
    void (async () => {
      for await (const frame of framed.rest()) {
        if (opener === undefined) {
          record(i, frame.byteLength, Number(chunkTimestampUs(frame)))
          continue
        }
        let chunk: Uint8Array
        try { chunk = opener.open(frame) } catch { refused++; continue }
        record(i, frame.byteLength, Number(chunkTimestampUs(chunk)))
      }
    })().catch(() => {})
  }
  // A subscription refused or reset while the node is busy is retried, then
  // counted as failed: one bad open must not take the whole load process down.
  const openWithRetry = async (i: number): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await open(i)
        return
      } catch (err) {
        if (attempt >= 5) {
          failedOpens++
          process.stderr.write(`subscription ${i} failed: ${(err as Error).message}\n`)
          return
        }
        // The connection may have been closed under us (before the early-stream
        // bound in src/transport/libp2p/host.ts, yamux aborted it when 50 opens raced the
        // server's upgrade): back off, dial again.
        retries++
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt))
        try { await host.dial(addr) } catch {}
      }
    }
  }
  for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: Math.min(50, count - i) }, async (_, k) => { await openWithRetry(i + k) }))
}

process.stdout.write(JSON.stringify({ event: 'ready', count, failedOpens, retries }) + '\n')
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'reset') {
    frames = 0; bytes = 0; refused = 0; latencies = []; perSub = new Array(count).fill(0); windowFrames = 0
    windowStartUs = nowUs()
    windowEndUs = Infinity
  } else if (line === 'close') {
    windowEndUs = nowUs()
  } else if (line === 'report') {
    process.stdout.write(JSON.stringify({ event: 'report', count, frames, bytes, refused, failedOpens, latencies, windowFrames, windowStartUs, windowEndUs: Number.isFinite(windowEndUs) ? windowEndUs : null, windowSeconds: (windowEndUs - windowStartUs) / 1e6, seconds: (nowUs() - windowStartUs) / 1e6, minPerSub: Math.min(...perSub), maxPerSub: Math.max(...perSub), cpu: process.cpuUsage() }) + '\n')
  } else if (line === 'quit') {
    void Promise.allSettled(closers.map(async (c) => { await c() })).then(() => process.exit(0))
  }
})
