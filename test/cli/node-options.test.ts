/**
 * The option table of fabric-node (node-options.ts): generated names,
 * precedence flag > env > file > default with provenance, file validation,
 * and the one-line refusals.
 */
import { readFileSync } from 'node:fs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { checkNodeConfig, ConfigError, listenFailure } from '../../src/node/config-checks.js'
import {
  closest, effectiveConfigJson, effectiveConfigYaml, envName, fileKey, NODE_OPTIONS, parseConfigFile, parseNodeArgs,
  resolveNodeOptions, SOURCES, UsageError, type NodeOption, type OptionValue, type ResolvedNodeOptions, type Source,
} from '../../src/cli/node-options.js'
import { REPO_ROOT } from '../../src/cli/processes.js'

const CONTEXT = { homeDir: '/home/op', stderrIsTTY: false }

let peers: string[] = []
beforeAll(async () => {
  peers = await Promise.all([1, 2, 3].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
})

/** How the option table's values look from each source. */
function asArgv (o: NodeOption, v: OptionValue): string[] {
  if (o.type === 'boolean') return v === true ? [`--${o.flag}`] : []
  if (Array.isArray(v)) return v.flatMap((x) => [`--${o.flag}`, x])
  return [`--${o.flag}`, String(v)]
}
function asEnv (v: OptionValue): string {
  return Array.isArray(v) ? v.join(',') : String(v)
}

/** Values each option accepts (its check passes). */
function valueOf (o: NodeOption): fc.Arbitrary<OptionValue> {
  const port = fc.integer({ min: 1, max: 65535 })
  const oneOrMore = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { minLength: 1, maxLength: 3 })
  switch (o.flag) {
    case 'listen': return oneOrMore(port.map((p) => `/ip4/127.0.0.1/tcp/${p}`))
    case 'announce': return oneOrMore(fc.tuple(fc.constantFrom('a', 'b', 'nat'), port).map(([h, p]) => `/dns4/${h}.example/tcp/${p}`))
    case 'admin-host': return oneOrMore(fc.constantFrom('fabric-1.internal', '10.0.0.5', 'localhost2'))
    case 'trusted-relay': return oneOrMore(fc.constantFrom(...peers))
    case 'upstream': return fc.tuple(port, fc.constantFrom(...peers)).map(([p, id]) => `/ip4/127.0.0.1/tcp/${p}/p2p/${id}`)
    case 'bootstrap': return oneOrMore(fc.tuple(port, fc.constantFrom(...peers)).map(([p, id]) => `/ip4/127.0.0.1/tcp/${p}/p2p/${id}`))
    case 'fabric-allow': return oneOrMore(fc.constantFrom(...peers))
    case 'fabric-key': return fc.stringMatching(/^\/[a-z]{1,8}(\/[a-z0-9]{1,8}){0,2}$/)
    case 'admin': case 'web': return port.map((p) => `127.0.0.1:${p}`)
    case 'web-ice-host': return oneOrMore(fc.constantFrom('127.0.0.1', '10.0.0.5', '203.0.113.7'))
    case 'web-ice-ports': return fc.tuple(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 5_000 })).map(([a, n]) => `${a}-${a + n}`)
    case 'data-dir': case 'traffic-capture': return fc.stringMatching(/^\/[a-z]{1,8}(\/[a-z0-9]{1,8}){0,2}$/)
    default:
      if (o.type === 'choice') return fc.constantFrom(...o.choices!)
      if (o.type === 'int') return fc.integer({ min: 1, max: o.max ?? 2 ** 40 })
      if (o.type === 'boolean') return fc.boolean()
      throw new Error(`no generator for --${o.flag}`)
  }
}

// Off switches set together with what they cancel refuse when the sources tie; tested apart.
const INDEPENDENT = NODE_OPTIONS.filter((o) => o.flag !== 'ephemeral' && o.flag !== 'no-admin')

/** One option set in some sources, each with its own value. */
const placement = fc.constantFrom(...INDEPENDENT).chain((o) => fc.record({
  option: fc.constant(o),
  values: fc.record({ flag: fc.option(valueOf(o), { nil: undefined }), env: fc.option(valueOf(o), { nil: undefined }), file: fc.option(valueOf(o), { nil: undefined }) }),
}))

