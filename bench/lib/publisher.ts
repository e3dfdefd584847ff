/**
 * The benchmark publisher: one video track of real frame sizes (a fixture
 * clip's, scaled to a target bitrate), SFrame-protected by a real MLS member,
 * stamped with the send time.
 *
 *   tsx bench/lib/publisher.ts --addr MULTIADDR --stream NAME --mode relay|raw [--clip PATH] [--bitrate BPS]
 *
 * relay: creates the stream on a fabric node as its owner and committer, open
 *        to anyone (admission is not what the benchmarks measure), and
 *        publishes;
 * raw:   publishes the same kind of chunks to the baseline server.
 * Prints {"event":"ready","owner"} once publishing can start: streams are
 * addressed by owner and name, so subscribers and joiners need the owner's
 * identity (peer id).
 * stdin: "paced SECONDS" (30 fps), "rate FPS SECONDS" (the same frames at
 * FPS) or "unpaced SECONDS" (as fast as the transport takes them); each
 * prints {"event":"done","sent","bytes","fps"}; "paced SECONDS stamps" adds
 * "stampsUs", every frame's capture timestamp (to count exactly the frames
 * published in a subscriber's window). "quit".
 */
import '../../src/polyfill.js'
// Exit through process.exit on SIGTERM so --cpu-prof (FABRIC_CHILD_NODE_ARGS) writes its profile.
process.on('SIGTERM', () => process.exit(0))
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { FabricClient } from '../../src/client/client.js'
import { TrackPublisher } from '../../src/client/track-publisher.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { readIvfFile } from '../../src/media/ivf-file.js'
import { isVp8Keyframe } from '../../src/media/vp8.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { AvSession } from '../../src/session/av-session.js'
import { generateIdentity, privateKeyOfIdentity } from '../../src/session/identity.js'
import { MAX_CONTROL_FRAME } from '../../src/wire/limits.js'
import { streamKey, streamTag } from '../../src/wire/stream-tag.js'
import { nowUs } from './keys.js'
import { RAW_PUBLISH } from './raw-protocol.js'

const FPS = 30

const { values } = parseArgs({
  options: {
    addr: { type: 'string' },
    stream: { type: 'string' },
    mode: { type: 'string' },
    clip: { type: 'string' },
    bitrate: { type: 'string' },
  },
})
const stream = values.stream!
const clip = await readIvfFile(values.clip ?? 'fixtures/media/alice.ivf')
const bitrate = Number(values.bitrate ?? 2_500_000)
const clipBytes = clip.frames.reduce((n, f) => n + f.data.byteLength, 0)
const scale = (bitrate / 8 / FPS) / (clipBytes / clip.frames.length)
// Frame payloads keep the clip's size pattern (big keyframes, small deltas).
const payloads = clip.frames.map((f) => ({ data: randomBytes(Math.max(16, Math.round(f.data.byteLength * scale))), keyframe: isVp8Keyframe(f.data) }))

let track: TrackPublisher
let close: () => Promise<void>
let owner: string
if (values.mode === 'raw') {
  // The host runs as the member: its libp2p key is the MLS signature key.
  const identity = await generateIdentity()
  owner = identity.peerId
  const host = await createHost({ listen: [], privateKey: privateKeyOfIdentity(identity) })
  const framed = new Libp2pChannel(await host.dialProtocol(multiaddr(values.addr!), RAW_PUBLISH), MAX_CONTROL_FRAME)
  const session = await AvSession.create({ identity, stream, admission: { admission: 'open' }, nowMs: Date.now() })
  track = new TrackPublisher({ session, streamTag: streamTag(streamKey(owner, stream)), sendEpoch: 0n, sendChunk: async (c) => { await framed.send(c) }, now: Date.now }, 0)
  close = async () => { await host.stop() }
} else {
  const client = await FabricClient.connect({ node: values.addr! })
  owner = client.identity
  // Open: the probe members join by name and owner without an invitation.
  const member = await client.createStream(stream, { admission: { admission: 'open' } })
  track = member.publishTrack(0)
  close = async () => { await client.close() }
}

process.stdout.write(JSON.stringify({ event: 'ready', owner }) + '\n')

/**
 * Sends frames for `seconds`: at `fps` frames per second when given (a
 * token pacer: every frame due by now goes out, so rates above the timer
 * resolution still hold), or as fast as the transport takes them.
 */
async function run (fps: number | undefined, seconds: number, stamps = false): Promise<void> {
  const start = performance.now()
  const end = start + seconds * 1000
  let i = 0
  let bytes = 0
  const stampsUs: number[] = []
  while (performance.now() < end) {
    if (fps !== undefined) {
      const due = Math.floor((performance.now() - start) * fps / 1000) + 1
      if (i >= due) {
        const wait = start + i * (1000 / fps) - performance.now()
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)))
        continue
      }
    } else if (i % 32 === 0) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    const p = payloads[i % payloads.length]
    const ts = nowUs()
    if (stamps) stampsUs.push(ts)
    await track.sendFrame(p.data, { keyframe: p.keyframe, timestampUs: BigInt(ts) })
    i++
    bytes += p.data.byteLength
  }
  const elapsed = (performance.now() - start) / 1000
  process.stdout.write(JSON.stringify({ event: 'done', sent: i, bytes, seconds: elapsed, fps: i / elapsed, ...(stamps ? { stampsUs } : {}) }) + '\n')
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg, rest] = line.split(' ')
  if (cmd === 'paced') void run(FPS, Number(arg), rest === 'stamps')
  else if (cmd === 'unpaced') void run(undefined, Number(arg))
  else if (cmd === 'rate') void run(Number(arg), Number(rest))
  else if (cmd === 'quit') void close().then(() => process.exit(0))
})
