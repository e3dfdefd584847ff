/**
 * Several nodes of one fabric started from a topology, for tests and
 * embedders (issue 10 item 7): in this process (`startNode`) or as
 * `fabric-node` processes, with a teardown that leaves no child behind.
 *
 * A topology says only who bootstraps from whom: a link `[from, to]` means
 * `from` dials `to` at start and they prove the fabric key to each other.
 * That is all a link can mean today: the media relay tree between nodes is
 * not built (docs/federation.md, section 3), so a topology shapes the
 * fabric's connections and DHT, not the path media takes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { FabricError } from '../errors.js'
import { createHost } from '../transport/libp2p/host.js'
import { libp2pDialer } from '../transport/libp2p/dialer.js'
import type { ChannelDialer } from '../transport/channel.js'
import { MAX_DIRECTORY_FRAME } from '../wire/limits.js'
import { DIRECTORY_PROTOCOL, decodeDirectoryResponse, encodeDirectoryRequest } from '../wire/messages.js'
import type { Logger } from './log.js'
import { startNode, type NodeHandle } from './node.js'

/** Nodes by name and who bootstraps from whom: `[from, to]` means `from` dials `to` at start. */
export interface Topology {
  nodes: string[]
  links: Array<[string, string]>
}

/** Options of startFabric. */
export interface StartFabricOptions {
  topology: Topology
  /** 'in-process': `startNode` in this process; 'processes': one `fabric-node start` child each. */
  mode: 'in-process' | 'processes'
  /** The fabric key every node holds (32 bytes); default fresh random bytes. */
  key?: Uint8Array
  /** In-process nodes log here, one child logger per node (`fabricNode`: its name); default silent. Processes log to their own stderr. */
  log?: Logger
}

/** One node of a started fabric. */
export interface FabricNode {
  name: string
  peerId: string
  /** The address members and other nodes dial, ending in /p2p/<peer id>. */
  multiaddr: string
  /** The node's handle, in 'in-process' mode. */
  handle?: NodeHandle
  /** The node's `fabric-node start` process, in 'processes' mode. */
  process?: NodeProcess
}

/** A `fabric-node start --json` child of this process. */
export interface NodeProcess {
  readonly pid: number
  readonly child: ChildProcess
  /** Everything it wrote on stderr so far (its JSON log lines). */
  stderr: () => string
  /** SIGTERM, then SIGKILL after graceMs; resolves once it exited. */
  stop: (graceMs: number) => Promise<void>
}

/** A started fabric; `stop()` it in every case (an afterAll, a finally). */
export interface Fabric {
  readonly nodes: FabricNode[]
  /** @throws FabricError 'MALFORMED' for a name not in the topology */
  byName: (name: string) => FabricNode
  /**
   * Resolves once both ends of every link proved the fabric key to each
   * other. In-process that is `fabric.isFabricPeer` on both handles; a
   * process is asked nothing, so there it is each end's `node_auth.accepted`
   * log line naming the other (once proved, not re-checked after a drop).
   * @throws after timeoutMs, naming the links still missing
   */
  waitConnected: (timeoutMs: number) => Promise<void>
  /**
   * Resolves once node `from` names node `home` as the home of stream
   * `owner/stream` (a member of `from` could then join it); asked as a
   * member asks, from a dial-only libp2p host this fabric keeps until stop.
   * @throws after timeoutMs, with the last answer
   */
  waitLocatable: (from: string, owner: string, stream: string, home: string, timeoutMs: number) => Promise<void>
  /** Stops every node (processes: SIGTERM, SIGKILL after 5 s) and waits for each exit; idempotent, never throws. */
  stop: () => Promise<void>
}

/** Grace a node process gets after SIGTERM before SIGKILL, ms. */
const PROCESS_STOP_GRACE_MS = 5_000
/** Longest a node process may take to print its ready line, ms. */
const PROCESS_READY_TIMEOUT_MS = 30_000
/** Pause between two polls of waitConnected and waitLocatable, ms. */
const POLL_MS = 50

/**
 * Checks a topology: names non-empty and distinct, links between known
 * names, no self link, no link twice (either way round counts once: both
 * ends of a connection prove the key to each other).
 * @throws FabricError 'MALFORMED' saying what is wrong
 */
export function checkTopology (topology: unknown): Topology {
  const t = topology as Partial<Topology> | null
  if (t === null || typeof t !== 'object' || !Array.isArray(t.nodes) || !Array.isArray(t.links)) {
    throw new FabricError('MALFORMED', 'a topology is { nodes: string[], links: [from, to][] }')
  }
  const names = new Set<string>()
  for (const n of t.nodes) {
    if (typeof n !== 'string' || n === '') throw new FabricError('MALFORMED', `node name ${JSON.stringify(n)} is not a non-empty string`)
    if (names.has(n)) throw new FabricError('MALFORMED', `node ${n} is named twice`)
    names.add(n)
  }
  if (names.size === 0) throw new FabricError('MALFORMED', 'a topology has at least one node')
  const seen = new Set<string>()
  for (const l of t.links) {
    if (!Array.isArray(l) || l.length !== 2 || typeof l[0] !== 'string' || typeof l[1] !== 'string') {
      throw new FabricError('MALFORMED', `link ${JSON.stringify(l)} is not [from, to]`)
    }
    const [from, to] = l
    for (const end of [from, to]) if (!names.has(end)) throw new FabricError('MALFORMED', `link ${from} -> ${to} names unknown node ${end}`)
    if (from === to) throw new FabricError('MALFORMED', `link ${from} -> ${to} links a node to itself`)
    const pair = [from, to].sort().join('\u0000')
    if (seen.has(pair)) throw new FabricError('MALFORMED', `nodes ${from} and ${to} are linked twice`)
    seen.add(pair)
  }
  return { nodes: [...t.nodes], links: t.links.map(([from, to]) => [from, to]) }
}