/** Resolves the placements given as a real command line, environment and YAML file. */
function resolvePlaced (placed: Array<{ option: NodeOption, values: Partial<Record<Source, OptionValue>> }>): ResolvedNodeOptions {
  const argv = ['start']
  const env: Record<string, string> = {}
  const file: Record<string, unknown> = {}
  for (const { option, values } of placed) {
    if (values.flag !== undefined) argv.push(...asArgv(option, values.flag))
    if (values.env !== undefined) env[envName(option.flag)] = asEnv(values.env)
    if (values.file !== undefined) file[fileKey(option.flag)] = values.file
  }
  return resolveNodeOptions({ args: parseNodeArgs(argv), env, file: { name: 'fabric.yaml', text: stringify(file) }, context: CONTEXT })
}

describe('names', () => {
  it('are generated from the flag: FABRIC_ + upper snake case, camelCase file key, all distinct', () => {
    expect(envName('queue-bytes')).toBe('FABRIC_QUEUE_BYTES')
    expect(envName('data-dir')).toBe('FABRIC_DATA_DIR')
    expect(fileKey('queue-bytes')).toBe('queueBytes')
    expect(fileKey('listen')).toBe('listen')
    for (const o of NODE_OPTIONS) {
      expect(envName(o.flag)).toMatch(/^FABRIC_[A-Z0-9_]+$/)
      expect(fileKey(o.flag).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).toBe(o.flag)
    }
    for (const names of [NODE_OPTIONS.map((o) => o.flag), NODE_OPTIONS.map((o) => envName(o.flag)), NODE_OPTIONS.map((o) => fileKey(o.flag))]) {
      expect(new Set(names).size).toBe(NODE_OPTIONS.length)
    }
  })

  it('every quota flag has a variable and a file key (property: each source alone gives the same value)', () => {
    fc.assert(fc.property(placement, ({ option, values }) => {
      const v = values.flag ?? values.env ?? values.file
      if (v === undefined || (option.type === 'boolean' && v === false)) return
      const by = (source: Source): ResolvedNodeOptions => resolvePlaced([{ option, values: { [source]: v } }])
      for (const source of ['flag', 'env', 'file'] as const) {
        const s = by(source).settings.find((x) => x.option === option)!
        expect(s.value).toEqual(v)
        expect(s.source).toBe(source)
        expect(s.name).toBe(source === 'flag' ? `--${option.flag}` : source === 'env' ? envName(option.flag) : fileKey(option.flag))
      }
    }), { numRuns: 150 })
  })

  it('the operator guide names every flag and its variable rule', () => {
    const guide = readFileSync(`${REPO_ROOT}/docs/operator.md`, 'utf8')
    for (const o of NODE_OPTIONS) expect(guide, `--${o.flag}`).toContain(`--${o.flag}`)
    expect(guide).toContain('FABRIC_QUEUE_BYTES')
  })
})

