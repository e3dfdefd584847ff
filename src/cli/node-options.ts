/**
 * The options of `fabric-node start` and `fabric-node config`, from one
 * table: each option has a flag (`--queue-bytes`), an environment variable
 * generated from it (`FABRIC_QUEUE_BYTES`: FABRIC_ and the flag in upper
 * case with `_` for `-`), a config file key generated from it (`queueBytes`:
 * the flag in camelCase), a help line and a default. Flags, environment,
 * file keys, usage text and the operator guide therefore cannot drift.
 *
 * Sans-IO: the caller reads the config file and hands its text in; this
 * module parses the command line, reads the environment object, validates
 * the file against a zod schema, merges flag > environment > file > default
 * keeping where each value came from, and derives the NodeConfig. Every
 * refusal is a ConfigError (a value, naming the option as its source spells
 * it) or a UsageError (the command line itself).
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Document, isScalar, isSeq, parseDocument, type Pair } from 'yaml'
import { z } from 'zod'
import {
  checkAnnounceAddress, checkListenAddress, checkPeerId, checkUpstreamAddress, ConfigError, parseHostPort,
} from '../node/config-checks.js'
import { LOG_LEVELS, type LogLevel } from '../node/log.js'
import type { NodeConfig } from '../node/node.js'
import { QUOTA_OPTIONS } from './quota-options.js'
import { DEFAULT_TREE_HEARTBEAT_TIMEOUT_MS, DEFAULT_TREE_MAX_CHILDREN } from '../node/fabric/stream-plans.js'
import { DEFAULT_TREE_CAPACITY } from '../node/fabric/stream-links.js'
import { DEFAULT_MAX_WEBRTC_CONNECTIONS } from '../transport/webrtc/listener.js'

/** Where an effective value came from, highest precedence first. */
export const SOURCES = ['flag', 'env', 'file', 'default'] as const

/** One of SOURCES. */
export type Source = typeof SOURCES[number]

/** The value shapes an option can take. */
export type OptionType = 'string' | 'list' | 'boolean' | 'int' | 'choice'

/** An option's value: a string, a list of strings, a flag or a positive integer. */
export type OptionValue = string | string[] | boolean | number

/** What a default may depend on (read by the shell from the process). */
export interface DefaultContext {
  /** The user's home directory (the default data directory lives under it). */
  homeDir: string
  /** Whether stderr is a terminal (readable logs then). */
  stderrIsTTY: boolean
}

/** One option of `fabric-node start`. */
export interface NodeOption {
  /** The flag without its dashes, e.g. `queue-bytes`. */
  readonly flag: string
  readonly type: OptionType
  /** Placeholder of the value in usage text, e.g. `N`, `MULTIADDR`. */
  readonly arg?: string
  /** One line of help. */
  readonly help: string
  /** Default value, if any (a function when it depends on the machine). */
  readonly defaultValue?: OptionValue | ((ctx: DefaultContext) => OptionValue)
  /** How the default reads in usage text and docs, when not the value itself. */
  readonly defaultText?: string
  /** For `choice`: the accepted values. */
  readonly choices?: readonly string[]
  /** For `int`: the largest value the node can honour (a bound of the protocol). */
  readonly max?: number
  /** Checks one string value (each element of a list). @returns the problem, or undefined */
  readonly check?: (s: string) => string | undefined
  /** Writes the value into a NodeConfig (options handled together, such as data-dir and ephemeral, have none). */
  readonly apply?: (config: NodeConfig, value: OptionValue) => void
}

/** The environment variable of a flag: `queue-bytes` → `FABRIC_QUEUE_BYTES`. */
export function envName (flag: string): string {
  return `FABRIC_${flag.toUpperCase().replaceAll('-', '_')}`
}

