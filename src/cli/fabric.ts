/**
 * `fabric`: a member process.
 *
 *   fabric join --node MULTIADDR --stream NAME [--create] [--publish CLIP.ivf [--loop]]
 *               [--record DIR] [--duration SECONDS] [--json] [--key-log FILE]
 *
 * Creates (--create, becoming the stream's committer) or joins a stream,
 * publishes an IVF clip paced in real time, and records what the others send,
 * one IVF per sender track. With --json it prints one JSON event per line
 * (ready, epoch, roster, first-keyframe, removed, summary) and reads commands
 * on stdin, one per line: `remove PEER_ID` (committer), `leave`, `stop`,
 * `pause` / `resume` (stop and restart reading media), `stats`.
 */
import '../polyfill.js'
import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { FabricClient } from '../client/client.js'
import type { ReceivedFrame } from '../client/frame-decryptor.js'
import type { StreamMember } from '../client/stream-member.js'
import type { TrackPublisher } from '../client/track-publisher.js'
import { ClipSource } from '../media/clip-source.js'
import { IvfFileWriter, readIvfFile } from '../media/ivf-file.js'
import type { IvfHeader } from '../media/ivf.js'

const USAGE = `usage: fabric join --node MULTIADDR --stream NAME [options]
  --create            create the stream (this process becomes its committer)
  --publish FILE      publish a VP8 IVF clip, paced in real time
  --loop              loop the clip
  --record DIR        record every other member's video, one IVF per sender track
  --duration SECONDS  leave after this long (default: until stdin says stop / SIGINT)
  --key-log FILE      append epoch keys (debugging, like SSLKEYLOGFILE)
  --json              JSON events on stdout, commands on stdin
`

/** Short content hash of a frame, to prove byte identity across processes. */
function frameHash (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16)
}

interface Recorder {
  writer: IvfFileWriter | undefined
  started: boolean
  frames: number
  path: string
  /** Writes run one after another: concurrent appends would interleave. */
  chain: Promise<void>
}