describe('precedence', () => {
  it('property: an option set in any subset of flag/env/file takes the highest-precedence one, else the default', () => {
    fc.assert(fc.property(fc.uniqueArray(placement, { selector: (p) => p.option.flag, maxLength: 6 }), (placed) => {
      const resolved = resolvePlaced(placed)
      for (const s of resolved.settings) {
        const p = placed.find((x) => x.option === s.option)
        // A boolean false given as a flag is no flag at all.
        const given = SOURCES.filter((src) => src !== 'default' && p?.values[src] !== undefined && !(src === 'flag' && p.values.flag === false))
        const top = given[0] ?? 'default'
        expect(s.source, s.option.flag).toBe(top)
        if (top !== 'default') expect(s.value).toEqual(p!.values[top])
      }
    }), { numRuns: 200 })
  })

  it('flows into the NodeConfig: quotas, lists, admin and log', () => {
    const r = resolveNodeOptions({
      args: parseNodeArgs(['start', '--max-members', '7', '--announce', '/dns4/flag.example/tcp/4100']),
      env: { FABRIC_QUEUE_BYTES: '4096', FABRIC_ANNOUNCE: '/dns4/env.example/tcp/1', FABRIC_LOG_LEVEL: 'debug', FABRIC_LISTEN: '/ip4/127.0.0.1/tcp/0, /ip6/::1/tcp/0' },
      file: { name: 'fabric.yaml', text: 'queueBytes: 1\nadmin: 127.0.0.1:9464\nmaxStreams: 3\n' },
      context: CONTEXT,
    })
    expect(r.config).toMatchObject({
      listen: ['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0'],
      announce: ['/dns4/flag.example/tcp/4100'],
      dataDir: '/home/op/.fabric/node',
      admin: { host: '127.0.0.1', port: 9464 },
      group: { maxMembers: 7, maxStreams: 3 },
      relay: { subscriberQueueBytes: 4096 },
    })
    expect(r.logLevel).toBe('debug')
    expect(r.logFormat).toBe('json')
    expect(resolveNodeOptions({ args: parseNodeArgs(['start']), env: {}, context: { ...CONTEXT, stderrIsTTY: true } }).logFormat).toBe('pretty')
  })

  it('an off switch wins over what it cancels from a lower source, and refuses a tie', () => {
    const run = (argv: string[], env: Record<string, string>, text: string): ResolvedNodeOptions =>
      resolveNodeOptions({ args: parseNodeArgs(['start', ...argv]), env, file: { name: 'f.yaml', text }, context: CONTEXT })
    expect(run(['--ephemeral'], {}, 'dataDir: /var/lib/fabric\n').config.dataDir).toBeUndefined()
    expect(run(['--data-dir', '/x'], {}, 'ephemeral: true\n').config.dataDir).toBe('/x')
    expect(run([], { FABRIC_EPHEMERAL: '0' }, 'ephemeral: true\n').config.dataDir).toBe('/home/op/.fabric/node')
    expect(run([], { FABRIC_NO_ADMIN: 'yes' }, 'admin: 127.0.0.1:1\n').config.admin).toBe(false)
    expect(() => run(['--no-admin', '--admin', '127.0.0.1:1'], {}, '')).toThrow('--no-admin: excludes --admin; give one of them')
    expect(() => run([], {}, 'ephemeral: true\ndataDir: /x\n')).toThrow('f.yaml: ephemeral: excludes dataDir')
  })

  it('a quota above the protocol bound it stands for is refused from any source, naming it; the bound itself is accepted', () => {
    const run = (argv: string[], env: Record<string, string>, text: string): ResolvedNodeOptions =>
      resolveNodeOptions({ args: parseNodeArgs(['start', ...argv]), env, file: { name: 'f.yaml', text }, context: CONTEXT })
    expect(() => run(['--max-pending-joins', '257'], {}, '')).toThrow('--max-pending-joins: expected at most 256 (a bound of the protocol, protocol/limits.md), got 257')
    expect(() => run([], { FABRIC_MAX_MEMBERS: '10001' }, '')).toThrow('FABRIC_MAX_MEMBERS: expected at most 10000')
    expect(() => run([], {}, 'maxPendingJoins: 1000\n')).toThrow('f.yaml: maxPendingJoins: expected at most 256')
    expect(run(['--max-pending-joins', '256'], {}, '').config.group?.maxPendingJoiners).toBe(256)
  })
})