/** The config file key of a flag: `queue-bytes` → `queueBytes`. */
export function fileKey (flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

const strings = (v: OptionValue): string[] => v as string[]

/** Options that only shape the web endpoint, which --web turns on. */
const WEB_SETTINGS = new Set(['web-ice-host', 'web-ice-ports', 'no-web-page', 'max-webrtc-connections'])

/** The web settings gathered so far; host '' until --web names one (resolveNodeOptions checks it did). */
const webOf = (c: NodeConfig): NonNullable<NodeConfig['web']> => c.web ?? { host: '', port: 0 }


/** Options that are not quotas, in usage order. */
const BASE_OPTIONS: readonly NodeOption[] = [
  { flag: 'listen', type: 'list', arg: 'MULTIADDR', help: 'libp2p listen address, TCP (repeatable)', defaultValue: ['/ip4/127.0.0.1/tcp/0'], check: checkListenAddress, apply: (c, v) => { c.listen = strings(v) } },
  { flag: 'announce', type: 'list', arg: 'MULTIADDR', help: 'address members are told to dial instead of the bound ones, e.g. a public one in front of NAT (repeatable)', defaultText: 'the listen addresses', check: checkAnnounceAddress, apply: (c, v) => { c.announce = strings(v) } },
  { flag: 'data-dir', type: 'string', arg: 'DIR', help: 'peer key, admin token and KeyPackage store', defaultValue: (ctx) => join(ctx.homeDir, '.fabric', 'node'), defaultText: '~/.fabric/node' },
  { flag: 'ephemeral', type: 'boolean', help: 'keep everything in memory, fresh peer id each start', defaultValue: false },
  { flag: 'admin', type: 'string', arg: 'HOST:PORT', help: 'admin HTTP endpoint; its bearer token is in <data dir>/admin-token (ephemeral: a temp file, printed at start)', defaultValue: '127.0.0.1:0', check: (s) => { const hp = parseHostPort(s); return typeof hp === 'string' ? hp : undefined } },
  { flag: 'no-admin', type: 'boolean', help: 'no admin HTTP endpoint', defaultValue: false },
  { flag: 'no-libp2p-metrics', type: 'boolean', help: "leave libp2p's own metrics (connections, streams, bytes per protocol) off /metrics", defaultValue: false, apply: (c, v) => { if (v === true) c.libp2pMetrics = false } },
  { flag: 'admin-host', type: 'list', arg: 'NAME', help: 'Host name the admin endpoint accepts besides localhost, 127.x.y.z and [::1] (repeatable)', check: checkAdminHost, apply: (c, v) => { c.adminHosts = strings(v) } },
  { flag: 'web', type: 'string', arg: 'HOST:PORT', help: 'web endpoint: WebRTC signalling for browser members and the member page at / (off by default)', check: (s) => { const hp = parseHostPort(s); return typeof hp === 'string' ? hp : undefined }, apply: (c, v) => { c.web = { ...webOf(c), ...(parseHostPort(v as string) as { host: string, port: number }) } } },
  { flag: 'web-ice-host', type: 'list', arg: 'ADDR', help: 'IP address offered to WebRTC members as an ICE host candidate (repeatable; default the --web host, which must then not be 0.0.0.0)', apply: (c, v) => { c.web = { ...webOf(c), iceHosts: strings(v) } } },
  { flag: 'web-ice-ports', type: 'string', arg: 'MIN-MAX', help: 'UDP ports WebRTC members reach the node on', defaultText: 'any', check: (s) => /^\d+-\d+$/.test(s) ? undefined : 'write a UDP port range such as 50000-50100', apply: (c, v) => { const [a, b] = (v as string).split('-').map(Number); c.web = { ...webOf(c), icePortRange: [a!, b!] } } },
  { flag: 'no-web-page', type: 'boolean', help: 'with --web: WebRTC signalling only, no member page', defaultValue: false, apply: (c, v) => { if (v === true) c.web = { ...webOf(c), page: false } } },
  { flag: 'max-webrtc-connections', type: 'int', arg: 'N', help: 'WebRTC member connections at once (each address holds at most 16)', defaultValue: DEFAULT_MAX_WEBRTC_CONNECTIONS, max: 65_536, apply: (c, v) => { c.web = { ...webOf(c), maxConnections: v as number } } },
  { flag: 'trusted-relay', type: 'list', arg: 'PEER_ID', help: 'downstream relay allowed to subscribe without membership (repeatable)', check: checkPeerId, apply: (c, v) => { c.trustedRelays = strings(v) } },
  { flag: 'upstream', type: 'string', arg: 'MULTIADDR', help: 'pull streams this node lacks from that node (/p2p/<its peer id> at the end; it must trust this one)', check: checkUpstreamAddress, apply: (c, v) => { c.upstream = v as string } },
  { flag: 'bootstrap', type: 'list', arg: 'MULTIADDR', help: 'join the fabric of that node: dial it and find the others through the fabric DHT (/p2p/<its peer id> at the end; needs --fabric-key; repeatable)', check: checkBootstrapAddress, apply: (c, v) => { c.bootstrap = strings(v) } },
  { flag: 'fabric-key', type: 'string', arg: 'FILE', help: 'the fabric key every node of one fabric holds (32 bytes; created with mode 0600 when missing)', check: checkKeyPath, apply: (c, v) => { c.fabricKey = v as string } },
  { flag: 'fabric-allow', type: 'list', arg: 'PEER_ID', help: 'admit only these nodes to the fabric, besides holding the key (repeatable; default every holder)', check: checkPeerId, apply: (c, v) => { c.fabricAllow = strings(v) } },
  { flag: 'tree-max-children', type: 'int', arg: 'N', help: 'most children any node feeds in the relay tree of a stream at home here', defaultValue: DEFAULT_TREE_MAX_CHILDREN, max: 64, apply: (c, v) => { c.fabricTree = { ...c.fabricTree, maxChildren: Math.max(1, v as number) } } },
  { flag: 'tree-capacity', type: 'int', arg: 'N', help: 'children this node offers to feed in the relay tree of a stream at home elsewhere', defaultValue: DEFAULT_TREE_CAPACITY, max: 64, apply: (c, v) => { c.fabricTree = { ...c.fabricTree, capacity: v as number } } },
  { flag: 'tree-heartbeat-timeout-ms', type: 'int', arg: 'MS', help: 'a relay of a tree rooted here that sends no heartbeat this long is failed and its children moved', defaultValue: DEFAULT_TREE_HEARTBEAT_TIMEOUT_MS, max: 600_000, apply: (c, v) => { c.fabricTree = { ...c.fabricTree, heartbeatTimeoutMs: Math.max(100, v as number) } } },
  { flag: 'traffic-capture', type: 'string', arg: 'FILE', help: 'record every media frame handled (audits)', apply: (c, v) => { c.trafficCapture = v as string } },
  { flag: 'log-level', type: 'choice', arg: 'LEVEL', help: `least severe log level written: ${LOG_LEVELS.join('|')}`, choices: LOG_LEVELS, defaultValue: 'info' },
  { flag: 'log-format', type: 'choice', arg: 'FORMAT', help: 'log lines on stderr: json|pretty', choices: ['json', 'pretty'], defaultValue: (ctx) => ctx.stderrIsTTY ? 'pretty' : 'json', defaultText: 'pretty on a terminal, else json' },
]

/** Every option of `fabric-node start`: the base ones, then the quotas (quota-options.ts). */
export const NODE_OPTIONS: readonly NodeOption[] = [
  ...BASE_OPTIONS,
  ...QUOTA_OPTIONS.map((q): NodeOption => ({
    flag: q.flag, type: 'int', arg: 'N', help: q.help, defaultValue: q.defaultValue, max: q.max, apply: (c, v) => { q.apply(c, v as number) },
  })),
]

/** Flags of the command line that are not node options (so have no variable or file key). */
const COMMAND_FLAGS = ['config', 'json', 'help', 'version'] as const

/** FABRIC_* variables that are known but not node options: the config file, and extra Node flags for test children (processes.ts). */
const OTHER_ENV = ['FABRIC_CONFIG', 'FABRIC_CHILD_NODE_ARGS']

/** A command line that cannot be run: an unknown option or command, a missing value. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** What a `fabric-node` command line asks for. */
export interface NodeArgs {
  /** `start`, `config`, or what to print instead (`help`, `version`). */
  command: 'start' | 'config' | 'help' | 'version'
  /** The option values given as flags, by flag. */
  flags: Record<string, OptionValue>
  /** `--config FILE`, if given. */
  configFile?: string
  /** `--json`. */
  json: boolean
}

/** Levenshtein distance (short strings: option names). */
function distance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]
}

