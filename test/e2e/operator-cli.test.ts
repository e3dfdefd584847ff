/**
 * fabric-node and fabric as an operator runs them, as real processes:
 * configuration from a file, the environment and flags (checked with
 * `fabric-node config --json` and with a node that starts), --version, and
 * each refusal: one line `fabric-node: ...` naming the fix, exit code 2,
 * nothing left running. Only 127.0.0.1 and port 0.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnTs, startNodeProcess, type NodeProc, type Proc } from '../../src/cli/processes.js'

const NODE = 'src/cli/fabric-node.ts'
let dir: string
const procs: Proc[] = []

/** Spawns a tool, remembering it so afterAll stops it whatever happens. */
function spawn (script: string, args: string[], env: Record<string, string | undefined> = {}): Proc {
  const p = spawnTs(script, script, args, env)
  procs.push(p)
  return p
}

/** Runs a command that should end by itself within 30 s. */
async function run (script: string, args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const p = spawn(script, args, env)
  const code = await Promise.race([p.exited, new Promise<never>((_, reject) => setTimeout(() => { reject(new Error(`${args.join(' ')} did not exit\n${p.stderr}`)) }, 30_000))])
  return { code, stdout: p.stdoutText, stderr: p.stderr }
}

/** A refused start: exit 2, no ready line, and a last stderr line `fabric-node: ...`. */
async function refused (args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const r = await run(NODE, args, env)
  expect(r.code, r.stderr).toBe(2)
  expect(r.stdout).not.toContain('"ready"')
  expect(r.stderr).not.toMatch(/\n\s+at /)
  const last = r.stderr.trimEnd().split('\n').at(-1)!
  expect(last).toMatch(/^fabric-node: /)
  return last
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fabric-operator-'))
})

afterAll(async () => {
  await Promise.all(procs.map(async (p) => await p.stop()))
  await rm(dir, { recursive: true, force: true })
})

describe('configuration: file < environment < flag', () => {
  const yaml = [
    '# fabric-node configuration',
    'listen: /ip4/127.0.0.1/tcp/0',
    'noAdmin: true',
    'announce:',
    '  - /dns4/file.example/tcp/4100',
    'queueBytes: 65536',
    'maxMembers: 5',
    'logLevel: debug',
    '',
  ].join('\n')
  const env = { FABRIC_ANNOUNCE: '/dns4/env.example/tcp/4100', FABRIC_MAX_MEMBERS: '6', FABRIC_EPHEMERAL: '1', FABRIC_LOG_LEVEL: 'warn' }
  const flags = ['--announce', '/dns4/flag.example/tcp/4100', '--log-level', 'error']

  it('fabric-node config --json shows each effective value and its source', async () => {
    const file = join(dir, 'fabric.yaml')
    await writeFile(file, yaml)
    const r = await run(NODE, ['config', '--json', '--config', file, ...flags], env)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { configFile: string, options: Record<string, { value: unknown, source: string }> }
    expect(out.configFile).toBe(file)
    const o = out.options
    expect(o.announce).toMatchObject({ value: ['/dns4/flag.example/tcp/4100'], source: 'flag' })
    expect(o.logLevel).toMatchObject({ value: 'error', source: 'flag' })
    expect(o.maxMembers).toMatchObject({ value: 6, source: 'env' })
    expect(o.ephemeral).toMatchObject({ value: true, source: 'env' })
    expect(o.queueBytes).toMatchObject({ value: 65536, source: 'file' })
    expect(o.noAdmin).toMatchObject({ value: true, source: 'file' })
    expect(o.maxStreams).toMatchObject({ value: 1024, source: 'default' })

    // YAML by default, every value with its source beside it; FABRIC_CONFIG names the file too.
    const y = await run(NODE, ['config', ...flags], { ...env, FABRIC_CONFIG: file })
    expect(y.code, y.stderr).toBe(0)
    expect(y.stdout).toContain('maxMembers: 6 # env FABRIC_MAX_MEMBERS')
    expect(y.stdout).toContain(`queueBytes: 65536 # file ${file}`)
    expect(y.stdout).toContain('logLevel: error # flag --log-level')
  })

  it('a node started with them follows them: announce from the flag, ephemeral from env, no admin from the file', async () => {
    const file = join(dir, 'fabric-start.yaml')
    await writeFile(file, yaml)
    const p = spawn(NODE, ['start', '--json', '--config', file, ...flags], env)
    const ready = await p.waitFor((e) => e.event === 'ready', 30_000, 'ready')
    expect(ready.multiaddrs).toEqual([`/dns4/flag.example/tcp/4100/p2p/${String(ready.peerId)}`])
    expect(ready.dataDir).toBeUndefined()
    expect(ready.adminUrl).toBeUndefined()
    expect(ready).toMatchObject({ logLevel: 'error', configFile: file, version: '0.1.0' })
    // error level: the info line of the start is not written.
    expect(p.stderr).not.toContain('node.started')
    await p.stop()
  })

  it('the admin token is never printed by config', async () => {
    const dataDir = join(dir, 'token-node')
    const node = await startNodeProcess({ dataDir })
    try {
      const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()
      const r = await run(NODE, ['config', '--data-dir', dataDir])
      expect(r.code).toBe(0)
      expect(r.stdout + r.stderr).not.toContain(token)
    } finally {
      await node.proc.stop()
    }
  })

  it('warns of a misspelt FABRIC_ variable, naming the one meant', async () => {
    const r = await run(NODE, ['config', '--json'], { FABRIC_QUEUE_BYTE: '5' })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('fabric-node: warning: FABRIC_QUEUE_BYTE is not a fabric-node variable and is ignored; did you mean FABRIC_QUEUE_BYTES?')
  })
})