/**
 * Reads a topology file (JSON, as in fixtures/topologies/line.json) and checks it.
 * @throws FabricError 'MALFORMED' when it is not JSON or not a valid topology; the read's error when it cannot be read
 */
export async function loadTopology (path: string): Promise<Topology> {
  const text = await readFile(path, 'utf8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new FabricError('MALFORMED', `${path} is not JSON`, { cause: err })
  }
  try {
    return checkTopology(parsed)
  } catch (err) {
    throw new FabricError('MALFORMED', `${path}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * The start order, in waves started concurrently: a node starts once every
 * node it bootstraps from is up. A cycle (a ring) leaves no such node, so
 * the first remaining node in topology order starts alone without it; the
 * link it could not dial is dialled the other way round by its other end
 * when that end starts (see startFabric).
 */
export function startWaves (topology: Topology): string[][] {
  const up = new Set<string>()
  const waves: string[][] = []
  let left = [...topology.nodes]
  while (left.length > 0) {
    let wave = left.filter((n) => topology.links.every(([from, to]) => from !== n || up.has(to)))
    if (wave.length === 0) wave = [left[0]!]
    for (const n of wave) up.add(n)
    left = left.filter((n) => !up.has(n))
    waves.push(wave)
  }
  return waves
}

/**
 * Starts the nodes of `topology` as one fabric and returns once each is
 * listening (not yet connected: call `waitConnected`).
 *
 * Every link is dialled by whichever of its ends starts second: a node
 * bootstraps from the nodes already up that it links to, and from those
 * already up that link to it. Without a cycle that is always `from`
 * dialling `to`, as written; in a ring one link is dialled backwards, which
 * makes the same authenticated connection, and no node waits on another.
 *
 * In 'processes' mode each child also stops by itself when this process
 * dies (fabric-node watches its parent), and this process kills any child
 * still running when it exits; a failed start stops what it started.
 * @throws FabricError 'MALFORMED' for an invalid topology; a node's start error
 */
export async function startFabric (options: StartFabricOptions): Promise<Fabric> {
  const topology = checkTopology(options.topology)
  const key = options.key ?? new Uint8Array(randomBytes(32))
  const nodes: FabricNode[] = []
  const started = new Map<string, FabricNode>()
  let dir: string | undefined
  let probe: Libp2p | undefined
  let stopping: Promise<void> | undefined

  const killAll = (): void => {
    for (const n of nodes) if (n.process !== undefined && n.process.child.exitCode === null) n.process.child.kill('SIGKILL')
  }

  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.resolve(probe?.stop()).catch(() => {})
      await Promise.allSettled(nodes.map(async (n) => {
        await n.handle?.stop()
        await n.process?.stop(PROCESS_STOP_GRACE_MS)
      }))
      process.removeListener('exit', killAll)
      if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => {})
    })()
    await stopping
  }

  const bootstrapOf = (name: string): string[] => topology.links.flatMap(([from, to]) => {
    const other = from === name ? to : to === name ? from : undefined
    const up = other === undefined ? undefined : started.get(other)
    return up === undefined ? [] : [up.multiaddr]
  })

  try {
    let keyFile: string | undefined
    if (options.mode === 'processes') {
      process.on('exit', killAll)
      dir = await mkdtemp(join(tmpdir(), 'fabric-fixture-'))
      keyFile = join(dir, 'fabric.key')
      await writeFile(keyFile, key, { mode: 0o600 })
    }
    for (const wave of startWaves(topology)) {
      const results = await Promise.allSettled(wave.map(async (name): Promise<FabricNode> => {
        const bootstrap = bootstrapOf(name)
        if (options.mode === 'in-process') {
          const handle = await startNode({ admin: false, fabricKey: key, bootstrap, log: options.log?.child({ fabricNode: name }) })
          const node = { name, peerId: handle.peerId, multiaddr: handle.multiaddrs[0]!, handle }
          nodes.push(node)
          return node
        }
        const { proc, ready } = spawnNode(['--fabric-key', keyFile!, ...bootstrap.flatMap((b) => ['--bootstrap', b])])
        // Pushed before it is ready, so a failed start still stops it.
        const node: FabricNode = { name, peerId: '', multiaddr: '', process: proc }
        nodes.push(node)
        const r = await ready
        node.peerId = r.peerId
        node.multiaddr = r.multiaddr
        return node
      }))
      const failed = results.find((r) => r.status === 'rejected')
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
      for (const r of results) if (r.status === 'fulfilled') started.set(r.value.name, r.value)
    }
  } catch (err) {
    await stop()
    throw err
  }
  // Started wave by wave, reported in the topology's order.
  nodes.sort((x, y) => topology.nodes.indexOf(x.name) - topology.nodes.indexOf(y.name))

  const byName = (name: string): FabricNode => {
    const n = started.get(name)
    if (n === undefined) throw new FabricError('MALFORMED', `no node ${name} in this fabric`)
    return n
  }

  /** Whether `node` holds `other` as a fabric peer (processes: has logged proving it). */
  const proved = (node: FabricNode, other: FabricNode): boolean => {
    if (node.handle !== undefined) return node.handle.fabric?.isFabricPeer(other.peerId) ?? false
    return node.process!.stderr().split('\n').some((line) => line.includes('"node_auth.accepted"') && line.includes(`"${other.peerId}"`))
  }

  const waitConnected = async (timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const missing = topology.links.filter(([from, to]) => !(proved(byName(from), byName(to)) && proved(byName(to), byName(from))))
      if (missing.length === 0) return
      if (Date.now() > deadline) throw new Error(`fabric not connected within ${timeoutMs} ms: ${missing.map(([f, t]) => `${f} -> ${t}`).join(', ')} not proved both ways`)
      await sleep(POLL_MS)
    }
  }

  const waitLocatable = async (from: string, owner: string, stream: string, home: string, timeoutMs: number): Promise<void> => {
    const node = byName(from)
    const want = byName(home).peerId
    probe ??= await createHost({ listen: [] })
    const dialer = libp2pDialer(probe, multiaddr(node.multiaddr))
    const deadline = Date.now() + timeoutMs
    let last = 'no answer yet'
    for (;;) {
      try {
        const got = await askHome(dialer, owner, stream, Math.max(1, Math.min(3_000, deadline - Date.now())))
        if (got === want) return
        last = `located at ${got}`
      } catch (err) {
        last = (err as Error).message
      }
      if (Date.now() > deadline) throw new Error(`${owner}/${stream} not located at ${home} by ${from} within ${timeoutMs} ms: ${last}`)
      await sleep(POLL_MS)
    }
  }

  return { nodes, byName, waitConnected, waitLocatable, stop }
}

/**
 * Starts `fabric-node start --json` on 127.0.0.1 with no admin endpoint
 * and JSON logs. The script sits beside this file's folder: src/cli's .ts
 * run through tsx from a checkout, dist/cli's .js in the package.
 * (src/cli/processes.ts does the same for the CLI's tests, but node/ may
 * not import cli/, the layer above it.)
 */
function spawnNode (extra: string[]): { proc: NodeProcess, ready: Promise<{ peerId: string, multiaddr: string }> } {
  const here = fileURLToPath(import.meta.url)
  const fromSource = here.endsWith('.ts')
  const script = resolve(dirname(here), '..', 'cli', fromSource ? 'fabric-node.ts' : 'fabric-node.js')
  const args = ['start', '--json', '--ephemeral', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-admin', '--log-format', 'json', '--log-level', 'info', ...extra]
  const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), script, ...args], {
    cwd: resolve(dirname(here), '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const ready = new Promise<{ peerId: string, multiaddr: string }>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { reject(new Error(`fabric-node not ready within ${PROCESS_READY_TIMEOUT_MS} ms\n${stderr.slice(-2000)}`)) }, PROCESS_READY_TIMEOUT_MS)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      for (const line of out.split('\n').slice(0, -1)) {
        let ev: { event?: string, peerId?: string, multiaddrs?: string[] }
        try { ev = JSON.parse(line) } catch { continue }
        if (ev.event !== 'ready') continue
        clearTimeout(timer)
        resolve({ peerId: ev.peerId!, multiaddr: ev.multiaddrs![0]! })
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`fabric-node exited (${child.exitCode ?? child.signalCode}) before it was ready\n${stderr.slice(-2000)}`))
    })
  })
  // Rejections after ready (its exit) are nobody's concern; before, startFabric awaits it.
  ready.catch(() => {})
  const stop = async (graceMs: number): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }
  return { proc: { pid: child.pid!, child, stderr: () => stderr, stop }, ready }
}

/**
 * One directory `locate` call, as a member's client makes it
 * (src/client/directory-client.ts; node/ may not import client/, the
 * layer above it): the home the node names, '' when none.
 * @throws on a refusal, a dial failure or after timeoutMs
 */
async function askHome (node: ChannelDialer, owner: string, stream: string, timeoutMs: number): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs)
  const channel = await node.open(DIRECTORY_PROTOCOL, { maxFrameLength: MAX_DIRECTORY_FRAME }, signal)
  const onAbort = (): void => { channel.abort(new Error(`locate took over ${timeoutMs} ms`)) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await channel.send(encodeDirectoryRequest({ locate: { owner, stream } }))
    await channel.close()
    const response = decodeDirectoryResponse(await channel.next())
    if (response.error !== undefined) throw new Error(`directory refused: ${response.error.code}: ${response.error.message}`)
    return response.home
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
