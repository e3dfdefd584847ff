/**
 * `fabric-node`: the operator's relay process.
 *
 *   fabric-node start [--config FILE] [options]    run a node
 *   fabric-node config [--config FILE] [options]   print the effective configuration
 *   fabric-node --version | --help
 *
 * Options come from flags, FABRIC_* variables and a config file, merged in
 * that order of precedence over the defaults (node-options.ts, which holds
 * the logic; this file only reads files and the process, and prints). Prints
 * the node's peer id, multiaddrs, admin URL and admin token file once every
 * listener is bound (with --json, one JSON line `{"event":"ready",...}` for
 * scripts), and stops cleanly on SIGINT/SIGTERM. A refused configuration is
 * one line `fabric-node: ...` on stderr and exit code 2, before anything binds.
 */
import '../polyfill.js'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError } from '../node/config-checks.js'
import { createLogger } from '../node/log.js'
import { startNode, type NodeHandle } from '../node/node.js'
import {
  configFileOf, effectiveConfigJson, effectiveConfigYaml, optionsUsage, parseNodeArgs, resolveNodeOptions,
  UsageError, type NodeArgs, type ResolvedNodeOptions,
} from './node-options.js'
import { watchParent } from './parent-watch.js'
import { versionText } from './version.js'

const USAGE = `usage: fabric-node start [--config FILE] [options]     run a node
       fabric-node config [--config FILE] [options]    print the effective configuration and where
                                                       each value came from (YAML; --json for JSON)
       fabric-node --version | --help
  --config FILE                        YAML or JSON file of options (keys: the flags in camelCase,
                                       e.g. queueBytes); env FABRIC_CONFIG
  --json                               machine-readable JSON lines (start) or JSON (config)
  -V, --version                        print the version
options (each also FABRIC_<FLAG> in the environment, e.g. FABRIC_DATA_DIR, FABRIC_QUEUE_BYTES;
lists comma-separated; precedence flag > environment > file > default):
${optionsUsage()}`

/** How long the upstream may take to answer the dial made at start. */
const UPSTREAM_CHECK_MS = 5_000

/** NodeConfig fields whose ConfigError the shell renames to the option that set them. */
const FIELD_FLAGS: Record<string, string> = {
  'NodeConfig.listen': 'listen',
  'NodeConfig.announce': 'announce',
  'NodeConfig.dataDir': 'data-dir',
  'NodeConfig.upstream': 'upstream',
  'NodeConfig.trustedRelays': 'trusted-relay',
  'NodeConfig.admin': 'admin',
  'NodeConfig.bootstrap': 'bootstrap',
  'NodeConfig.fabricKey': 'fabric-key',
  'NodeConfig.fabricAllow': 'fabric-allow',
}

/** A ConfigError of startNode, renamed to the option as the operator gave it (`--data-dir`, `FABRIC_DATA_DIR`, `dataDir` in the file). */
function asOptionError (err: unknown, resolved: ResolvedNodeOptions): unknown {
  if (!(err instanceof ConfigError)) return err
  const flag = FIELD_FLAGS[err.field]
  const setting = resolved.settings.find((s) => s.option.flag === flag)
  if (setting === undefined) return err
  const problem = err.message.slice(err.field.length + 2)
  return setting.source === 'default' ? new ConfigError(`--${flag}`, problem) : new ConfigError(setting.name, problem, setting.file)
}

/** The config file's text. @throws ConfigError naming --config or FABRIC_CONFIG */
async function readConfigFile (args: NodeArgs, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const why = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err))
    throw new ConfigError(args.configFile !== undefined ? '--config' : 'FABRIC_CONFIG', `cannot read ${path} (${why}); give an existing YAML or JSON file`)
  }
}

/**
 * Dials the upstream once, so a dead or wrong address fails at start and
 * not at the first member's subscribe.
 * @throws ConfigError naming the upstream option, with libp2p's reason
 */
async function checkUpstream (node: NodeHandle, resolved: ResolvedNodeOptions): Promise<void> {
  const setting = resolved.settings.find((s) => s.option.flag === 'upstream')!
  const addr = setting.value as string
  try {
    await node.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(UPSTREAM_CHECK_MS) })
  } catch (err) {
    const e = err as { name?: string, message?: string }
    const why = e.name === 'TimeoutError' || e.name === 'AbortError'
      ? `no answer within ${UPSTREAM_CHECK_MS / 1000} s`
      : (e.message ?? String(err)).replace(/^connection error \S+: /, '').split('\n')[0]
    throw new ConfigError(setting.name, `cannot reach ${addr} (${why}); start that node first or fix the address`, setting.file)
  }
}

