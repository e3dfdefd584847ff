/**
 * Runs fabric-node and fabric member processes as real OS processes and
 * follows their JSON-line events: used by the demo and the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (this file is src/cli/processes.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** One JSON event a process printed. */
export type ProcEvent = Record<string, unknown> & { event: string, t?: number }

/** A child process speaking JSON lines on stdout. */
export class Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly events: ProcEvent[] = []
  stderr = ''
  /** Everything the process printed on stdout. */
  stdoutText = ''
  readonly exited: Promise<number | null>
  private waiters: Array<{ pred: (e: ProcEvent) => boolean, resolve: (e: ProcEvent) => void }> = []

  constructor (name: string, child: ChildProcess) {
    this.name = name
    this.child = child
    let buf = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (data: string) => {
      buf += data
      this.stdoutText += data
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line.trim() === '') continue
        let ev: ProcEvent
        try { ev = JSON.parse(line) as ProcEvent } catch { continue }
        this.events.push(ev)
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(ev)) return true
          w.resolve(ev)
          return false
        })
      }
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (data: string) => { this.stderr += data })
    this.exited = new Promise((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  }

  /**
   * Resolves with the first event (already seen or future) matching `pred`.
   * @throws after timeoutMs, or when the process exits first
   */
  async waitFor (pred: (e: ProcEvent) => boolean, timeoutMs = 30_000, what = 'event'): Promise<ProcEvent> {
    const seen = this.events.find(pred)
    if (seen !== undefined) return seen
    return await new Promise<ProcEvent>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.stderr.slice(-2000)}`)) }, timeoutMs)
      const w = { pred, resolve: (e: ProcEvent) => { clearTimeout(timer); resolve(e) } }
      this.waiters.push(w)
      void this.exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`${this.name} exited (${code}) before ${what}\n${this.stderr.slice(-2000)}`))
      })
    })
  }

  /** Writes one command line to the process's stdin. */
  send (line: string): void { this.child.stdin!.write(line + '\n') }

  /** True until the process has exited. */
  get running (): boolean { return this.child.exitCode === null && this.child.signalCode === null }

  /**
   * Sends `signal` without waiting (SIGKILL, SIGSTOP, SIGCONT, ...); does
   * nothing once the process has exited.
   */
  signal (signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal)
  }

  /** Sends a signal and waits for the exit, killing after graceMs. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode
    this.child.kill(signal)
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, graceMs)
    const code = await this.exited
    clearTimeout(timer)
    return code
  }
}

/**
 * Starts `node --import tsx <script> ...args` from the repo root. Extra Node
 * flags for every child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which
 * NODE_OPTIONS refuses) come from FABRIC_CHILD_NODE_ARGS, space-separated.
 * `env` is added to this process's environment (a value undefined removes the variable).
 */
export function spawnTs (name: string, script: string, args: string[], env: Record<string, string | undefined> = {}): Proc {
  const nodeArgs = (process.env.FABRIC_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', resolve(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries({ ...process.env, NODE_NO_WARNINGS: '1', ...env }).filter(([, v]) => v !== undefined)),
  })
  return new Proc(name, child)
}

/** A node process that is listening. */
export interface NodeProc {
  proc: Proc
  peerId: string
  addr: string
  adminUrl: string
  /** Bearer token of the admin endpoint, read from the file the ready event names. */
  adminToken: string
  /** The web endpoint's base URL, when the node was started with --web. */
  webUrl?: string
}

/**
 * Starts `fabric-node start --json` and waits until every listener is bound.
 * It listens on `listen` (default 127.0.0.1, port 0: give the port it had to
 * restart it where its members look), ephemeral unless `dataDir` is given.
 * @throws when the node exits first, is not ready within 30 s (it is killed), or its admin token file cannot be read
 */
export async function startNodeProcess (opts: { trafficCapture?: string, dataDir?: string, listen?: string, extra?: string[] } = {}): Promise<NodeProc> {
  const args = ['start', '--json', '--listen', opts.listen ?? '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0']
  args.push(...(opts.dataDir === undefined ? ['--ephemeral'] : ['--data-dir', opts.dataDir]))
  if (opts.trafficCapture !== undefined) args.push('--traffic-capture', opts.trafficCapture)
  args.push(...(opts.extra ?? []))
  const proc = spawnTs('node', 'src/cli/fabric-node.ts', args)
  let ready: ProcEvent
  try {
    ready = await proc.waitFor((e) => e.event === 'ready', 30_000, 'ready')
  } catch (err) {
    // Nobody else holds the process to kill it.
    await proc.stop('SIGKILL')
    throw err
  }
  // Read at once: an ephemeral node's token file goes when the node stops.
  // No file means --no-admin was passed, and there is nothing to call.
  const tokenFile = ready.adminTokenFile as string | undefined
  let adminToken = ''
  try {
    if (tokenFile !== undefined) adminToken = (await readFile(tokenFile, 'utf8')).trim()
  } catch (err) {
    await proc.stop()
    throw err
  }
  return { proc, peerId: ready.peerId as string, addr: (ready.multiaddrs as string[])[0], adminUrl: ready.adminUrl as string, adminToken, ...(typeof ready.webUrl === 'string' ? { webUrl: ready.webUrl } : {}) }
}

/** The TCP port of a multiaddr such as /ip4/127.0.0.1/tcp/PORT/p2p/ID. @throws when it has none */
export function tcpPort (addr: string): number {
  const m = /\/tcp\/(\d+)/.exec(addr)
  if (m === null) throw new Error(`${addr} has no TCP port`)
  return Number(m[1])
}

/** Options of a member process. */
export interface MemberSpec {
  name: string
  node: string
  /** Stream name; may be left out with `invite` (the token names it). */
  stream?: string
  create?: boolean
  /** Identity file (`fabric id`); default a fresh identity per process. */
  identity?: string
  /** With create: identities to admit. */
  allow?: string[]
  /** With create: members who may invite. */
  inviters?: string[]
  /** With create: send join requests of others to this process as knocks. */
  knock?: boolean
  /** With create: admit anyone. */
  open?: boolean
  /** The owner the joiner expects. */
  owner?: string
  /** An invitation token to join with. */
  invite?: string
  publish?: string
  loop?: boolean
  record?: string
  keyLog?: string
  /** Where the member saves its MLS state; a restart with the same file resumes (`fabric join --state`). */
  state?: string
}

/** The `fabric join --json` arguments of a member spec. */
export function memberArgs (spec: MemberSpec): string[] {
  const args = ['join', '--json', '--node', spec.node]
  if (spec.stream !== undefined) args.push('--stream', spec.stream)
  if (spec.create === true) args.push('--create')
  if (spec.identity !== undefined) args.push('--identity', spec.identity)
  for (const id of spec.allow ?? []) args.push('--allow', id)
  for (const id of spec.inviters ?? []) args.push('--inviter', id)
  if (spec.knock === true) args.push('--knock')
  if (spec.open === true) args.push('--open')
  if (spec.owner !== undefined) args.push('--owner', spec.owner)
  if (spec.invite !== undefined) args.push('--invite', spec.invite)
  if (spec.publish !== undefined) args.push('--publish', spec.publish)
  if (spec.loop === true) args.push('--loop')
  if (spec.record !== undefined) args.push('--record', spec.record)
  if (spec.keyLog !== undefined) args.push('--key-log', spec.keyLog)
  if (spec.state !== undefined) args.push('--state', spec.state)
  return args
}

/** A member process that is in the stream. */
export interface MemberProc {
  name: string
  proc: Proc
  identity: string
  ready: ProcEvent
}

/** Starts `fabric join --json ...` without waiting for it to get in (its `ready` event says so). */
export function spawnMember (spec: MemberSpec): Proc {
  return spawnTs(spec.name, 'src/cli/fabric.ts', memberArgs(spec))
}

/** Starts `fabric join --json ...` and waits until it is in the stream. @throws when it is not (the process is killed) */
export async function startMember (spec: MemberSpec, timeoutMs = 60_000): Promise<MemberProc> {
  const proc = spawnMember(spec)
  let ready: ProcEvent
  try {
    ready = await proc.waitFor((e) => e.event === 'ready', timeoutMs, 'ready')
  } catch (err) {
    // Nobody else holds the process to kill it.
    await proc.stop('SIGKILL')
    throw err
  }
  return { name: spec.name, proc, identity: ready.identity as string, ready }
}

/**
 * Starts a `fabric join --json` that is expected to be refused, and
 * resolves with its `error` event and exit code once it exits.
 * @throws when it gets in (prints `ready`) or does not exit in time
 */
export async function startRefusedMember (spec: MemberSpec, timeoutMs = 60_000): Promise<{ proc: Proc, code: string, message: string, exitCode: number | null }> {
  const proc = spawnTs(spec.name, 'src/cli/fabric.ts', memberArgs(spec))
  const outcome = await Promise.race([
    proc.waitFor((e) => e.event === 'error' || e.event === 'ready', timeoutMs, 'error'),
    proc.exited.then(() => undefined),
  ])
  if (outcome?.event === 'ready') {
    await proc.stop()
    throw new Error(`${spec.name} was admitted, expected a refusal`)
  }
  const exitCode = await Promise.race([proc.exited, sleep(timeoutMs).then(() => { throw new Error(`${spec.name} did not exit after its refusal`) })])
  const error = proc.events.find((e) => e.event === 'error')
  return { proc, code: String(error?.code ?? ''), message: String(error?.message ?? proc.stderr), exitCode }
}

/** Runs `fabric id --identity FILE` and returns the peer id it prints. */
export async function memberIdentity (file: string): Promise<string> {
  const proc = spawnTs('id', 'src/cli/fabric.ts', ['id', '--json', '--identity', file])
  const ev = await proc.waitFor((e) => e.event === 'id', 30_000, 'id')
  await proc.exited
  return ev.peerId as string
}

/** Runs `fabric invite ...` and returns the token it prints. */
export async function inviteToken (args: { identity: string, stream: string, for?: string, expires?: string, uses?: number, owner?: string }): Promise<string> {
  const argv = ['invite', '--identity', args.identity, '--stream', args.stream]
  if (args.for !== undefined) argv.push('--for', args.for)
  if (args.expires !== undefined) argv.push('--expires', args.expires)
  if (args.uses !== undefined) argv.push('--uses', String(args.uses))
  if (args.owner !== undefined) argv.push('--owner', args.owner)
  const proc = spawnTs('invite', 'src/cli/fabric.ts', argv)
  const code = await proc.exited
  // The token is a plain line, not a JSON event.
  const out = proc.stdoutText.trim()
  if (code !== 0 || out === '') throw new Error(`fabric invite failed (${code}): ${proc.stderr}`)
  return out
}

/**
 * GETs the node's /api/v1/stats with its admin token.
 * @throws on a status other than 200 (with the node's reason), or a body that is not JSON
 */
export async function nodeStats (node: { adminUrl: string, adminToken: string }): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${node.adminUrl}/api/v1/stats`, { headers: { authorization: `Bearer ${node.adminToken}` } })
  if (res.status !== 200) throw new Error(`GET ${node.adminUrl}/api/v1/stats: ${res.status} ${(await res.text()).trim()}`)
  return await res.json()
}

/** Sleeps `ms`. */
export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
