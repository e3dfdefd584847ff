/**
 * The fan-out baseline: the same chunks fanned out over plain libp2p streams
 * with no sealing and no relay logic — one publish stream in, every frame
 * queued as-is to every subscriber stream and written by the same sender
 * tasks (coalesced, drain-aware) the node uses. What the node costs beyond
 * this is the price of link seals and the relay core.
 *
 * By default its TCP connections write each buffer as @libp2p/tcp does (one
 * socket write per buffer): plain libp2p, the baseline. `--gather`
 * gives it the node's corked writes (src/transport/libp2p/socket-writes.ts), to show how
 * much of a gap is that transport fix rather than relay logic.
 *
 *   tsx bench/lib/raw-server.ts [--gather]   (prints {"event":"ready","addr":...}; stdin "stats" / "quit")
 */
import '../../src/polyfill.js'
// Exit through process.exit on SIGTERM so --cpu-prof (FABRIC_CHILD_NODE_ARGS) writes its profile.
process.on('SIGTERM', () => process.exit(0))
import { createInterface } from 'node:readline'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { FlushScheduler, SubscriberSender, type WireFrame } from '../../src/dispatch/subscriber-sender.js'
import { framePrefix } from '../../src/wire/framing.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { SubscriberQueue } from '../../src/relay/subscriber-queue.js'
import { DEFAULT_RELAY_CONFIG } from '../../src/relay/relay-node.js'
import { MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { chunkIsKeyframe } from '../../src/wire/chunk.js'
import { RAW_PUBLISH, RAW_SUBSCRIBE } from './raw-protocol.js'


const host = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'], gatherWrites: process.argv.includes('--gather') })
const scheduler = new FlushScheduler()
const subs = new Set<{ queue: SubscriberQueue<WireFrame>, sender: SubscriberSender }>()
const EMPTY = new Uint8Array(0)
let chunksIn = 0
const limits = { maxInboundStreams: 1024, maxOutboundStreams: 1024 }

await host.handle(RAW_SUBSCRIBE, (stream) => {
  const framed = new Libp2pChannel(stream, MAX_MEDIA_FRAME)
  const queue = new SubscriberQueue<WireFrame>(DEFAULT_RELAY_CONFIG.subscriberQueueBytes, DEFAULT_RELAY_CONFIG.subscriberQueueFrames)
  const sub = { queue, sender: new SubscriberSender(framed, (max) => queue.take(max), () => { subs.delete(sub) }) }
  subs.add(sub)
  stream.addEventListener('close', () => { subs.delete(sub) })
}, limits)

await host.handle(RAW_PUBLISH, (stream) => {
  const framed = new Libp2pChannel(stream, MAX_MEDIA_FRAME)
  void (async () => {
    for await (const chunk of framed.rest()) {
      chunksIn++
      // Keyframe flag from the chunk's flags byte, so the drop policy is the same.
      const keyframe = chunkIsKeyframe(chunk)
      // The same bytes to everyone: one prefix, the chunk itself, no copies.
      const head = framePrefix(chunk.byteLength)
      const frame: WireFrame = { head, body: chunk, tail: EMPTY, byteLength: head.byteLength + chunk.byteLength }
      for (const s of subs) {
        s.queue.push(frame, 0, keyframe)
        scheduler.wake(s.sender)
      }
    }
  })().catch(() => {})
}, limits)

process.stdout.write(JSON.stringify({ event: 'ready', addr: host.getMultiaddrs()[0].toString() }) + '\n')
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stats') {
    let dropped = 0
    for (const s of subs) dropped += s.queue.counters.dropped
    process.stdout.write(JSON.stringify({ event: 'stats', chunksIn, subscribers: subs.size, dropped, cpu: process.cpuUsage(), memory: process.memoryUsage() }) + '\n')
  } else if (line === 'quit') {
    void Promise.resolve(host.stop()).then(() => process.exit(0))
  }
})