/** The candidate nearest to `name` (case-insensitive), when near enough to be a typo of it. */
export function closest (name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase())
    if (d < bestD) { best = c; bestD = d }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/**
 * A bootstrap node's address: as an upstream's, a TCP multiaddr ending in
 * /p2p/<its peer id>, the id being what node-auth and the DHT know it by.
 */
function checkBootstrapAddress (s: string): string | undefined {
  return checkUpstreamAddress(s)?.replaceAll('upstream', 'bootstrap')
}

/**
 * A fabric key path, checked for shape only (this module does no I/O): the
 * node reads or creates the file at start and names this option if it cannot.
 */
function checkKeyPath (s: string): string | undefined {
  if (s.trim() === '') return 'expected the path of the fabric key file'
  if (s.endsWith('/')) return `${s} is a directory; name the key file in it, such as ${s}fabric.key`
  return undefined
}

/** A bare host name or address (no port), as the admin endpoint's Host rule compares them. */
function checkAdminHost (s: string): string | undefined {
  const v6 = /^\[?([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)\]?$/.test(s)
  if (v6 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s)) return undefined
  return `${JSON.stringify(s)} is not a host name or address; give the name alone, without a port or scheme (e.g. fabric-1.internal)`
}

/**
 * Parses a `fabric-node` command line (after `node script`).
 * @throws UsageError on an unknown option or command, or an option without its value
 */
