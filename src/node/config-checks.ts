/**
 * Checks of the addresses and ids a node is configured with, done before
 * anything binds, each answering with what to write instead. Pure: a check
 * returns the problem as text (undefined when the value is fine), and the
 * caller names the option the value came from (`--listen`, `FABRIC_LISTEN`,
 * `listen` in a config file, or the NodeConfig field). checkNodeConfig
 * applies them to a NodeConfig, for library users of startNode.
 */
import { isIP } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

/**
 * A node option whose value was refused. The message is one line:
 * `[file: ]field: problem`, the problem saying what to write instead.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  /**
   * The option as its source spells it: `--listen`, `FABRIC_LISTEN`, a config
   * file key such as `listen`, or a NodeConfig field such as `NodeConfig.listen`;
   * empty when the whole file is refused (bad syntax).
   */
  readonly field: string
  /** The config file the value came from, if it came from one. */
  readonly file: string | undefined

  constructor (field: string, problem: string, file?: string) {
    super([file, field, problem].filter((p) => p !== undefined && p !== '').join(': '))
    this.field = field
    this.file = file
  }
}

const HOST_PROTOCOLS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])

/** `host:port` or `[v6]:port`, the shape people type when a multiaddr is wanted. */
function hostPortSuggestion (s: string): string | undefined {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s)
  if (m === null) return undefined
  const host = m[1]
  const proto = host.includes(':') ? 'ip6' : /^[\d.]+$/.test(host) ? 'ip4' : 'dns'
  return `/${proto}/${host === '' ? '0.0.0.0' : host}/tcp/${m[2]}`
}

/** Parses a multiaddr, or returns the problem (with the multiaddr the input probably meant). */
function parse (s: string): Multiaddr | string {
  try {
    return multiaddr(s)
  } catch {
    const meant = hostPortSuggestion(s)
    return meant === undefined
      ? `${JSON.stringify(s)} is not a multiaddr; write one such as /ip4/0.0.0.0/tcp/4101`
      : `${JSON.stringify(s)} is not a multiaddr; write ${meant}`
  }
}

/**
 * Checks a TCP address of this node: `/ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT`,
 * with `/p2p/<peer id>` allowed after it when `allowPeer`.
 */
function checkTcpAddress (s: string, allowPeer: boolean, role: string): string | undefined {
  const ma = parse(s)
  if (typeof ma === 'string') return ma
  const parts = ma.getComponents()
  const [host, tcp, ...rest] = parts
  const extra = rest.filter((c) => !(allowPeer && c.name === 'p2p'))
  if (host === undefined || !HOST_PROTOCOLS.has(host.name) || tcp?.name !== 'tcp' || extra.length > 0) {
    const head = host !== undefined && HOST_PROTOCOLS.has(host.name) && tcp?.name === 'tcp' ? `/${host.name}/${host.value ?? ''}/tcp/${tcp.value ?? ''}` : '/ip4/0.0.0.0/tcp/4101'
    const what = extra.length > 0 ? `${extra.map((c) => `/${c.name}`).join('')} is not supported` : 'it is not a TCP address'
    return `${s}: ${what}; a node ${role} TCP only, such as ${head}`
  }
  return undefined
}

/** Checks a listen multiaddr (TCP, no /p2p). @returns the problem, or undefined */
export function checkListenAddress (s: string): string | undefined {
  return checkTcpAddress(s, false, 'listens on')
}

/** Checks an announce multiaddr (TCP; its /p2p part, if any, is ignored by libp2p). @returns the problem, or undefined */
export function checkAnnounceAddress (s: string): string | undefined {
  return checkTcpAddress(s, true, 'announces')
}

/** Checks a peer id as members and nodes spell it (canonical base58, Ed25519). @returns the problem, or undefined */
export function checkPeerId (s: string): string | undefined {
  let id
  try {
    id = peerIdFromString(s)
  } catch {
    return `${JSON.stringify(s)} is not a peer id; use the id the other node prints at start (12D3KooW...)`
  }
  if (id.type !== 'Ed25519') return `${s} is a ${id.type} peer id; fabric nodes and members use Ed25519 ids (12D3KooW...)`
  if (id.toString() !== s) return `${s} is not spelled canonically; write ${id.toString()}`
  return undefined
}

