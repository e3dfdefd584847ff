/**
 * startFabric (src/fixture/fabric-fixture.ts) brings up the topologies of
 * fixtures/topologies/: the line and the misconfigured ring in this process,
 * where every link ends proved both ways and no node of the ring waits on
 * another; across the line a stream at home on one end is located from the
 * other and members on the two ends exchange a frame; the star as
 * `fabric-node` processes, whose every pid is gone after stop(), and gone
 * too when the process that started them is killed outright. Topologies
 * that name unknown nodes, link a node to itself or name one twice are
 * refused with MALFORMED.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import type { ReceivedFrame } from '../../src/client/frame-decryptor.js'
import { REPO_ROOT } from '../../src/cli/processes.js'
import { checkTopology, loadTopology, startFabric, startWaves, type Fabric } from '../../src/fixture/fabric-fixture.js'
import { codeOf } from '../codes.js'
import { until } from '../timing.js'

const WAIT_MS = 20_000
const topologyFile = (name: string): string => join(REPO_ROOT, 'fixtures', 'topologies', `${name}.json`)

/** Whether a process with this pid exists (signal 0 only checks; it throws ESRCH for none). */
const alive = (pid: number): boolean => { try { return process.kill(pid, 0) } catch { return false } }

describe('startFabric', () => {
  const fabrics: Fabric[] = []
  const clients: FabricClient[] = []

  afterAll(async () => {
    await Promise.allSettled(clients.map(async (c) => { await c.close() }))
    await Promise.allSettled(fabrics.map(async (f) => { await f.stop() }))
  }, 30_000)

  const start = async (...args: Parameters<typeof startFabric>): Promise<Fabric> => {
    const f = await startFabric(...args)
    fabrics.push(f)
    return f
  }

  it('brings up a line whose ends locate each other\'s streams, and members on the two ends exchange a frame', async () => {
    const f = await start({ topology: await loadTopology(topologyFile('line')), mode: 'in-process' })
    await f.waitConnected(WAIT_MS)
    const [a, c] = [f.byName('a'), f.byName('c')]
    const alice = await FabricClient.connect({ node: a.multiaddr })
    clients.push(alice)
    const carol = await FabricClient.connect({ node: c.multiaddr })
    clients.push(carol)
    const owner = await alice.createStream('line', { admission: { allow: [carol.identity] } })
    await f.waitLocatable('c', alice.identity, 'line', 'a', WAIT_MS)
    // Carol reaches A through C: A must hold a relay slot there, which it takes once C and A have met through the DHT.
    await until(() => a.handle!.libp2p.getMultiaddrs().some((m) => m.toString().includes(`/p2p/${c.peerId}/p2p-circuit`)), WAIT_MS, 'A reachable through C')
    const member = await carol.joinStream('line', { owner: alice.identity })
    await until(() => member.epoch === owner.epoch && member.roster.length === 2 && owner.roster.length === 2, WAIT_MS, 'one epoch, two members')
    const got: ReceivedFrame[] = []
    member.on('frame', (fr) => { got.push(fr) })
    const payload = new Uint8Array(randomBytes(900))
    await owner.publishTrack(0).sendFrame(payload, { keyframe: true })
    await until(() => got.length > 0, WAIT_MS, 'carol decrypts alice')
    expect(got[0]!.sender).toBe(alice.identity)
    expect(Buffer.from(got[0]!.payload).equals(Buffer.from(payload))).toBe(true)
  }, 60_000)

  it('brings up the misconfigured ring: one link dialled backwards, every link proved, no node stuck', async () => {
    const topology = await loadTopology(topologyFile('ring'))
    expect(startWaves(topology)).toEqual([['a'], ['d'], ['c'], ['b']])
    const f = await start({ topology, mode: 'in-process' })
    await f.waitConnected(WAIT_MS)
    expect(f.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c', 'd'])
  }, 30_000)

  it('brings up the star as fabric-node processes and leaves none alive after stop()', async () => {
    const f = await start({ topology: await loadTopology(topologyFile('star')), mode: 'processes' })
    const pids = f.nodes.map((n) => n.process!.pid)
    expect(pids).toHaveLength(5)
    expect(pids.every(alive)).toBe(true)
    await f.waitConnected(WAIT_MS)
    await f.stop()
    expect(pids.filter(alive)).toEqual([])
  }, 60_000)

  it('leaves no node process alive when the process that started them is killed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabric-crash-'))
    // .mts: outside the repository no package.json makes it a module, and it awaits at top level.
    const script = join(dir, 'crash.mts')
    // A test process that dies with SIGKILL runs no teardown: only the children's own parent watch can stop them.
    await writeFile(script, [
      `import { loadTopology, startFabric } from ${JSON.stringify(join(REPO_ROOT, 'src', 'fixture', 'fabric-fixture.ts'))}`,
      `const f = await startFabric({ topology: await loadTopology(${JSON.stringify(topologyFile('line'))}), mode: 'processes' })`,
      'console.log(JSON.stringify(f.nodes.map((n) => n.process.pid)))',
      'setInterval(() => {}, 1000)',
    ].join('\n'))
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let pids: number[] = []
    try {
      let out = ''
      let err = ''
      parent.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
      parent.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
      await until(() => out.includes('\n') || parent.exitCode !== null, WAIT_MS, 'the fabric started in a child')
      expect(parent.exitCode, err).toBe(null)
      pids = JSON.parse(out) as number[]
      expect(pids).toHaveLength(3)
      expect(pids.every(alive)).toBe(true)
      parent.kill('SIGKILL')
      await until(() => pids.every((p) => !alive(p)), WAIT_MS, 'every node process gone after its parent was killed')
    } finally {
      parent.kill('SIGKILL')
      for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL')
      await rm(dir, { recursive: true, force: true })
    }
  }, 40_000)

  it('orders a tree of 7 root first, then each level', async () => {
    expect(startWaves(await loadTopology(topologyFile('tree-7')))).toEqual([['root'], ['l', 'r'], ['ll', 'lr', 'rl', 'rr']])
  })

  it('refuses malformed topologies with MALFORMED, before starting anything', async () => {
    const bad: unknown[] = [
      { nodes: ['a', 'b'], links: [['a', 'x']] },
      { nodes: ['a', 'b'], links: [['a', 'a']] },
      { nodes: ['a', 'a'], links: [] },
      { nodes: ['a', 'b'], links: [['a', 'b'], ['b', 'a']] },
      { nodes: [], links: [] },
      { nodes: ['a'] },
      null,
    ]
    for (const t of bad) {
      expect(await codeOf(Promise.resolve().then(() => checkTopology(t))), JSON.stringify(t)).toBe('MALFORMED')
      expect(await codeOf(startFabric({ topology: t as never, mode: 'processes' })), JSON.stringify(t)).toBe('MALFORMED')
    }
    const dir = await mkdtemp(join(tmpdir(), 'fabric-topology-'))
    try {
      await writeFile(join(dir, 'not.json'), '{ nodes: ')
      expect(await codeOf(loadTopology(join(dir, 'not.json')))).toBe('MALFORMED')
      await writeFile(join(dir, 'self.json'), JSON.stringify({ nodes: ['a'], links: [['a', 'a']] }))
      expect(await codeOf(loadTopology(join(dir, 'self.json')))).toBe('MALFORMED')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