describe('config file', () => {
  const refusal = (name: string, text: string): string => {
    try {
      parseConfigFile({ name, text })
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      return (err as Error).message
    }
    throw new Error('accepted')
  }

  it('reads YAML and JSON; a single string stands for a one-element list; empty sets nothing', () => {
    expect(parseConfigFile({ name: 'a.yml', text: 'listen: /ip4/0.0.0.0/tcp/4100\nqueueBytes: 5\nephemeral: true\n' }))
      .toEqual({ listen: ['/ip4/0.0.0.0/tcp/4100'], 'queue-bytes': 5, ephemeral: true })
    expect(parseConfigFile({ name: 'a.json', text: '{"announce": ["/dns4/x.example/tcp/1"], "logLevel": "warn"}' }))
      .toEqual({ announce: ['/dns4/x.example/tcp/1'], 'log-level': 'warn' })
    expect(parseConfigFile({ name: 'node.conf', text: '{"maxMembers": 9}' })).toEqual({ 'max-members': 9 })
    expect(parseConfigFile({ name: 'a.yaml', text: '# nothing yet\n' })).toEqual({})
  })

  it('names the file and the field, with what was expected and what was found', () => {
    expect(refusal('fabric.yaml', 'queueBytes: abc\n')).toBe('fabric.yaml: queueBytes: expected a positive integer, got "abc"')
    expect(refusal('fabric.yaml', 'queueBytes: -3\n')).toBe('fabric.yaml: queueBytes: expected a positive integer, got -3')
    expect(refusal('fabric.yaml', 'listen: [1, 2]\n')).toBe('fabric.yaml: listen: expected a string or a list of strings, got [1,2]')
    expect(refusal('fabric.yaml', 'logLevel: loud\n')).toBe('fabric.yaml: logLevel: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"')
    expect(refusal('fabric.yaml', 'ephemeral: "yes"\n')).toBe('fabric.yaml: ephemeral: expected true or false, got "yes"')
  })

  it('refuses an unknown key, naming the nearest known one', () => {
    expect(refusal('fabric.yaml', 'queueByte: 5\n')).toBe('fabric.yaml: queueByte: unknown key; did you mean queueBytes?')
    expect(refusal('fabric.yaml', 'data-dir: /x\n')).toBe('fabric.yaml: data-dir: unknown key; did you mean dataDir?')
    expect(refusal('fabric.yaml', 'colour: blue\n')).toBe('fabric.yaml: colour: unknown key')
  })

  it('refuses bad syntax and another top level in one line', () => {
    expect(refusal('fabric.yaml', 'listen: [a\nb: c: d\n')).toMatch(/^fabric\.yaml: not valid YAML: .* at line \d+, column \d+$/)
    expect(refusal('fabric.yaml', 'a: 1\na: 2\n')).toMatch(/^fabric\.yaml: not valid YAML: Map keys must be unique/)
    expect(refusal('fabric.json', '{"a": }')).toMatch(/^fabric\.json: not valid JSON: /)
    expect(refusal('fabric.yaml', '- listen\n')).toMatch(/^fabric\.yaml: expected a mapping of option keys/)
    for (const text of ['listen: [a\nb: c: d\n', 'a: 1\na: 2\n']) expect(refusal('f.yaml', text)).not.toContain('\n')
  })

  it('checks values from the file as from flags, naming the key', () => {
    expect(() => resolveNodeOptions({ args: parseNodeArgs(['start']), env: {}, file: { name: 'fabric.yaml', text: 'listen: 127.0.0.1:4101\n' }, context: CONTEXT }))
      .toThrow('fabric.yaml: listen: "127.0.0.1:4101" is not a multiaddr; write /ip4/127.0.0.1/tcp/4101')
  })
})

describe('environment', () => {
  const resolveEnv = (env: Record<string, string>): ResolvedNodeOptions => resolveNodeOptions({ args: parseNodeArgs(['start']), env, context: CONTEXT })

  it('reads lists comma-separated, booleans as 1/0 yes/no true/false on/off; empty is unset', () => {
    expect(resolveEnv({ FABRIC_LISTEN: '/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2' }).config.listen).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    for (const yes of ['1', 'true', 'YES', 'on']) expect(resolveEnv({ FABRIC_NO_ADMIN: yes }).config.admin).toBe(false)
    expect(resolveEnv({ FABRIC_NO_ADMIN: 'off' }).config.admin).toEqual({ host: '127.0.0.1', port: 0 })
    expect(resolveEnv({ FABRIC_DATA_DIR: '' }).settings.find((s) => s.option.flag === 'data-dir')!.source).toBe('default')
  })

  it('names the variable in a refusal', () => {
    expect(() => resolveEnv({ FABRIC_MAX_STREAMS: 'many' })).toThrow('FABRIC_MAX_STREAMS: expected a positive integer, got "many"')
    expect(() => resolveEnv({ FABRIC_EPHEMERAL: 'maybe' })).toThrow('FABRIC_EPHEMERAL: expected true or false')
    expect(() => resolveEnv({ FABRIC_TRUSTED_RELAY: 'notapeerid' })).toThrow('FABRIC_TRUSTED_RELAY: "notapeerid" is not a peer id')
  })

  it('warns of an unknown FABRIC_* variable, naming the nearest known one; others are left alone', () => {
    const r = resolveEnv({ FABRIC_QUEUE_BYTE: '5', FABRIC_CONFIG: 'x', FABRIC_CHILD_NODE_ARGS: '', PATH: '/bin', FABRIC_ZZZZZZZZZZZZZ: '1' })
    expect(r.warnings).toEqual([
      'FABRIC_QUEUE_BYTE is not a fabric-node variable and is ignored; did you mean FABRIC_QUEUE_BYTES?',
      'FABRIC_ZZZZZZZZZZZZZ is not a fabric-node variable and is ignored',
    ])
  })
})