async function main (argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      node: { type: 'string' },
      stream: { type: 'string' },
      create: { type: 'boolean' },
      publish: { type: 'string' },
      loop: { type: 'boolean' },
      record: { type: 'string' },
      duration: { type: 'string' },
      'key-log': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true || positionals[0] !== 'join' || values.node === undefined || values.stream === undefined) {
    process.stdout.write(USAGE)
    process.exitCode = values.help === true ? 0 : 2
    return
  }
  const json = values.json === true
  const say = (event: string, data: Record<string, unknown> = {}): void => {
    if (json) {
      process.stdout.write(JSON.stringify({ event, t: Date.now(), ...data }, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v) + '\n')
    } else {
      process.stdout.write(`[${event}] ${Object.entries(data).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}\n`)
    }
  }

  const clip = values.publish === undefined ? undefined : await readIvfFile(values.publish)
  const client = await FabricClient.connect({ node: values.node })
  const requestedAt = Date.now()
  const member: StreamMember = values.create === true
    ? await client.createStream(values.stream, { keyLogFile: values['key-log'] })
    : await client.joinStream(values.stream, { keyLogFile: values['key-log'] })
  const joinedAt = Date.now()
  say('ready', { identity: client.identity, epoch: member.epoch, committer: member.isCommitter, joinMs: joinedAt - requestedAt })

  // Receiving: record per sender track, time to first keyframe, hashes.
  const firstKeyframeMs = new Map<string, number>()
  const received: Record<string, Array<[number, string, number, string]>> = {}
  const recorders = new Map<number, Recorder>()
  const header: IvfHeader | undefined = clip?.header
  let removed = false
  member.on('frame', (f: ReceivedFrame) => {
    const key = `${f.sender}/${f.context}`
    ;(received[key] ??= []).push([f.sequence, frameHash(f.payload), f.keyframe ? 1 : 0, String(f.epoch)])
    if (f.keyframe && !firstKeyframeMs.has(key)) {
      firstKeyframeMs.set(key, Date.now() - requestedAt)
      say('first-keyframe', { sender: f.sender, context: f.context, ms: Date.now() - requestedAt, epoch: f.epoch })
    }
    if (values.record !== undefined) {
      let r = recorders.get(f.track)
      if (r === undefined) {
        r = { writer: undefined, started: false, frames: 0, path: join(values.record, `${f.sender}-${f.context}.ivf`), chain: Promise.resolve() }
        recorders.set(f.track, r)
      }
      const rec = r
      rec.chain = rec.chain.then(async () => { await record(rec, f) }).catch((err) => { say('record-error', { error: (err as Error).message }) })
    }
  })
  const record = async (r: Recorder, f: ReceivedFrame): Promise<void> => {
    if (!r.started) {
      if (!f.keyframe) return
      r.started = true
      await mkdir(values.record!, { recursive: true })
      r.writer = await IvfFileWriter.open(r.path, { fourcc: 'VP80', width: header?.width ?? 640, height: header?.height ?? 360, timebaseDen: 30, timebaseNum: 1 })
    }
    await r.writer!.write({ pts: r.frames++, data: f.payload })
  }
  member.on('epoch', (e: { epoch: bigint, added: string[], removed: string[] }) => { say('epoch', e) })
  member.on('roster', (members: string[]) => { say('roster', { members }) })
  member.on('commit-failed', (e: { identities: string[], error: Error }) => { say('commit-failed', { identities: e.identities, error: e.error.message }) })

  // Publishing: pace the clip in real time; honour keyframe requests by
  // jumping to the clip's next keyframe.
  const sent: Array<[number, string, number, string]> = []
  let publishing: Promise<void> = Promise.resolve()
  let stopPublishing = false
  if (clip !== undefined) {
    const source = ClipSource.fromIvf(clip, { loop: values.loop === true })
    const track: TrackPublisher = member.publishTrack(0)
    publishing = (async () => {
      const start = Date.now()
      let n = 0
      while (!stopPublishing && !removed) {
        if (track.wantsKeyframe && source.framesUntilKeyframe() !== 0) source.requestKeyframe()
        const frame = source.next()
        if (frame === undefined) break
        const wait = start + n * source.frameIntervalMs - Date.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        n++
        if (stopPublishing || removed) break
        try {
          await track.sendFrame(frame.data, { keyframe: frame.keyframe })
          sent.push([track.sent - 1, frameHash(frame.data), frame.keyframe ? 1 : 0, String(member.sendEpoch)])
        } catch (err) {
          say('publish-error', { error: (err as Error).message })
          break
        }
      }
    })()
  }

  let finishing: Promise<void> | undefined
  const finish = async (reason: string): Promise<void> => {
    finishing ??= (async () => {
      stopPublishing = true
      await publishing
      // Give in-flight frames a moment to arrive before the summary.
      await new Promise((resolve) => setTimeout(resolve, 300))
      const stats = member.stats()
      for (const r of recorders.values()) {
        await r.chain
        await r.writer?.close()
      }
      say('summary', {
        reason,
        identity: client.identity,
        removed,
        stats,
        sent,
        received,
        firstKeyframeMs: Object.fromEntries(firstKeyframeMs),
        recordings: [...recorders.values()].filter((r) => r.started).map((r) => ({ path: r.path, frames: r.frames })),
      })
      if (reason === 'leave') await member.leave()
      await client.close()
      process.exit(0)
    })()
    await finishing
  }

  member.on('removed', () => {
    removed = true
    say('removed', { epoch: member.epoch })
    void finish('removed')
  })
  member.on('closed', (err?: Error) => {
    if (!removed && finishing === undefined) say('closed', { error: err?.message })
  })
  if (values.duration !== undefined) setTimeout(() => { void finish('duration') }, Number(values.duration) * 1000)
  process.on('SIGINT', () => { void finish('signal') })
  process.on('SIGTERM', () => { void finish('signal') })
  if (json) {
    const rl = createInterface({ input: process.stdin })
    rl.on('line', (line) => {
      const [cmd, arg] = line.trim().split(/\s+/)
      if (cmd === 'remove' && arg !== undefined) {
        member.removeMember(arg).then(() => { say('removed-member', { identity: arg, epoch: member.epoch }) }, (err) => { say('command-error', { cmd, error: (err as Error).message }) })
      } else if (cmd === 'leave') {
        void finish('leave')
      } else if (cmd === 'stop') {
        void finish('stop')
      } else if (cmd === 'pause') {
        member.pauseMedia()
        say('paused')
      } else if (cmd === 'resume') {
        member.resumeMedia()
        say('resumed')
      } else if (cmd === 'stats') {
        say('stats', { stats: member.stats() })
      }
    })
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`fabric: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
