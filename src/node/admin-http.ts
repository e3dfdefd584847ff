/**
 * Admin HTTP endpoint of a node, for operators and tests: GET or HEAD
 * /healthz (the process answers) and /readyz (it takes members), GET /api/v1/stats (JSON counters of every service) and GET /metrics
 * (Prometheus text). Bound before `startNode` returns; loopback by default.
 *
 * Every request must name an allowed Host (loopback names, or those the
 * operator adds): a page on another origin that rebinds its DNS name to
 * 127.0.0.1 still has the browser send its own name as Host, so it is refused
 * before anything is read. Everything but the two probes also needs
 * `Authorization: Bearer <token>`, since the stats name streams and members
 * and any local user or process could otherwise read them.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIPv4, isIPv6, type AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

/** A listening admin endpoint. */
export interface AdminHttp {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string
  close: () => Promise<void>
}

/** Who may use the endpoint. */
export interface AdminAccess {
  /** The bearer token every request but GET /healthz must present (RFC 6750 b64token syntax). */
  token: string
  /** Host names allowed besides the loopback ones (any case; IPv6 with or without brackets; no port). */
  hosts?: string[]
}

/** RFC 6750 b64token: the only characters a bearer token can carry in the header. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

const REALM = 'Bearer realm="fabric-node"'

/** JSON.stringify that writes bigints as decimal strings. */
function toJson (value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v, 2)
}

/**
 * The host part of a Host header (or of an --admin-host name), lowercased,
 * IPv6 without brackets and in its canonical form; undefined when it is not a
 * plain DNS name, IPv4 address or bracketed IPv6 address with an optional port.
 * Strict on purpose: whatever is accepted here is compared against the allow list.
 * @param allowPort false for an allow-list entry, which names no port
 */
export function hostOf (header: string, allowPort = true): string | undefined {
  const port = allowPort ? '(?::\\d*)?' : ''
  const v6 = new RegExp(`^\\[([0-9A-Fa-f:.]+)\\]${port}$`).exec(header)
  if (v6 !== null) return isIPv6(v6[1]) ? canonicalV6(v6[1]) : undefined
  const name = new RegExp(`^([A-Za-z0-9._-]+)${port}$`).exec(header)
  return name === null ? undefined : name[1].toLowerCase()
}

/** ::1, 0:0:0:0:0:0:0:1 and so on, spelled one way (the URL parser's). */
function canonicalV6 (address: string): string {
  return new URL(`http://[${address}]`).hostname.slice(1, -1)
}

/** localhost, 127.0.0.0/8 or ::1 (as `hostOf` returns them). */
function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'))
}

/** Normalizes the extra host names. @throws on one that is not a bare host name or address */
function allowedHosts (hosts: string[]): Set<string> {
  const out = new Set<string>()
  for (const h of hosts) {
    const host = isIPv6(h) ? canonicalV6(h) : hostOf(h, false)
    if (host === undefined) throw new Error(`admin host must be a host name or address without a port, got ${JSON.stringify(h)}`)
    out.add(host)
  }
  return out
}

/** Whether `header` is `Bearer <token>`, compared in constant time. */
function authorized (header: string | undefined, token: Buffer): boolean {
  if (header === undefined) return false
  const m = /^Bearer +(\S+) *$/i.exec(header)
  if (m === null) return false
  const presented = Buffer.from(m[1], 'utf8')
  // The length is no secret (a generated token is always 64 characters);
  // timingSafeEqual throws on unequal lengths anyway.
  return presented.length === token.length && timingSafeEqual(presented, token)
}

function text (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  // nosniff: the 403 body echoes the refused Host header.
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers }).end(body)
}

/**
 * Checks an access config without starting anything, so a node can refuse it
 * before it binds its other listeners. A missing token is not checked.
 * @throws when the token is not b64token syntax or an extra host is not a
 *   bare host name or address
 */
export function checkAdminAccess (access: Partial<AdminAccess>): void {
  // An empty token would match `Bearer ` with nothing after it.
  if (access.token !== undefined && !B64TOKEN.test(access.token)) throw new Error('admin token must be a non-empty RFC 6750 b64token')
  allowedHosts(access.hosts ?? [])
}

/**
 * Starts the endpoint; resolves once it listens. `readiness` says why the
 * node cannot take members now (GET /readyz answers 503 with it), or
 * undefined when it can (200).
 * @throws what `checkAdminAccess` throws, or when the address cannot be bound
 */
export async function startAdminHttp (listen: { host: string, port: number }, access: AdminAccess, stats: () => unknown, metrics?: Registry, readiness: () => string | undefined = () => undefined, reports: Record<string, () => unknown> = {}): Promise<AdminHttp> {
  checkAdminAccess(access)
  const token = Buffer.from(access.token, 'utf8')
  const extraHosts = allowedHosts(access.hosts ?? [])

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const host = req.headers.host === undefined ? undefined : hostOf(req.headers.host)
    if (host === undefined || !(isLoopback(host) || extraHosts.has(host))) {
      const named = req.headers.host === undefined ? 'a request without a Host header' : `Host ${JSON.stringify(req.headers.host)}`
      text(res, 403, `fabric-node admin: ${named} refused; only loopback names are allowed unless --admin-host allows more\n`)
      return
    }
    // Probes carry no token (load balancers and orchestrators send none) and
    // say nothing beyond up/ready; HEAD answers as GET without a body.
    if (req.url === '/healthz' || req.url === '/readyz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        text(res, 405, 'GET or HEAD\n', { allow: 'GET, HEAD' })
        return
      }
      const notReady = req.url === '/readyz' ? readiness() : undefined
      text(res, notReady === undefined ? 200 : 503, notReady === undefined ? 'ok\n' : `not ready: ${notReady}\n`)
      return
    }
    if (!authorized(req.headers.authorization, token)) {
      const why = req.headers.authorization === undefined ? 'admin token required' : 'wrong admin token'
      text(res, 401, `fabric-node admin: ${why}; send Authorization: Bearer <contents of the admin-token file>\n`, { 'www-authenticate': REALM })
      return
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end()
    } else if (req.url === '/api/v1/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(toJson(stats()))
    } else if (req.url !== undefined && Object.hasOwn(reports, req.url)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(toJson(reports[req.url]!()))
    } else if (req.url === '/metrics' && metrics !== undefined) {
      metrics.metrics().then((body) => {
        res.writeHead(200, { 'content-type': metrics.contentType }).end(body)
      }, (err: unknown) => {
        text(res, 500, `metrics failed: ${String(err)}\n`)
      })
    } else {
      res.writeHead(404).end()
    }
  }

  const server: Server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port, listen.host, () => { server.off('error', reject); resolve() })
  })
  const addr = server.address() as AddressInfo
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }); server.closeAllConnections() }) },
  }
}