describe('command line', () => {
  const usage = (argv: string[]): string => {
    try {
      parseNodeArgs(argv)
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError)
      return (err as Error).message
    }
    throw new Error('accepted')
  }

  it('refuses unknown options and commands in one line, with the nearest name and a hint', () => {
    expect(usage(['start', '--queue-byts', '5'])).toBe('unknown option --queue-byts (did you mean --queue-bytes?); run fabric-node --help')
    expect(usage(['start', '--frobnicate'])).toBe('unknown option --frobnicate; run fabric-node --help')
    expect(usage(['start', '--listen'])).toBe('--listen needs a value; run fabric-node --help')
    expect(usage(['start', '--ephemeral=yes'])).toBe('--ephemeral takes no value; run fabric-node --help')
    expect(usage(['strat'])).toBe('unknown command "strat" (did you mean start?); the commands are start and config; run fabric-node --help')
    expect(usage(['start', 'now'])).toContain('unexpected argument "now"')
  })

  it('refuses malformed numbers and addresses naming the flag', () => {
    expect(() => parseNodeArgs(['start', '--queue-bytes', '12k'])).toThrow('--queue-bytes: expected a positive integer, got "12k"')
    expect(() => parseNodeArgs(['start', '--max-members', '0'])).toThrow('--max-members: expected a positive integer, got "0"')
    const start = (...argv: string[]): ResolvedNodeOptions => resolveNodeOptions({ args: parseNodeArgs(['start', ...argv]), env: {}, context: CONTEXT })
    expect(() => start('--admin', 'localhost')).toThrow('--admin: "localhost" is not HOST:PORT')
    expect(() => start('--admin-host', 'fabric.internal:9100')).toThrow('--admin-host: "fabric.internal:9100" is not a host name or address')
    expect(() => start('--listen', '/ip4/127.0.0.1/tcp/0/ws')).toThrow('/ws is not supported; a node listens on TCP only')
    expect(() => start('--upstream', '/ip4/127.0.0.1/tcp/4100')).toThrow('names no peer; end it with /p2p/')
    expect(() => start('--log-format', 'xml')).toThrow('--log-format: expected one of json, pretty, got "xml"')
  })

  it('help and version win over everything else', () => {
    expect(parseNodeArgs(['start', '--help']).command).toBe('help')
    expect(parseNodeArgs(['-V']).command).toBe('version')
    expect(parseNodeArgs(['config', '--json', '--config', 'x.yaml'])).toMatchObject({ command: 'config', json: true, configFile: 'x.yaml' })
  })

  it('closest suggests only near names', () => {
    expect(closest('strat', ['start', 'config'])).toBe('start')
    expect(closest('zzz', ['start', 'config'])).toBeUndefined()
  })
})

describe('listenFailure', () => {
  it('turns libp2p\'s listen error into the address, the reason and the fix', () => {
    const message = 'Some configured addresses failed to be listened on, you may need to remove one or more listen addresses from your configuration or set `transportManager.faultTolerance` to NO_FATAL:\n\n  /ip4/127.0.0.1/tcp/80: Error: listen EACCES: permission denied 127.0.0.1:80\n      at Server.setupListenHandle (node:net:1908:16)\n'
    expect(listenFailure(message)).toBe('/ip4/127.0.0.1/tcp/80 cannot be bound (listen EACCES: permission denied 127.0.0.1:80); ports below 1024 need privileges; listen on a port above 1023')
    expect(listenFailure('something else')).toBeUndefined()
  })
})