describe('--version', () => {
  it('both tools print their name and the package version, exit 0', async () => {
    const [node, member, short] = await Promise.all([run(NODE, ['--version']), run('src/cli/fabric.ts', ['--version']), run(NODE, ['-V'])])
    const version = (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version
    expect(node.code).toBe(0)
    expect(node.stdout.split('\n')[0]).toBe(`fabric-node ${version}`)
    expect(node.stdout.split('\n')[1]).toMatch(/^node v\d+/)
    expect(member.code).toBe(0)
    expect(member.stdout.split('\n')[0]).toBe(`fabric ${version}`)
    expect(short.stdout.split('\n')[0]).toBe(`fabric-node ${version}`)
  })
})

describe('refusals name the fix, exit 2, leave nothing running', () => {
  let first: NodeProc | undefined
  afterAll(async () => { await first?.proc.stop() })

  it('a data dir in use by another node', async () => {
    const dataDir = join(dir, 'shared')
    first = await startNodeProcess({ dataDir })
    const line = await refused(['start', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0', '--data-dir', dataDir])
    expect(line).toBe(`fabric-node: --data-dir: ${dataDir} is in use by another fabric-node (pid ${first.proc.child.pid}); stop it or use another data directory`)
    // The first node is untouched.
    const res = await fetch(`${first.adminUrl}/healthz`)
    expect(res.status).toBe(200)
  })

  it('a listen port another process holds', async () => {
    first ??= await startNodeProcess()
    const taken = first.addr.replace(/\/p2p\/.*$/, '')
    const line = await refused(['start', '--ephemeral', '--listen', taken, '--admin', '127.0.0.1:0'])
    expect(line).toContain(`fabric-node: --listen: ${taken} cannot be bound (listen EADDRINUSE`)
    expect(line).toContain('another process holds that port; stop it or listen on another port')
  })

  it('a dead upstream: dialled once at start, then the node stops', async () => {
    const gone = await startNodeProcess()
    await gone.proc.stop()
    const line = await refused(['start', '--ephemeral', '--listen', '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0', '--upstream', gone.addr])
    expect(line).toContain(`fabric-node: --upstream: cannot reach ${gone.addr} (`)
    expect(line).toContain('ECONNREFUSED')
    expect(line).toContain('start that node first or fix the address')
  })

  it('a fabric key other users can read', async () => {
    const keyFile = join(dir, 'open-fabric.key')
    await writeFile(keyFile, new Uint8Array(32).fill(7), { mode: 0o644 })
    await chmod(keyFile, 0o644)
    const line = await refused(['start', '--ephemeral', '--listen', '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0', '--fabric-key', keyFile])
    expect(line).toBe(`fabric-node: --fabric-key: ${keyFile} is readable by other users (mode 644); run chmod 600 ${keyFile}`)
  })

  it('each malformed option, before anything binds', async () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['start', '--listen', '127.0.0.1:4101'], {}, 'fabric-node: --listen: "127.0.0.1:4101" is not a multiaddr; write /ip4/127.0.0.1/tcp/4101'],
      [['start', '--listen', '/ip4/127.0.0.1/tcp/0/ws'], {}, 'fabric-node: --listen: /ip4/127.0.0.1/tcp/0/ws: /ws is not supported; a node listens on TCP only, such as /ip4/127.0.0.1/tcp/0'],
      [['start', '--upstream', '/ip4/127.0.0.1/tcp/0'], {}, 'fabric-node: --upstream: /ip4/127.0.0.1/tcp/0 names no peer; end it with /p2p/<the upstream node\'s peer id>'],
      [['start', '--trusted-relay', 'notapeerid'], {}, 'fabric-node: --trusted-relay: "notapeerid" is not a peer id; use the id the other node prints at start'],
      [['start', '--queue-bytes', 'abc'], {}, 'fabric-node: --queue-bytes: expected a positive integer, got "abc"'],
      [['start'], { FABRIC_MAX_STREAMS: '-1' }, 'fabric-node: FABRIC_MAX_STREAMS: expected a positive integer, got "-1"'],
      [['start', '--queue-byts', '4'], {}, 'fabric-node: unknown option --queue-byts (did you mean --queue-bytes?); run fabric-node --help'],
      [['start', '--admin', '4100'], {}, 'fabric-node: --admin: "4100" is not HOST:PORT; write one such as 127.0.0.1:4100'],
      [['start', '--admin-host', 'http://fabric.internal'], {}, 'fabric-node: --admin-host: "http://fabric.internal" is not a host name or address; give the name alone'],
      [['strat'], {}, 'fabric-node: unknown command "strat" (did you mean start?); the commands are start and config; run fabric-node --help'],
      [['start', '--config', join(dir, 'missing.yaml')], {}, `fabric-node: --config: cannot read ${join(dir, 'missing.yaml')} (ENOENT)`],
    ]
    const lines = await Promise.all(cases.map(async ([args, env]) => await refused([...args, '--ephemeral'], env)))
    lines.forEach((line, i) => { expect(line).toContain(cases[i][2]) })
  })

  it('a config file with a misspelt key, or that is not YAML', async () => {
    const typo = join(dir, 'typo.yaml')
    await writeFile(typo, 'listen: /ip4/127.0.0.1/tcp/0\nqueueByts: 65536\n')
    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, 'listen: [/ip4/127.0.0.1/tcp/0\nqueueBytes: 1\n')
    const wrongType = join(dir, 'type.yaml')
    await writeFile(wrongType, 'queueBytes: abc\n')
    const [a, b, c] = await Promise.all([
      refused(['start', '--ephemeral', '--config', typo]),
      refused(['start', '--ephemeral', '--config', bad]),
      refused(['config', '--config', wrongType]),
    ])
    expect(a).toBe(`fabric-node: ${typo}: queueByts: unknown key; did you mean queueBytes?`)
    expect(b).toMatch(new RegExp(`^fabric-node: ${bad}: not valid YAML: .* at line \\d+, column \\d+$`))
    expect(c).toBe(`fabric-node: ${wrongType}: queueBytes: expected a positive integer, got "abc"`)
  })
})