export function parseNodeArgs (argv: readonly string[]): NodeArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(NODE_OPTIONS.map((o) => [o.flag, o.type === 'boolean' ? { type: 'boolean' as const } : { type: 'string' as const, multiple: o.type === 'list' }])),
        config: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    })
  } catch (err) {
    throw new UsageError(usageProblem(err))
  }
  const { values, positionals } = parsed
  const json = values.json === true
  if (values.help === true) return { command: 'help', flags: {}, json }
  if (values.version === true) return { command: 'version', flags: {}, json }
  const [command, ...rest] = positionals
  if (command === undefined) throw new UsageError('no command; run fabric-node start (or fabric-node --help)')
  if (command !== 'start' && command !== 'config') {
    const near = closest(command, ['start', 'config'])
    throw new UsageError(`unknown command ${JSON.stringify(command)}${near === undefined ? '' : ` (did you mean ${near}?)`}; the commands are start and config; run fabric-node --help`)
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}; options start with --; run fabric-node --help`)
  const flags: Record<string, OptionValue> = {}
  for (const o of NODE_OPTIONS) {
    const v = (values as Record<string, string | string[] | boolean | undefined>)[o.flag]
    if (v === undefined) continue
    flags[o.flag] = o.type === 'int' ? parseCount(`--${o.flag}`, v as string) : v
  }
  return { command, flags, configFile: values.config, json }
}

/** One line for a parseArgs refusal, with the nearest known option for an unknown one. */
function usageProblem (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const code = (err as { code?: string }).code
  const option = /'(-[^' ]*)/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) {
    const known = [...NODE_OPTIONS.map((o) => o.flag), ...COMMAND_FLAGS].map((f) => `--${f}`)
    const near = closest(option.replace(/=.*/, ''), known)
    return `unknown option ${option}${near === undefined ? '' : ` (did you mean ${near}?)`}; run fabric-node --help`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    return /argument missing/.test(message)
      ? `${option} needs a value; run fabric-node --help`
      : `${option} takes no value; run fabric-node --help`
  }
  return `${message.split('\n')[0]}; run fabric-node --help`
}

/** Parses a positive integer given as text. @throws ConfigError naming `field` */
function parseCount (field: string, s: string): number {
  const n = /^\s*\d+\s*$/.test(s) ? Number(s) : NaN
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(field, `expected a positive integer, got ${JSON.stringify(s)}`)
  return n
}

const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['0', 'false', 'no', 'off'])

/** An option's value from its environment variable's text. @throws ConfigError naming the variable */
function fromEnv (o: NodeOption, name: string, text: string): OptionValue {
  switch (o.type) {
    case 'list': return text.split(',').map((s) => s.trim()).filter((s) => s !== '')
    case 'int': return parseCount(name, text)
    case 'boolean': {
      const t = text.trim().toLowerCase()
      if (TRUE.has(t)) return true
      if (FALSE.has(t)) return false
      throw new ConfigError(name, `expected true or false (1/0, yes/no, on/off), got ${JSON.stringify(text)}`)
    }
    default: return text
  }
}

/** What a value of each type must be, for messages. */
function expected (o: NodeOption): string {
  switch (o.type) {
    case 'list': return 'a string or a list of strings'
    case 'int': return 'a positive integer'
    case 'boolean': return 'true or false'
    case 'choice': return `one of ${o.choices!.join(', ')}`
    default: return 'a string'
  }
}

/** The zod schema of one option's value in a config file. */
function valueSchema (o: NodeOption): z.ZodType {
  switch (o.type) {
    case 'list': return z.union([z.string(), z.array(z.string())])
    case 'int': return z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
    case 'boolean': return z.boolean()
    case 'choice': return z.enum(o.choices as [string, ...string[]])
    default: return z.string()
  }
}

/** The config file's schema: a mapping of file keys, none but the known ones. */
export const CONFIG_FILE_SCHEMA = z.strictObject(Object.fromEntries(NODE_OPTIONS.map((o) => [fileKey(o.flag), valueSchema(o).optional()])))

/** A config file as read: its name (for messages) and text. */
export interface ConfigFileText {
  name: string
  text: string
}

/**
 * Parses and validates a config file: YAML, or JSON when its name ends in
 * .json (YAML otherwise, which reads JSON too).
 * @returns the option values it sets, by flag
 * @throws ConfigError (`file` set) on bad syntax, a value of the wrong
 *   type, an unknown key (naming the nearest known one) or a value a check refuses
 */
export function parseConfigFile (file: ConfigFileText): Record<string, OptionValue> {
  const raw = parseFileText(file)
  const byKey = new Map(NODE_OPTIONS.map((o) => [fileKey(o.flag), o]))
  const result = CONFIG_FILE_SCHEMA.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]
      const near = closest(key, [...byKey.keys()])
      throw new ConfigError(key, `unknown key${near === undefined ? '' : `; did you mean ${near}?`}`, file.name)
    }
    const key = String(issue.path[0])
    const o = byKey.get(key)!
    throw new ConfigError(key, `expected ${expected(o)}, got ${JSON.stringify((raw as Record<string, unknown>)[key])}`, file.name)
  }
  const values: Record<string, OptionValue> = {}
  for (const [key, v] of Object.entries(result.data)) {
    if (v === undefined) continue
    const o = byKey.get(key)!
    values[o.flag] = o.type === 'list' && typeof v === 'string' ? [v] : v as OptionValue
  }
  return values
}

/** The file's top-level mapping. @throws ConfigError on bad syntax or another top level */
function parseFileText (file: ConfigFileText): unknown {
  let raw: unknown
  if (/\.json$/i.test(file.name)) {
    try {
      raw = JSON.parse(file.text)
    } catch (err) {
      throw new ConfigError('', `not valid JSON: ${err instanceof Error ? err.message : String(err)}`, file.name)
    }
  } else {
    const doc = parseDocument(file.text)
    const bad = doc.errors[0]
    if (bad !== undefined) {
      // The message's first line says what and where; the excerpt under it spans lines.
      throw new ConfigError('', `not valid YAML: ${bad.message.split('\n')[0].replace(/:$/, '')}`, file.name)
    }
    raw = doc.toJS() as unknown
  }
  // An empty file (or only comments) sets nothing.
  if (raw === null || raw === undefined) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('', `expected a mapping of option keys (e.g. listen:, dataDir:), got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`, file.name)
  }
  return raw
}

/** An option's effective value and where it came from. */
export interface Setting {
  readonly option: NodeOption
  readonly value: OptionValue | undefined
  readonly source: Source
  /** How the source spells the option: `--listen`, `FABRIC_LISTEN`, `listen` (with `file` set), or `default`. */
  readonly name: string
  /** The config file, for source `file`. */
  readonly file?: string
}

/** Inputs of resolveNodeOptions. */
export interface ResolveInput {
  /** The parsed command line. */
  args: NodeArgs
  /** The environment (process.env). */
  env: Readonly<Record<string, string | undefined>>
  /** The config file, when one was named (--config or FABRIC_CONFIG). */
  file?: ConfigFileText
  /** What defaults depend on. */
  context: DefaultContext
}

/** The effective options of a `fabric-node start` or `config`. */
export interface ResolvedNodeOptions {
  /** One per NODE_OPTIONS entry, in its order. */
  settings: Setting[]
  /** The node configuration they give (without `log`, which the shell makes). */
  config: NodeConfig
  logLevel: LogLevel
  logFormat: 'json' | 'pretty'
  /** The config file used, if any. */
  configFile?: string
  /** Unknown FABRIC_* variables, each naming the nearest known one. */
  warnings: string[]
}

/** The config file named by `--config` or else FABRIC_CONFIG. */
export function configFileOf (args: NodeArgs, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const fromEnv = env.FABRIC_CONFIG
  return args.configFile ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv)
}

/**
 * Merges flags, environment and config file over the defaults (flag >
 * environment > file > default, per option; a list is taken whole from
 * one source) and derives the NodeConfig. An empty variable counts as unset.
 * @throws ConfigError naming the option as its source spells it: a bad
 *   value, a bad file, or two options that exclude each other set at the
 *   same precedence (`--ephemeral` with `--data-dir`, `--no-admin` with `--admin`)
 */
export function resolveNodeOptions (input: ResolveInput): ResolvedNodeOptions {
  const fromFile = input.file === undefined ? {} : parseConfigFile(input.file)
  const warnings = unknownEnvWarnings(input.env)
  const settings = NODE_OPTIONS.map((o): Setting => {
    const flag = input.args.flags[o.flag]
    if (flag !== undefined) return checked({ option: o, value: flag, source: 'flag', name: `--${o.flag}` })
    const env = input.env[envName(o.flag)]
    if (env !== undefined && env !== '') return checked({ option: o, value: fromEnv(o, envName(o.flag), env), source: 'env', name: envName(o.flag) })
    const file = fromFile[o.flag]
    if (file !== undefined) return checked({ option: o, value: file, source: 'file', name: fileKey(o.flag), file: input.file!.name })
    const d = typeof o.defaultValue === 'function' ? o.defaultValue(input.context) : o.defaultValue
    return { option: o, value: d, source: 'default', name: 'default' }
  })
  const by = new Map(settings.map((s) => [s.option.flag, s]))
  const get = (flag: string): Setting => by.get(flag)!
  const config: NodeConfig = {}
  for (const s of settings) if (s.value !== undefined && s.source !== 'default') s.option.apply?.(config, s.value)
  // The web endpoint's settings are inert without --web (a config file may
  // hold them all, as `fabric-node config` writes every value); say so.
  if (config.web !== undefined && config.web.host === '') {
    const named = settings.filter((x) => x.source !== 'default' && WEB_SETTINGS.has(x.option.flag)).map((x) => x.name)
    warnings.push(`${named.join(', ')} set without --web: the web endpoint is off, so ${named.length === 1 ? 'it does' : 'they do'} nothing`)
    delete config.web
  }
  const listen = get('listen')
  config.listen = listen.value as string[]
  const ephemeral = pick(get('ephemeral'), get('data-dir'))
  config.dataDir = ephemeral ? undefined : get('data-dir').value as string
  if (pick(get('no-admin'), get('admin'))) {
    config.admin = false
  } else {
    config.admin = parseHostPort(get('admin').value as string) as { host: string, port: number }
  }
  return {
    settings,
    config,
    logLevel: get('log-level').value as LogLevel,
    logFormat: get('log-format').value as 'json' | 'pretty',
    configFile: input.file?.name,
    warnings,
  }
}

/**
 * Whether a boolean "off switch" (`ephemeral`, `no-admin`) wins over the
 * option it cancels: the one from the higher-precedence source wins.
 * @throws ConfigError when both come from the same source
 */
function pick (off: Setting, other: Setting): boolean {
  if (off.value !== true) return false
  if (other.source === 'default') return true
  const rank = (s: Setting): number => SOURCES.indexOf(s.source)
  if (rank(off) === rank(other)) throw new ConfigError(off.name, `excludes ${other.name}; give one of them`, off.file)
  return rank(off) < rank(other)
}

/** The setting, once its value passed its option's check. @throws ConfigError naming where it came from */
function checked (s: Setting): Setting {
  const o = s.option
  if (o.type === 'choice' && !o.choices!.includes(s.value as string)) {
    throw new ConfigError(s.name, `expected ${expected(o)}, got ${JSON.stringify(s.value)}`, s.file)
  }
  if (o.type === 'int' && o.max !== undefined && (s.value as number) > o.max) {
    throw new ConfigError(s.name, `expected at most ${o.max} (a bound of the protocol, protocol/limits.md), got ${String(s.value)}`, s.file)
  }
  if (o.check !== undefined) {
    for (const v of typeof s.value === 'string' ? [s.value] : Array.isArray(s.value) ? s.value : []) {
      const problem = o.check(v)
      if (problem !== undefined) throw new ConfigError(s.name, problem, s.file)
    }
  }
  return s
}

/** Warnings for FABRIC_* variables that set nothing (typos must not pass silently). */
function unknownEnvWarnings (env: Readonly<Record<string, string | undefined>>): string[] {
  const known = [...NODE_OPTIONS.map((o) => envName(o.flag)), ...OTHER_ENV]
  return Object.keys(env).filter((k) => k.startsWith('FABRIC_') && !known.includes(k)).sort().map((k) => {
    const near = closest(k, known)
    return `${k} is not a fabric-node variable and is ignored${near === undefined ? '' : `; did you mean ${near}?`}`
  })
}

/** How a setting's origin reads: `flag --listen`, `env FABRIC_LISTEN`, `file fabric.yaml`, `default`. */
export function originText (s: Setting): string {
  switch (s.source) {
    case 'flag': return `flag ${s.name}`
    case 'env': return `env ${s.name}`
    case 'file': return `file ${s.file ?? ''}`
    default: return 'default'
  }
}

/**
 * The effective configuration as `fabric-node config --json` prints it:
 * per file key, the value, its source and the name it was given under.
 * Options without a value (no default, not given) are left out. Holds no
 * secret: the admin token is not an option.
 */
export function effectiveConfigJson (resolved: ResolvedNodeOptions): Record<string, unknown> {
  const options: Record<string, { value: OptionValue, source: Source, from: string }> = {}
  for (const s of resolved.settings) {
    if (s.value !== undefined) options[fileKey(s.option.flag)] = { value: s.value, source: s.source, from: originText(s) }
  }
  return { configFile: resolved.configFile ?? null, options }
}

/**
 * The effective configuration as YAML: a valid config file giving the same
 * values, each with a comment saying where it came from.
 */
export function effectiveConfigYaml (resolved: ResolvedNodeOptions): string {
  const present = resolved.settings.filter((s) => s.value !== undefined)
  const doc = new Document(Object.fromEntries(present.map((s) => [fileKey(s.option.flag), s.value])))
  doc.commentBefore = ` fabric-node effective configuration${resolved.configFile === undefined ? '' : ` (config file ${resolved.configFile})`}\n precedence: flag > env > file > default`
  const items = (doc.contents as { items: Array<Pair<unknown, unknown>> }).items
  items.forEach((pair, i) => {
    const origin = ` ${originText(present[i])}`
    if (isSeq(pair.value)) {
      if (isScalar(pair.key)) pair.key.comment = origin
    } else if (isScalar(pair.value)) {
      pair.value.comment = origin
    }
  })
  return doc.toString()
}

/** The usage lines of NODE_OPTIONS, the quota ones under their own heading. */
export function optionsUsage (): string {
  const line = (o: NodeOption): string => {
    const head = `--${o.flag}${o.arg === undefined ? '' : ` ${o.arg}`}`
    const d = o.defaultText ?? (o.defaultValue === undefined || typeof o.defaultValue === 'function' || o.defaultValue === false ? undefined : String(o.defaultValue))
    return `  ${head.padEnd(36)} ${o.help}${d === undefined ? '' : ` (default ${d})`}\n`
  }
  const base = new Set(BASE_OPTIONS)
  return NODE_OPTIONS.filter((o) => base.has(o)).map(line).join('') +
    'quotas and bounds (each refuses with QUOTA_EXCEEDED beyond it; see docs/operator.md):\n' +
    NODE_OPTIONS.filter((o) => !base.has(o)).map(line).join('')
}