/** The start banner for people (stdout a terminal, or no --json). */
function banner (node: NodeHandle, resolved: ResolvedNodeOptions, version: string): string {
  const row = (label: string, value: string): string => `  ${label.padEnd(14)}${value}\n`
  let out = `${version} started\n`
  out += row('peer id', node.peerId)
  out += row('members dial', node.multiaddrs[0] ?? '(no address)')
  for (const a of node.multiaddrs.slice(1)) out += row('', a)
  out += row('admin', node.adminUrl === undefined ? 'off' : `${node.adminUrl}/api/v1/stats  (also /metrics, /healthz, /readyz)`)
  out += row('web', node.webUrl === undefined ? 'off' : `${node.webUrl}/  (the member page; WebRTC signalling at /api/v1/webrtc/offer)`)
  if (node.adminTokenFile !== undefined) out += row('token file', node.adminTokenFile)
  out += row('data dir', node.dataDir ?? '(ephemeral: in memory, gone at stop)')
  out += row('log', `${resolved.logLevel} (${resolved.logFormat}, on stderr)`)
  out += row('config file', resolved.configFile ?? '(none)')
  return out + 'Ctrl-C stops it.\n'
}

async function main (argv: string[]): Promise<void> {
  if (argv.length === 0) {
    process.stdout.write(USAGE)
    process.exitCode = 2
    return
  }
  const args = parseNodeArgs(argv)
  if (args.command === 'help') {
    process.stdout.write(USAGE)
    return
  }
  if (args.command === 'version') {
    process.stdout.write(await versionText('fabric-node'))
    return
  }
  const path = configFileOf(args, process.env)
  const file = path === undefined ? undefined : { name: path, text: await readConfigFile(args, path) }
  const resolved = resolveNodeOptions({ args, env: process.env, file, context: { homeDir: homedir(), stderrIsTTY: process.stderr.isTTY === true } })
  for (const w of resolved.warnings) process.stderr.write(`fabric-node: warning: ${w}\n`)
  if (args.command === 'config') {
    process.stdout.write(args.json ? JSON.stringify(effectiveConfigJson(resolved), null, 2) + '\n' : effectiveConfigYaml(resolved))
    return
  }

  const log = createLogger({ level: resolved.logLevel, pretty: resolved.logFormat === 'pretty' })
  // werift handles each WebRTC peer's packets in promises nobody awaits, so
  // a packet it cannot parse would end the process; the ones known were
  // patched (patches/werift+0.24.4.patch), and any other is one peer's
  // packet dropped, not the node. Every other rejection still ends it.
  process.on('unhandledRejection', (reason) => {
    const stack = reason instanceof Error ? reason.stack ?? '' : ''
    if (!stack.includes('/werift/')) throw reason
    log.child({ component: 'web' }).warn({ event: 'webrtc.packet_dropped', err: stack.split('\n').slice(0, 3).join(' | ') }, 'werift failed on a WebRTC peer\'s packet; the packet was dropped')
  })
  let node: NodeHandle
  try {
    node = await startNode({ ...resolved.config, log })
  } catch (err) {
    throw asOptionError(err, resolved)
  }
  if (resolved.config.upstream !== undefined) {
    try {
      await checkUpstream(node, resolved)
    } catch (err) {
      await node.stop()
      throw err
    }
  }
  const version = (await versionText('fabric-node')).split('\n')[0]
  if (args.json) {
    process.stdout.write(JSON.stringify({
      event: 'ready', peerId: node.peerId, multiaddrs: node.multiaddrs, adminUrl: node.adminUrl, adminTokenFile: node.adminTokenFile, webUrl: node.webUrl,
      dataDir: node.dataDir, pid: process.pid, version: version.split(' ')[1], configFile: resolved.configFile, logLevel: resolved.logLevel,
    }) + '\n')
  } else {
    process.stdout.write(banner(node, resolved, version))
  }
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    node.stop().then(() => {
      if (args.json) process.stdout.write(JSON.stringify({ event: 'stopped', signal }) + '\n')
      process.exit(0)
    }, (err) => {
      process.stderr.write(`fabric-node: stop failed: ${String(err)}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => { shutdown('SIGINT') })
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
  // A signal to a wrapper (npx, a shell) that does not pass it on orphans us.
  watchParent(() => { shutdown('parent-exit') })
}

main(process.argv.slice(2)).catch((err) => {
  // A configuration the operator can fix: one line, exit 2, no stack.
  if (err instanceof ConfigError || err instanceof UsageError) {
    process.stderr.write(`fabric-node: ${err.message}\n`)
    process.exit(2)
  }
  process.stderr.write(`fabric-node: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
