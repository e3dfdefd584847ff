/**
 * Admin HTTP endpoint of a node, for operators and tests: GET /healthz,
 * GET /api/v1/stats (JSON counters of every service) and GET /metrics
 * (Prometheus text). Bound before `startNode` returns; loopback by default.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

/** A listening admin endpoint. */
export interface AdminHttp {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string
  close: () => Promise<void>
}

/** JSON.stringify that writes bigints as decimal strings. */
function toJson (value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v, 2)
}

/** Starts the endpoint; resolves once it listens. */
export async function startAdminHttp (listen: { host: string, port: number }, stats: () => unknown, metrics?: Registry): Promise<AdminHttp> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405).end()
      return
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
    } else if (req.url === '/api/v1/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(toJson(stats()))
    } else if (req.url === '/metrics' && metrics !== undefined) {
      metrics.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.contentType }).end(text)
      }, (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`)
      })
    } else {
      res.writeHead(404).end()
    }
  })
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
