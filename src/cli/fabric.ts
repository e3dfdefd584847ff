/**
 * `fabric`: a member process.
 *
 *   fabric id --identity FILE
 *   fabric invite --identity FILE --stream NAME [--for PEER_ID] [--expires DURATION] [--uses N] [--owner PEER_ID]
 *   fabric web --node URL [--listen HOST:PORT]
 *   fabric join --node (MULTIADDR | URL) (--stream NAME --owner PEER_ID | --invite TOKEN | --stream NAME --create)
 *               [--identity FILE] [--allow PEER_ID]... [--inviter PEER_ID]... [--knock] [--open]
 *               [--publish CLIP.ivf [--loop]] [--record DIR] [--duration SECONDS] [--json] [--key-log FILE]
 *               [--state FILE]
 *
 * `web` serves the browser member page from this machine, pointed at a
 * node's web endpoint (the page then comes from here, not from the node's
 * operator). `id` creates the identity file if missing and prints its peer id. `invite`
 * signs an invitation with the identity (the owner's, or an inviter's) and
 * prints the token. `join` creates (--create, becoming the stream's owner
 * and committer) or joins a stream, publishes an IVF clip paced in real
 * time, and records what the others send, one IVF per sender track; it
 * prints the safety code on every epoch. A refused join exits with status 3
 * and prints the error code. With --json it prints one JSON event per line
 * (ready, epoch, roster, committer, knock, join-denied, commit-refused,
 * first-keyframe, reconnecting, reconnected, resumed, removed, error,
 * summary). Commands on stdin, one per line: `remove PEER_ID`
 * (committer), `approve PEER_ID` / `deny PEER_ID [REASON]` (knocks),
 * `invite [PEER_ID]` (prints a token), `allow PEER_ID` (owner), `leave`,
 * `end` (owner: ends the stream for everyone), `stop`, `pause` / `resume`
 * (stop and restart reading media; events paused / media-resumed), `stats`.
 */
import '../polyfill.js'
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { FabricClient } from '../client/client.js'
import { isWebUrl, WebRtcClient } from '../client/webrtc-client.js'
import { runWebCommand } from './web-command.js'
import { frameHash } from './frame-hash.js'
import type { KnockRequest } from '../client/committer.js'
import { FabricError, isFabricError } from '../errors.js'
import { createInvitation, DEFAULT_INVITATION_LIFETIME_SECONDS } from '../session/admission/index.js'
import { loadOrCreateIdentity } from './identity-file.js'
import { watchParent } from './parent-watch.js'
import { versionText } from './version.js'
import type { ReceivedFrame } from '../client/frame-decryptor.js'
import type { MemberStats, StreamMember } from '../client/stream-member.js'
import type { TrackPublisher } from '../client/track-publisher.js'
import { TrackContext } from '../wire/track.js'
import { ClipSource } from '../media/clip-source.js'
import { ClipFileError, IvfFileWriter, readVp8Clip, vp8ConvertCommand } from '../media/ivf-file.js'
import type { IvfHeader } from '../media/ivf.js'