/** Checks an upstream node's address: a TCP multiaddr ending in /p2p/<its peer id>. @returns the problem, or undefined */
export function checkUpstreamAddress (s: string): string | undefined {
  const problem = checkTcpAddress(s, true, 'dials upstream over')
  if (problem !== undefined) return problem
  const peer = multiaddr(s).getComponents().find((c) => c.name === 'p2p')
  if (peer?.value === undefined) return `${s} names no peer; end it with /p2p/<the upstream node's peer id>, as the upstream prints it at start`
  return checkPeerId(peer.value)
}

/** Parses `HOST:PORT` (IPv6 in brackets). @returns the pair, or the problem */
export function parseHostPort (s: string): { host: string, port: number } | string {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s)
  const port = m === null ? NaN : Number(m[2])
  if (m === null || port > 65535) return `${JSON.stringify(s)} is not HOST:PORT; write one such as 127.0.0.1:4100`
  return { host: m[1], port }
}

/**
 * Checks the addresses and ids of a NodeConfig (listen, announce, upstream,
 * trustedRelays, admin), cheaply and before anything binds.
 * @throws ConfigError naming the field, e.g. `NodeConfig.listen`
 */
export function checkNodeConfig (config: {
  listen?: string[]
  announce?: string[]
  upstream?: string
  trustedRelays?: string[]
  admin?: { host: string, port: number } | false
  web?: { host: string, port: number, iceHosts?: string[], icePortRange?: [number, number] }
}): void {
  const each = (field: string, values: string[] | undefined, check: (s: string) => string | undefined): void => {
    for (const v of values ?? []) {
      const problem = check(v)
      if (problem !== undefined) throw new ConfigError(`NodeConfig.${field}`, problem)
    }
  }
  each('listen', config.listen, checkListenAddress)
  each('announce', config.announce, checkAnnounceAddress)
  each('upstream', config.upstream === undefined ? undefined : [config.upstream], checkUpstreamAddress)
  each('trustedRelays', config.trustedRelays, checkPeerId)
  const admin = config.admin
  if (admin !== undefined && admin !== false && (!Number.isInteger(admin.port) || admin.port < 0 || admin.port > 65535 || admin.host === '')) {
    throw new ConfigError('NodeConfig.admin', `${JSON.stringify(admin)} is not a host and a port 0..65535; write one such as { host: '127.0.0.1', port: 4100 }`)
  }
  const web = config.web
  if (web !== undefined) {
    if (!Number.isInteger(web.port) || web.port < 0 || web.port > 65535 || web.host === '') {
      throw new ConfigError('NodeConfig.web', `${JSON.stringify({ host: web.host, port: web.port })} is not a host and a port 0..65535; write one such as { host: '127.0.0.1', port: 8080 }`)
    }
    const wildcard = web.host === '0.0.0.0' || web.host === '::'
    if (wildcard && (web.iceHosts === undefined || web.iceHosts.length === 0)) {
      throw new ConfigError('NodeConfig.web.iceHosts', `the web endpoint listens on ${web.host}, which members cannot reach over ICE; name the address they can (--web-ice-host 203.0.113.7)`)
    }
    for (const h of web.iceHosts ?? []) {
      if (isIP(h) === 0 || h === '0.0.0.0' || h === '::') throw new ConfigError('NodeConfig.web.iceHosts', `${h} is not a concrete IPv4 or IPv6 address`)
    }
    const range = web.icePortRange
    if (range !== undefined && !(Number.isInteger(range[0]) && Number.isInteger(range[1]) && range[0] > 0 && range[0] < range[1] && range[1] <= 65535)) {
      throw new ConfigError('NodeConfig.web.icePortRange', `${range.join('-')} is not a UDP port range MIN-MAX with 0 < MIN < MAX <= 65535`)
    }
  }
}

/**
 * The problem a libp2p "Some configured addresses failed to be listened on"
 * error describes, as a fix: the first address that failed, the system's
 * reason and what to do about it.
 * @returns the problem, or undefined when `message` names no failed address
 */
export function listenFailure (message: string): string | undefined {
  const m = /^\s+(\/\S+): (?:Error: )?(.*)$/m.exec(message)
  if (m === null) return undefined
  const [, addr, reason] = m
  const fix = /EADDRINUSE/.test(reason)
    ? 'another process holds that port; stop it or listen on another port'
    : /EADDRNOTAVAIL/.test(reason)
      ? 'this machine has no such address; listen on one of its addresses, or /ip4/0.0.0.0 for all'
      : /EACCES/.test(reason)
        ? 'ports below 1024 need privileges; listen on a port above 1023'
        : 'fix or remove that listen address'
  return `${addr} cannot be bound (${reason}); ${fix}`
}
