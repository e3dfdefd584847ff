/**
 * The benchmark publisher: one video track of real frame sizes (a fixture
 * clip's, scaled to a target bitrate), SFrame-protected by a real MLS member,
 * stamped with the send time.
 *
 *   tsx bench/lib/publisher.ts --addr MULTIADDR --stream NAME --mode relay|raw [--clip PATH] [--bitrate BPS]
 *
 * relay: creates the stream on a fabric node as its committer and publishes;
 * raw:   publishes the same kind of chunks to the baseline server.
 * stdin: "paced SECONDS" (30 fps) or "unpaced SECONDS" (as fast as the
 * transport takes them); each prints {"event":"done","sent","bytes"}. "quit".
 */
import '../../src/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { FabricClient } from '../../src/client/client.js'
import { TrackPublisher } from '../../src/client/track-publisher.js'
import { FramedStream } from '../../src/dispatch/framed-stream.js'
import { readIvfFile } from '../../src/media/ivf-file.js'
import { isVp8Keyframe } from '../../src/media/vp8.js'
import { createHost } from '../../src/node/host.js'
import { AvSession } from '../../src/session/av-session.js'
import { MAX_CONTROL_FRAME } from '../../src/wire/limits.js'
import { streamTag } from '../../src/wire/stream-tag.js'
import { nowUs } from './keys.js'

const RAW_PUBLISH = '/fabric-bench/raw-publish/1'
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
if (values.mode === 'raw') {
  const host = await createHost({ listen: [] })
  const framed = new FramedStream(await host.dialProtocol(multiaddr(values.addr!), RAW_PUBLISH), MAX_CONTROL_FRAME)
  const session = await AvSession.create({ identity: host.peerId.toString(), nowMs: Date.now() })
  track = new TrackPublisher({ session, streamTag: streamTag(stream), sendEpoch: 0n, sendChunk: async (c) => { await framed.send(c) } }, 0)
  close = async () => { await host.stop() }
} else {
  const client = await FabricClient.connect({ node: values.addr! })
  const member = await client.createStream(stream)
  track = member.publishTrack(0)
  close = async () => { await client.close() }
}

process.stdout.write(JSON.stringify({ event: 'ready' }) + '\n')

async function run (paced: boolean, seconds: number): Promise<void> {
  const start = performance.now()
  const end = start + seconds * 1000
  let i = 0
  let sent = 0
  let bytes = 0
  while (performance.now() < end) {
    const p = payloads[i % payloads.length]
    if (paced) {
      const wait = start + i * (1000 / FPS) - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    } else if (i % 32 === 0) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    await track.sendFrame(p.data, { keyframe: p.keyframe, timestampUs: BigInt(nowUs()) })
    i++
    sent++
    bytes += p.data.byteLength
  }
  process.stdout.write(JSON.stringify({ event: 'done', sent, bytes, seconds: (performance.now() - start) / 1000, fps: sent / ((performance.now() - start) / 1000) }) + '\n')
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.split(' ')
  if (cmd === 'paced' || cmd === 'unpaced') void run(cmd === 'paced', Number(arg))
  else if (cmd === 'quit') void close().then(() => process.exit(0))
})