const USAGE = `usage: fabric id --identity FILE
       fabric invite --identity FILE --stream NAME [--for PEER_ID] [--expires DURATION] [--uses N] [--owner PEER_ID]
       fabric web --node URL [--listen HOST:PORT] [--json]
       fabric join --node MULTIADDR --stream NAME (--owner PEER_ID | --create) [options]
       fabric join --node MULTIADDR --invite TOKEN [options]
  --node              the node: a multiaddr (libp2p over TCP), or the URL of its
                      web endpoint, http://HOST:PORT (WebRTC, as browsers join)
  --listen HOST:PORT  web: where to serve the member page (default 127.0.0.1:8090)
  --identity FILE     the member's identity (an Ed25519 key; created when missing); default: a fresh one
  --create            create the stream (this process becomes its owner and committer)
  --allow PEER_ID     with --create: admit this identity (repeatable)
  --inviter PEER_ID   with --create: let this member sign invitations too (repeatable)
  --knock             with --create: join requests of others reach this process (approve/deny on stdin)
  --open              with --create: admit anyone who asks
  --owner PEER_ID     the owner of the stream to join (streams are owner and name)
  --invite TOKEN      join with an invitation (it names stream and owner)
  --for PEER_ID       invite: only this identity may use the invitation
  --expires DURATION  invite: lifetime, e.g. 90s, 30m, 12h, 7d (default 7d)
  --uses N            invite: how many identities it admits (default 1)
  --publish FILE      publish a VP8 IVF clip, paced in real time
  --loop              loop the clip
  --record DIR        record every other member's video, one IVF per sender track
  --duration SECONDS  leave after this long (default: until stdin says stop / SIGINT)
  --key-log FILE      append epoch keys (debugging, like SSLKEYLOGFILE)
  --state FILE        save this member's MLS state here (secret, mode 0600); a
                      restart with the same file resumes instead of joining
  --json              JSON events on stdout, commands on stdin
  -V, --version       print the version
`

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
      state: { type: 'string' },
      json: { type: 'boolean' },
      identity: { type: 'string' },
      allow: { type: 'string', multiple: true },
      inviter: { type: 'string', multiple: true },
      knock: { type: 'boolean' },
      open: { type: 'boolean' },
      owner: { type: 'string' },
      invite: { type: 'string' },
      for: { type: 'string' },
      listen: { type: 'string' },
      expires: { type: 'string' },
      uses: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  })
  if (values.version === true) {
    process.stdout.write(await versionText('fabric'))
    return
  }
  const command = positionals[0]
  if (values.help === true || (command !== 'join' && command !== 'id' && command !== 'invite' && command !== 'web')) {
    process.stdout.write(USAGE)
    process.exitCode = values.help === true ? 0 : 2
    return
  }
  if (command === 'id') {
    if (values.identity === undefined) return usageError('fabric id needs --identity FILE')
    const { identity, created } = await loadOrCreateIdentity(values.identity)
    if (values.json === true) process.stdout.write(JSON.stringify({ event: 'id', peerId: identity.peerId, created, file: values.identity }) + '\n')
    else process.stdout.write(`${identity.peerId}\n`)
    return
  }
  if (command === 'web') {
    if (values.node === undefined) return usageError('fabric web needs --node URL (the node\'s web endpoint, http://HOST:PORT)')
    await runWebCommand({ node: values.node, listen: values.listen, json: values.json === true })
    return
  }
  if (command === 'invite') {
    if (values.identity === undefined || values.stream === undefined) return usageError('fabric invite needs --identity FILE and --stream NAME')
    const { identity } = await loadOrCreateIdentity(values.identity)
    const lifetime = values.expires === undefined ? DEFAULT_INVITATION_LIFETIME_SECONDS : parseDuration(values.expires)
    const token = createInvitation(identity, values.owner ?? identity.peerId, values.stream, {
      invitee: values.for,
      expiresAtSeconds: BigInt(Math.floor(Date.now() / 1000) + lifetime),
      maxUses: values.uses === undefined ? 1 : parsePositive('--uses', values.uses),
    })
    process.stdout.write(`${token.text}\n`)
    return
  }
  if (values.node === undefined || (values.stream === undefined && values.invite === undefined)) {
    return usageError('fabric join needs --node MULTIADDR and --stream NAME (or --invite TOKEN)')
  }
  if (values.create === true && (values.owner !== undefined || values.invite !== undefined)) {
    return usageError('--create makes this identity the owner: leave out --owner and --invite')
  }
  if (values.create !== true && values.owner === undefined && values.invite === undefined) {
    return usageError('a join names the owner it expects (--owner PEER_ID) or uses an invitation (--invite TOKEN)')
  }
  const json = values.json === true
  const human = json ? undefined : new HumanOutput()
  const say = (event: string, data: Record<string, unknown> = {}): void => {
    if (json) {
      process.stdout.write(JSON.stringify({ event, t: Date.now(), ...data }, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v) + '\n')
    } else {
      human!.event(event, data)
    }
  }

  // The clip is checked before anything connects: a file that cannot be
  // played is the user's to fix, said in one line with the fix (exit 2).
  let source: ClipSource | undefined
  let header: IvfHeader | undefined
  if (values.publish !== undefined) {
    try {
      const clip = await readVp8Clip(values.publish)
      source = ClipSource.fromIvf(clip, { loop: values.loop === true })
      header = clip.header
    } catch (err) {
      let problem: string
      let message: string
      if (err instanceof ClipFileError) {
        problem = err.problem
        message = err.message
      } else if (isFabricError(err)) {
        problem = 'not-vp8'
        message = `${values.publish} is not a playable VP8 clip (${err.message}); re-encode it with: ${vp8ConvertCommand(values.publish)}`
      } else {
        throw err
      }
      if (json) say('error', { code: problem === 'missing' || problem === 'unreadable' ? 'NOT_FOUND' : 'MALFORMED', problem, message })
      else process.stderr.write(`fabric: --publish ${message}\n`)
      process.exit(2)
    }
  }
  const identity = values.identity === undefined ? undefined : (await loadOrCreateIdentity(values.identity)).identity
  // A web endpoint (http://...) is reached over WebRTC, a multiaddr over libp2p.
  const client = isWebUrl(values.node) ? await WebRtcClient.connect({ url: values.node, identity }) : await FabricClient.connect({ node: values.node, identity })
  // --key-log: the member hands each epoch key's line out; the file is this tool's.
  const keyLogPath = values['key-log']
  const keyLog = keyLogPath === undefined ? undefined : (line: string): void => { appendFileSync(keyLogPath, line) }
  const requestedAt = Date.now()
  // --state: the member saves its MLS state and SFrame CTR reservations
  // there, and a restart with the same file resumes instead of joining.
  const statePath = values.state
  const state = statePath === undefined ? undefined : { save: (record: Uint8Array) => { saveFileAtomically(statePath, record) } }
  const savedState = statePath === undefined ? undefined : readIfPresent(statePath)
  let member: StreamMember
  try {
    member = savedState !== undefined
      ? await client.restoreStream(savedState, { keyLog, state, owner: values.owner, invitation: values.invite })
      : values.create === true
        ? await client.createStream(values.stream!, {
          keyLog,
          state,
          admission: { admission: values.open === true ? 'open' : 'closed', allow: values.allow, inviters: values.inviter, knock: values.knock === true },
        })
        : await client.joinStream(values.stream, { keyLog, state, owner: values.owner, invitation: values.invite })
  } catch (err) {
    await client.close()
    if (!isFabricError(err)) throw err
    // A refusal is an answer, not a crash: say which, and exit non-zero.
    if (json) say('error', { code: err.code, message: err.message })
    else process.stderr.write(`fabric: ${values.create === true ? 'create' : 'join'} refused: ${err.code}: ${err.message}\n`)
    process.exit(3)
  }
  const joinedAt = Date.now()
  human?.setSelf(client.identity)
  if (member.restoredAs !== undefined) say('resumed', { ...member.restoredAs, awayMs: null, restarted: true })
  say('ready', {
    identity: client.identity,
    stream: member.stream,
    owner: member.owner,
    epoch: member.epoch,
    committer: member.isCommitter,
    joinMs: joinedAt - requestedAt,
    safetyCode: member.safetyCode(),
    fingerprint: member.fingerprint(),
  })

  // Receiving: record per sender track, time to first keyframe, and (for
  // --json, whose summary proves byte identity across processes) hashes.
  const firstKeyframeMs = new Map<string, number>()
  const received: Record<string, Array<[number, string, number, string]>> = {}
  const recorders = new Map<number, Recorder>()
  let recording = true
  let removed = false
  member.on('frame', (f: ReceivedFrame) => {
    const key = `${f.sender}/${f.context}`
    if (json) (received[key] ??= []).push([f.sequence, frameHash(f.payload), f.keyframe ? 1 : 0, String(f.epoch)])
    if (f.keyframe && !firstKeyframeMs.has(key)) {
      firstKeyframeMs.set(key, Date.now() - requestedAt)
      say('first-keyframe', { sender: f.sender, context: f.context, ms: Date.now() - requestedAt, epoch: f.epoch })
    }
    if (values.record !== undefined && recording) {
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
  member.on('epoch', (e: { epoch: bigint, added: string[], removed: string[], safetyCode: string }) => { say('epoch', e) })
  member.on('roster', (members: string[]) => { say('roster', { members }) })
  member.on('commit-failed', (e: { identities: string[], error: Error }) => { say('commit-failed', { identities: e.identities, error: e.error.message }) })
  member.on('commit-refused', (e: { epoch: bigint, error: unknown }) => {
    say('commit-refused', { epoch: e.epoch, code: isFabricError(e.error) ? e.error.code : 'INTERNAL', error: String((e.error as Error)?.message ?? e.error) })
  })
  member.on('join-denied', (e: { identity: string, reason: string }) => { say('join-denied', e) })
  member.on('committer', (e) => { say('committer', { committer: e.committer, epoch: e.epoch, self: e.self }) })
  member.on('reconnecting', (e) => { say('reconnecting', e) })
  member.on('reconnected', (e) => { say('reconnected', e) })
  member.on('resumed', (e) => {
    const stats = member.stats()
    say('resumed', { ...e, droppedAway: stats.tracks.reduce((n, t) => n + t.droppedAway, 0), lostBySender: stats.lostBySender })
  })
  const knocks = new Map<string, KnockRequest>()
  member.on('knock', (k: KnockRequest) => {
    knocks.set(k.identity, k)
    say('knock', { identity: k.identity, fingerprint: member.fingerprint(k.identity) })
  })

  // Publishing: pace the clip in real time; honour keyframe requests by
  // jumping to the clip's next keyframe.
  const sent: Array<[number, string, number, string]> = []
  let publishing: Promise<void> = Promise.resolve()
  let stopPublishing = false
  if (source !== undefined) {
    const clipSource = source
    const track: TrackPublisher = member.publishTrack(0)
    publishing = (async () => {
      const start = Date.now()
      let n = 0
      while (!stopPublishing && !removed) {
        if (track.wantsKeyframe && clipSource.framesUntilKeyframe() !== 0) clipSource.requestKeyframe()
        const frame = clipSource.next()
        if (frame === undefined) break
        const wait = start + n * clipSource.frameIntervalMs - Date.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        n++
        if (stopPublishing || removed) break
        try {
          await track.sendFrame(frame.data, { keyframe: frame.keyframe })
          if (json) sent.push([track.sent - 1, frameHash(frame.data), frame.keyframe ? 1 : 0, String(member.sendEpoch)])
        } catch (err) {
          say('publish-error', { error: (err as Error).message })
          break
        }
      }
    })()
  }

  // Without --json: one progress line a second instead of per-frame detail.
  const progress = human === undefined
    ? undefined
    : setInterval(() => { human.progress(member.stats()) }, 1000)
  progress?.unref()

  let finishing: Promise<void> | undefined
  const finish = async (reason: string): Promise<void> => {
    finishing ??= (async () => {
      stopPublishing = true
      await publishing
      // Give in-flight frames a moment to arrive before the summary.
      await new Promise((resolve) => setTimeout(resolve, 300))
      if (progress !== undefined) clearInterval(progress)
      const stats = member.stats()
      // Frames still arriving (until the leave below) are not recorded into closed files.
      recording = false
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
      else if (reason === 'end') await member.end().catch((err: unknown) => { say('command-error', { cmd: 'end', error: (err as Error).message }) })
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
  watchParent(() => { void finish('signal') })
  if (json || values.knock === true) {
    const rl = createInterface({ input: process.stdin })
    rl.on('line', (line) => {
      const [cmd, arg, ...rest] = line.trim().split(/\s+/)
      if ((cmd === 'approve' || cmd === 'deny') && arg !== undefined) {
        const k = knocks.get(arg)
        knocks.delete(arg)
        if (k === undefined) say('command-error', { cmd, error: `no knock of ${arg} is waiting` })
        else if (cmd === 'approve') k.approve()
        else k.deny(rest.length > 0 ? rest.join(' ') : undefined)
      } else if (cmd === 'invite') {
        try {
          say('invitation', { token: member.invite({ invitee: arg }) })
        } catch (err) {
          say('command-error', { cmd, error: (err as Error).message })
        }
      } else if (cmd === 'allow' && arg !== undefined) {
        const rules = member.admission
        member.updateAdmission({ ...rules, allow: [...rules.allow, arg] }).then(() => { say('allowed', { identity: arg, epoch: member.epoch }) }, (err) => { say('command-error', { cmd, error: (err as Error).message }) })
      } else if (cmd === 'remove' && arg !== undefined) {
        member.removeMember(arg).then(() => { say('removed-member', { identity: arg, epoch: member.epoch }) }, (err) => { say('command-error', { cmd, error: (err as Error).message }) })
      } else if (cmd === 'leave') {
        void finish('leave')
      } else if (cmd === 'end') {
        void finish('end')
      } else if (cmd === 'stop') {
        void finish('stop')
      } else if (cmd === 'pause') {
        member.pauseMedia()
        say('paused')
      } else if (cmd === 'resume') {
        member.resumeMedia()
        say('media-resumed')
      } else if (cmd === 'stats') {
        say('stats', { stats: member.stats() })
      }
    })
  }
}

/** The last 6 characters of a peer id: enough to tell members apart in a line. */
function short (peerId: string): string {
  return peerId.slice(-6)
}

/** Track kind names by context value (TrackContext, read backwards). */
const CONTEXTS: Record<number, string> = Object.fromEntries(Object.entries(TrackContext).map(([name, value]) => [value, name]))

const REASONS: Record<string, string> = {
  duration: 'the --duration ran out',
  signal: 'stopped by a signal',
  stop: 'stopped',
  leave: 'left the stream',
  removed: 'removed from the stream',
}

/**
 * `fabric join` without --json: every event as a readable line (peer ids
 * shortened to their last 6 characters where only telling members apart
 * matters, in full where the reader has to type one back), one progress line
 * a second, and a short summary. No frame hashes: those are for --json.
 */
class HumanOutput {
  private self = ''
  private last: { at: number, sent: number, decrypted: Map<string, number> } | undefined

  setSelf (peerId: string): void { this.self = peerId }

  private name (peerId: string): string {
    return peerId === this.self ? `${short(peerId)} (you)` : short(peerId)
  }

  private line (text: string): void {
    process.stdout.write(text + '\n')
  }

  /** One event as one line (a few for ready and summary). */
  event (event: string, d: Record<string, unknown>): void {
    const s = (k: string): string => String(d[k] ?? '')
    const ids = (k: string): string[] => (d[k] as string[] | undefined) ?? []
    switch (event) {
      case 'ready':
        this.line(`${d.committer === true && d.owner === d.identity ? 'created' : 'joined'} stream "${s('stream')}" of owner ${this.name(s('owner'))} at epoch ${s('epoch')}, in ${s('joinMs')} ms`)
        this.line(`  you are ${s('identity')} (fingerprint ${s('fingerprint')})`)
        this.line(`  safety code ${s('safetyCode')}: compare it with the others out of band`)
        break
      case 'epoch': {
        const changes = [
          ...(ids('added').length > 0 ? [`added ${ids('added').map((x) => this.name(x)).join(', ')}`] : []),
          ...(ids('removed').length > 0 ? [`removed ${ids('removed').map((x) => this.name(x)).join(', ')}`] : []),
        ]
        this.line(`epoch ${s('epoch')}${changes.length > 0 ? ` (${changes.join('; ')})` : ''}: safety code ${s('safetyCode')}`)
        break
      }
      case 'roster':
        this.line(`members (${ids('members').length}): ${ids('members').map((x) => this.name(x)).join(', ')}`)
        break
      case 'knock':
        this.line(`knock: ${s('identity')} asks to join (fingerprint ${s('fingerprint')}); answer with: approve ${s('identity')}  or: deny ${s('identity')} [REASON]`)
        break
      case 'join-denied':
        this.line(`join of ${s('identity')} denied${s('reason') === '' ? '' : `: ${s('reason')}`}`)
        break
      case 'committer':
        this.line(d.self === true ? `you commit for the stream now (epoch ${s('epoch')})` : `${this.name(s('committer'))} commits for the stream now (epoch ${s('epoch')})`)
        break
      case 'reconnecting':
        this.line(`connection lost (${s('reason')}): reconnecting, attempt ${s('attempt')} in ${s('delayMs')} ms`)
        break
      case 'reconnected':
        this.line(`reconnected after ${s('awayMs')} ms (attempt ${s('attempt')})`)
        break
      case 'resumed':
        this.line(`${d.rejoined === true ? 'joined again' : 'resumed'} at epoch ${s('epoch')} after ${s('awayMs')} ms (${s('commitsReplayed')} missed Commits replayed, ${s('droppedAway')} frames not sent while away)`)
        break
      case 'commit-refused':
        this.line(`refused a Commit (staying in epoch ${s('epoch')}): ${s('code')}: ${s('error')}`)
        break
      case 'commit-failed':
        this.line(`commit for ${ids('identities').map((x) => this.name(x)).join(', ')} failed: ${s('error')}`)
        break
      case 'first-keyframe':
        this.line(`${CONTEXTS[Number(d.context)] ?? `track ${s('context')}`} of ${this.name(s('sender'))}: first keyframe ${s('ms')} ms after the join request (epoch ${s('epoch')})`)
        break
      case 'removed':
        this.line(`removed from the stream at epoch ${s('epoch')}: nothing more decrypts`)
        break
      case 'closed':
        this.line(`connection to the node closed${s('error') === '' ? '' : `: ${s('error')}`}`)
        break
      case 'invitation':
        this.line(`invitation: ${s('token')}`)
        break
      case 'allowed':
        this.line(`allowed ${s('identity')} (epoch ${s('epoch')})`)
        break
      case 'removed-member':
        this.line(`removed ${s('identity')} (epoch ${s('epoch')})`)
        break
      case 'paused':
        this.line('media paused')
        break
      case 'media-resumed':
        this.line('media resumed')
        break
      case 'publish-error':
        this.line(`publishing stopped: ${s('error')}`)
        break
      case 'record-error':
        this.line(`recording failed: ${s('error')}`)
        break
      case 'command-error':
        this.line(`${s('cmd')}: ${s('error')}`)
        break
      case 'stats':
        this.stats(d.stats as MemberStats)
        break
      case 'summary':
        this.summary(d)
        break
      default:
        this.line(`${event}: ${Object.entries(d).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`)
    }
  }

  private static sentOf (stats: MemberStats): number {
    return stats.tracks.reduce((n, t) => n + t.sent, 0)
  }

  /** The line printed each second: epoch, frames sent, frames decrypted per sender, frames per second. */
  progress (stats: MemberStats): void {
    const now = Date.now()
    const sent = HumanOutput.sentOf(stats)
    const last = this.last
    const seconds = last === undefined ? 0 : (now - last.at) / 1000
    const rate = (n: number, before: number | undefined): string => (seconds > 0 && before !== undefined ? ` (${((n - before) / seconds).toFixed(0)} fps)` : '')
    const senders = Object.entries(stats.bySender).map(([id, st]) => `${this.name(id)} ${st.decrypted}${rate(st.decrypted, last?.decrypted.get(id))}`)
    const failures = Object.values(stats.bySender).reduce((n, st) => n + st.failures, 0)
    this.line(`epoch ${stats.epoch} | sent ${sent}${rate(sent, last?.sent)} | decrypted ${senders.length === 0 ? 'nothing yet' : senders.join(', ')}${failures > 0 ? ` | ${failures} decrypt failures` : ''}`)
    this.last = { at: now, sent, decrypted: new Map(Object.entries(stats.bySender).map(([id, st]) => [id, st.decrypted])) }
  }

  private stats (stats: MemberStats): void {
    const failures = Object.values(stats.bySender).reduce((n, st) => n + st.failures, 0)
    this.line(`stats: epoch ${stats.epoch}, ${stats.members.length} members, sent ${HumanOutput.sentOf(stats)} frames, ${failures} decrypt failures, ` +
      `link refusals ${stats.link.replay + stats.link.auth + stats.link.malformed}, refused Commits ${stats.refusedCommits}, safety code ${stats.safetyCode}`)
    for (const [id, st] of Object.entries(stats.bySender)) {
      this.line(`  from ${this.name(id)}: ${st.decrypted} decrypted of ${st.received} received, ${st.beforeKeys} from before we joined, ${st.failures} failures`)
    }
  }

  private summary (d: Record<string, unknown>): void {
    const stats = d.stats as MemberStats
    const firstKf = d.firstKeyframeMs as Record<string, number>
    const recordings = d.recordings as Array<{ path: string, frames: number }>
    const reason = String(d.reason)
    this.line(`done (${REASONS[reason] ?? reason}): sent ${HumanOutput.sentOf(stats)} frames, last epoch ${stats.epoch}`)
    for (const [id, st] of Object.entries(stats.bySender)) {
      const kf = firstKf[`${id}/0`]
      this.line(`  from ${this.name(id)}: ${st.decrypted} frames decrypted of ${st.received} received, ${st.failures} decrypt failures${kf === undefined ? '' : `, first keyframe after ${kf} ms`}`)
    }
    for (const r of recordings) this.line(`  recorded ${r.frames} frames to ${r.path}`)
  }
}

function usageError (why: string): void {
  process.stderr.write(`fabric: ${why}\n${USAGE}`)
  process.exitCode = 2
}

/** Seconds in a duration like 90s, 30m, 12h, 7d (a bare number is seconds). */
function parseDuration (s: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(s.trim())
  if (m === null) throw new FabricError('MALFORMED', `--expires wants a duration like 90s, 30m, 12h or 7d, got ${s}`)
  const n = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]!]!
  if (!Number.isSafeInteger(n) || n < 1) throw new FabricError('MALFORMED', `--expires ${s} is out of range`)
  return n
}

function parsePositive (name: string, s: string): number {
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n < 1) throw new FabricError('MALFORMED', `${name} wants a positive integer, got ${s}`)
  return n
}

main(process.argv.slice(2)).catch((err) => {
  // An unknown option or a missing value is the user's to fix: one line and where to look.
  if (typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS_')) {
    process.stderr.write(`fabric: ${(err as Error).message}; see fabric --help\n`)
    process.exit(2)
  }
  // A FabricError says what went wrong in its code and text; a stack trace is for bugs.
  const text = isFabricError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err)
  process.stderr.write(`fabric: ${text}\n`)
  process.exit(isFabricError(err) ? 3 : 1)
})

/**
 * Writes `bytes` to `path` through a temporary file, fsync and a rename,
 * mode 0600, so a crash (of the process or the machine) leaves the old
 * record or the new one, never a torn one.
 */
function saveFileAtomically (path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, bytes)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

/** The file's bytes, or undefined when it does not exist. */
function readIfPresent (path: string): Uint8Array | undefined {
  try {
    return readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
