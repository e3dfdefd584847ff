/**
 * `fabric-node`: the operator's relay process.
 *
 *   fabric-node start [--listen MULTIADDR]... [--data-dir DIR | --ephemeral]
 *                     [--admin HOST:PORT | --no-admin] [--admin-host NAME]...
 *                     [--queue-bytes N] [--traffic-capture FILE] [--json]
 *
 * Prints the node's peer id, multiaddrs, admin URL and admin token file once
 * every listener is bound (with --json, one JSON line `{"event":"ready",...}`
 * for scripts), and stops cleanly on SIGINT/SIGTERM.
 */
import '../polyfill.js'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startNode, type NodeConfig } from '../node/node.js'
import { watchParent } from './parent-watch.js'
import { QUOTA_OPTIONS, quotaUsage } from './quota-options.js'

const USAGE = `usage: fabric-node start [options]
  --listen MULTIADDR      libp2p listen address (repeatable; default /ip4/127.0.0.1/tcp/0)
  --data-dir DIR          peer key and KeyPackage store (default ~/.fabric/node)
  --ephemeral             keep everything in memory, fresh peer id each start
  --admin HOST:PORT       admin HTTP endpoint (default 127.0.0.1:0); its bearer token is in
                          <data dir>/admin-token, or for --ephemeral a temp file (printed at start)
  --no-admin              no admin HTTP endpoint
  --admin-host NAME       Host name the admin endpoint accepts besides localhost, 127.x.y.z
                          and [::1] (repeatable)
  --traffic-capture FILE  record every media frame handled (audits)
  --trusted-relay PEER_ID downstream relay allowed to subscribe without membership (repeatable)
  --upstream MULTIADDR    pull streams this node lacks from that node (which must trust this one)
  --json                  print machine-readable JSON lines
quotas and bounds (each refuses with QUOTA_EXCEEDED beyond it; see docs/operator.md):
${quotaUsage()}`

/** Parses "host:port" (IPv6 hosts in brackets). */
function parseHostPort (s: string): { host: string, port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s)
  if (m === null) throw new Error(`--admin wants HOST:PORT, got ${s}`)
  return { host: m[1], port: Number(m[2]) }
}

/** The NodeConfig fields the quota flags given set. */
function quotaConfig (values: Record<string, unknown>): NodeConfig {
  const config: NodeConfig = {}
  for (const o of QUOTA_OPTIONS) {
    const v = values[o.flag]
    if (typeof v === 'string') o.apply(config, parsePositive(`--${o.flag}`, v))
  }
  return config
}

/** Parses a positive integer option. */
function parsePositive (name: string, s: string): number {
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} wants a positive integer, got ${s}`)
  return n
}

async function main (argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      listen: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      ephemeral: { type: 'boolean' },
      admin: { type: 'string' },
      'no-admin': { type: 'boolean' },
      'admin-host': { type: 'string', multiple: true },
      'traffic-capture': { type: 'string' },
      ...Object.fromEntries(QUOTA_OPTIONS.map((o) => [o.flag, { type: 'string' as const }])),
      'trusted-relay': { type: 'string', multiple: true },
      upstream: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true || positionals[0] !== 'start') {
    process.stdout.write(USAGE)
    process.exitCode = values.help === true ? 0 : 2
    return
  }
  const node = await startNode({
    listen: values.listen,
    dataDir: values.ephemeral === true ? undefined : (values['data-dir'] ?? join(homedir(), '.fabric', 'node')),
    admin: values['no-admin'] === true ? false : values.admin === undefined ? undefined : parseHostPort(values.admin),
    adminHosts: values['admin-host'],
    trafficCapture: values['traffic-capture'],
    trustedRelays: values['trusted-relay'],
    upstream: values.upstream,
    ...quotaConfig(values as Record<string, unknown>),
  })
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ event: 'ready', peerId: node.peerId, multiaddrs: node.multiaddrs, adminUrl: node.adminUrl, adminTokenFile: node.adminTokenFile, dataDir: node.dataDir, pid: process.pid }) + '\n')
  } else {
    process.stdout.write(`fabric-node ${node.peerId}\n`)
    for (const a of node.multiaddrs) process.stdout.write(`  listening ${a}\n`)
    if (node.adminUrl !== undefined) process.stdout.write(`  admin     ${node.adminUrl}/api/v1/stats\n`)
    if (node.adminTokenFile !== undefined) process.stdout.write(`  admin token file ${node.adminTokenFile}\n`)
    process.stdout.write(`  data dir  ${node.dataDir ?? '(ephemeral)'}\n`)
  }
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    node.stop().then(() => {
      if (values.json === true) process.stdout.write(JSON.stringify({ event: 'stopped', signal }) + '\n')
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
  process.stderr.write(`fabric-node: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