describe('effective configuration', () => {
  const resolved = (): ResolvedNodeOptions => resolveNodeOptions({
    args: parseNodeArgs(['config', '--max-members', '7']),
    env: { FABRIC_QUEUE_BYTES: '4096' },
    file: { name: 'fabric.yaml', text: 'announce: /dns4/nat.example/tcp/4100\n' },
    context: CONTEXT,
  })

  it('JSON gives each value with its source', () => {
    const out = effectiveConfigJson(resolved()) as { configFile: string, options: Record<string, { value: unknown, source: string, from: string }> }
    expect(out.configFile).toBe('fabric.yaml')
    expect(out.options.maxMembers).toEqual({ value: 7, source: 'flag', from: 'flag --max-members' })
    expect(out.options.queueBytes).toEqual({ value: 4096, source: 'env', from: 'env FABRIC_QUEUE_BYTES' })
    expect(out.options.announce).toEqual({ value: ['/dns4/nat.example/tcp/4100'], source: 'file', from: 'file fabric.yaml' })
    expect(out.options.listen.source).toBe('default')
    expect(out.options.upstream).toBeUndefined()
  })

  it('YAML is a config file giving the same values, each commented with its source', () => {
    const yaml = effectiveConfigYaml(resolved())
    expect(yaml).toContain('maxMembers: 7 # flag --max-members')
    expect(yaml).toContain('queueBytes: 4096 # env FABRIC_QUEUE_BYTES')
    expect(yaml).toContain('announce: # file fabric.yaml')
    const again = resolveNodeOptions({ args: parseNodeArgs(['config']), env: {}, file: { name: 'out.yaml', text: yaml }, context: CONTEXT })
    expect(again.settings.map((x) => x.value)).toEqual(resolved().settings.map((x) => x.value))
  })
})

describe('the web endpoint options', () => {
  const resolve = (argv: string[]): ResolvedNodeOptions => resolveNodeOptions({ args: parseNodeArgs(['start', ...argv]), env: {}, context: CONTEXT })

  it('gathers --web and its settings into NodeConfig.web', () => {
    const r = resolve(['--web', '127.0.0.1:0', '--web-ice-host', '10.0.0.5', '--web-ice-ports', '50000-50100', '--no-web-page', '--max-webrtc-connections', '9'])
    expect(r.config.web).toEqual({ host: '127.0.0.1', port: 0, iceHosts: ['10.0.0.5'], icePortRange: [50000, 50100], page: false, maxConnections: 9 })
    expect(r.warnings).toEqual([])
    expect(resolve([]).config.web).toBeUndefined()
  })

  it('leaves the endpoint off, with a warning naming them, when its settings come without --web', () => {
    const r = resolve(['--web-ice-host', '10.0.0.5', '--no-web-page'])
    expect(r.config.web).toBeUndefined()
    expect(r.warnings.join('\n')).toMatch(/--web-ice-host, --no-web-page set without --web/)
  })

  it('refuses, before anything binds, a wildcard web host without ICE hosts, a non-address ICE host, or a bad port range', () => {
    const field = (web: NonNullable<Parameters<typeof checkNodeConfig>[0]['web']>): string | undefined => {
      try { checkNodeConfig({ web }) } catch (err) { return (err as ConfigError).field }
      return undefined
    }
    expect(field({ host: '0.0.0.0', port: 80 })).toBe('NodeConfig.web.iceHosts')
    expect(field({ host: '0.0.0.0', port: 80, iceHosts: ['203.0.113.7'] })).toBeUndefined()
    expect(field({ host: '127.0.0.1', port: 80, iceHosts: ['example.com'] })).toBe('NodeConfig.web.iceHosts')
    expect(field({ host: '127.0.0.1', port: 80, icePortRange: [5000, 5000] })).toBe('NodeConfig.web.icePortRange')
    expect(field({ host: '127.0.0.1', port: 70000 })).toBe('NodeConfig.web')
    expect(resolveNodeOptionsRefusal(['--web-ice-ports', 'lots'])).toMatch(/--web-ice-ports.*UDP port range/)
  })
})

function resolveNodeOptionsRefusal (argv: string[]): string {
  try {
    resolveNodeOptions({ args: parseNodeArgs(['start', ...argv]), env: {}, context: CONTEXT })
  } catch (err) {
    return (err as Error).message
  }
  return 'accepted'
}
