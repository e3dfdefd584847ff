/**
 * The admin endpoint's access rules, over real HTTP on loopback: the bearer
 * token (everything but /healthz), the Host allow list (everything, against
 * DNS rebinding), and where the token lives (data dir file reused across
 * starts; an ephemeral node's temp file removed by stop).
 */
import { request } from 'node:http'
import { connect } from 'node:net'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAdminHttp } from '../../src/node/admin-http.js'
import { startNode, type NodeConfig, type NodeHandle } from '../../src/node/node.js'

const LOOPBACK: NodeConfig = { admin: { host: '127.0.0.1', port: 0 }, listen: ['/ip4/127.0.0.1/tcp/0'] }

interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** GET with headers fetch would refuse to set (Host). */
async function get (node: { adminUrl?: string }, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const url = new URL(node.adminUrl!)
  return await new Promise<Reply>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode!, headers: res.headers, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * The status line of an HTTP/1.0 request written by hand, for a missing or
 * empty Host header (node:http always sends a non-empty one).
 */
async function rawStatus (node: NodeHandle, path: string, headerLines = ''): Promise<string> {
  const url = new URL(node.adminUrl!)
  return await new Promise<string>((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname, () => { sock.write(`GET ${path} HTTP/1.0\r\n${headerLines}\r\n`) })
    let data = ''
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => { data += chunk })
    sock.on('end', () => { resolve(data.split('\r\n')[0]) })
    sock.on('error', reject)
  })
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** The same length as `token`, one character different. */
const flipped = (token: string): string => token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')

describe('admin endpoint of an ephemeral node', () => {
  let node: NodeHandle
  beforeAll(async () => { node = await startNode(LOOPBACK) })
  afterAll(async () => { await node?.stop() })

  it('answers /healthz without a token', async () => {
    const res = await get(node, '/healthz')
    expect(res.status).toBe(200)
    expect(res.body).toBe('ok\n')
  })

  it('answers HEAD /healthz, and GET and HEAD /readyz, without a token; other methods 405', async () => {
    const head = await get(node, '/healthz', {}, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    const ready = await get(node, '/readyz')
    expect(ready.status).toBe(200)
    expect(ready.body).toBe('ok\n')
    expect((await get(node, '/readyz', {}, 'HEAD')).status).toBe(200)
    const post = await get(node, '/healthz', {}, 'POST')
    expect(post.status).toBe(405)
    expect(post.headers.allow).toBe('GET, HEAD')
    expect(node.readiness()).toBeUndefined()
  })

  it('a node is not ready from the moment stop() is called', async () => {
    const other = await startNode(LOOPBACK)
    expect(other.readiness()).toBeUndefined()
    const stopped = other.stop()
    expect(other.readiness()).toBe('stopping')
    await stopped
  })

  it('/readyz answers 503 with the reason while the node cannot take members', async () => {
    let reason: string | undefined = 'stopping'
    const http = await startAdminHttp({ host: '127.0.0.1', port: 0 }, { token: 'a'.repeat(64) }, () => ({}), undefined, () => reason)
    const admin = { adminUrl: http.url }
    try {
      const notReady = await get(admin, '/readyz')
      expect(notReady.status).toBe(503)
      expect(notReady.body).toBe('not ready: stopping\n')
      expect((await get(admin, '/readyz', {}, 'HEAD')).status).toBe(503)
      expect((await get(admin, '/healthz')).status).toBe(200)
      reason = undefined
      expect((await get(admin, '/readyz')).status).toBe(200)
    } finally {
      await http.close()
    }
  })

  it('refuses /api/v1/stats and /metrics without the token, with 401 and a Bearer challenge', async () => {
    for (const path of ['/api/v1/stats', '/metrics']) {
      for (const headers of [
        {},
        bearer(flipped(node.adminToken!)),
        bearer(node.adminToken! + '0'),
        bearer(node.adminToken!.slice(0, 32)),
        { authorization: `Basic ${node.adminToken!}` },
        { authorization: 'Bearer ' },
      ]) {
        const res = await get(node, path, headers)
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
        expect(res.headers['www-authenticate']).toBe('Bearer realm="fabric-node"')
        expect(res.headers['content-type']).toContain('text/plain')
        expect(res.body).toMatch(/admin token/)
      }
    }
  })

  it('answers /api/v1/stats and /metrics with the token', async () => {
    const stats = await get(node, '/api/v1/stats', bearer(node.adminToken!))
    expect(stats.status).toBe(200)
    expect(JSON.parse(stats.body).peerId).toBe(node.peerId)
    const metrics = await get(node, '/metrics', bearer(node.adminToken!))
    expect(metrics.status).toBe(200)
    expect(metrics.body).toContain('fabric_node_process_cpu_user_seconds_total')
    // The scheme is case-insensitive (RFC 7235).
    expect((await get(node, '/metrics', { authorization: `bearer ${node.adminToken!}` })).status).toBe(200)
  })

  it('works with fetch, as scrapers and scripts call it', async () => {
    const res = await fetch(`${node.adminUrl!}/api/v1/stats`, { headers: bearer(node.adminToken!) })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { peerId: string }).peerId).toBe(node.peerId)
  })

  it('refuses a foreign Host with 403, even with the token and on /healthz', async () => {
    for (const path of ['/healthz', '/api/v1/stats', '/metrics']) {
      const res = await get(node, path, { host: 'evil.example', ...bearer(node.adminToken!) })
      expect(res.status, path).toBe(403)
      expect(res.body).toContain('"evil.example"')
      expect(res.body).toContain('--admin-host')
      expect(res.body).not.toContain('"peerId"')
    }
    for (const host of [
      'evil.example:80', 'localhost.evil.example', '127.0.0.1.evil.example', 'evil@localhost',
      'localhost/x', '[::2]', '::1', '127.1', '2130706433', '128.0.0.1', '[::ffff:127.0.0.1]',
    ]) {
      expect((await get(node, '/healthz', { host })).status, `Host ${JSON.stringify(host)}`).toBe(403)
    }
  })

  it('refuses a request with no Host header or an empty one', async () => {
    expect(await rawStatus(node, '/healthz')).toMatch(/^HTTP\/1\.[01] 403 /)
    expect(await rawStatus(node, '/healthz', 'Host: \r\n')).toMatch(/^HTTP\/1\.[01] 403 /)
    expect(await rawStatus(node, '/healthz', 'Host: localhost\r\n')).toMatch(/^HTTP\/1\.[01] 200 /)
  })

  it('accepts every loopback Host, any port, any case', async () => {
    for (const host of ['localhost:1234', 'localhost', 'LocalHost:80', '[::1]:80', '[::1]', '[0:0:0:0:0:0:0:1]:9', '127.0.0.2', '127.255.0.1:8080']) {
      expect((await get(node, '/api/v1/stats', { host, ...bearer(node.adminToken!) })).status, `Host ${host}`).toBe(200)
    }
  })

  it('keeps its token in a private temp file, removed by stop()', async () => {
    expect(node.adminToken).toMatch(/^[0-9a-f]{64}$/)
    expect(node.adminTokenFile).toBeDefined()
    expect(dirname(dirname(node.adminTokenFile!))).toBe(tmpdir())
    expect((await readFile(node.adminTokenFile!, 'utf8')).trim()).toBe(node.adminToken)
    expect((await stat(node.adminTokenFile!)).mode & 0o777).toBe(0o600)
    expect((await stat(dirname(node.adminTokenFile!))).mode & 0o077).toBe(0)

    const other = await startNode(LOOPBACK)
    try {
      expect(other.adminToken).not.toBe(node.adminToken)
      expect(other.adminTokenFile).not.toBe(node.adminTokenFile)
    } finally {
      await other.stop()
    }
    await expect(stat(dirname(other.adminTokenFile!))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('admin endpoint with --admin-host names', () => {
  let node: NodeHandle
  beforeAll(async () => { node = await startNode({ ...LOOPBACK, adminHosts: ['fabric.internal', '[2001:DB8::5]'] }) })
  afterAll(async () => { await node?.stop() })

  it('accepts the named hosts in any case, and still loopback; refuses others', async () => {
    const ok = bearer(node.adminToken!)
    for (const host of ['FABRIC.internal', 'fabric.internal:9100', '[2001:db8:0::5]:80', 'localhost']) {
      expect((await get(node, '/api/v1/stats', { host, ...ok })).status, `Host ${host}`).toBe(200)
    }
    for (const host of ['other.internal', 'fabric.internal.evil.example', 'xfabric.internal']) {
      expect((await get(node, '/api/v1/stats', { host, ...ok })).status, `Host ${host}`).toBe(403)
    }
  })
})

describe('admin token file in a data directory', () => {
  let dir: string
  const nodes: NodeHandle[] = []
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fabric-admin-test-')) })
  afterAll(async () => {
    for (const n of nodes) await n.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('is created with mode 0600 on first start and reused by the next', async () => {
    const dataDir = join(dir, 'node')
    const first = await startNode({ ...LOOPBACK, dataDir })
    nodes.push(first)
    expect(first.adminTokenFile).toBe(join(dataDir, 'admin-token'))
    expect(first.adminToken).toMatch(/^[0-9a-f]{64}$/)
    expect((await stat(first.adminTokenFile!)).mode & 0o777).toBe(0o600)
    expect((await readFile(first.adminTokenFile!, 'utf8')).trim()).toBe(first.adminToken)
    await first.stop()
    await stat(first.adminTokenFile!) // a data dir's token outlives the node

    const second = await startNode({ ...LOOPBACK, dataDir })
    nodes.push(second)
    expect(second.adminToken).toBe(first.adminToken)
    expect((await get(second, '/api/v1/stats', bearer(first.adminToken!))).status).toBe(200)
  })

  it('is refused, not overwritten, when it does not hold a token', async () => {
    const dataDir = join(dir, 'bad')
    await mkdir(dataDir)
    await writeFile(join(dataDir, 'admin-token'), 'hunter2\n', { mode: 0o600 })
    await expect(startNode({ ...LOOPBACK, dataDir })).rejects.toThrow(/admin-token/)
    expect(await readFile(join(dataDir, 'admin-token'), 'utf8')).toBe('hunter2\n')
  })

  it('is not written when the config gives the token or turns the endpoint off', async () => {
    const given = join(dir, 'given')
    const token = 'a'.repeat(40)
    const node = await startNode({ ...LOOPBACK, dataDir: given, adminToken: token })
    nodes.push(node)
    expect(node.adminToken).toBe(token)
    expect(node.adminTokenFile).toBeUndefined()
    expect((await get(node, '/api/v1/stats', bearer(token))).status).toBe(200)
    expect(await readdir(given)).not.toContain('admin-token')

    const off = join(dir, 'off')
    const quiet = await startNode({ ...LOOPBACK, dataDir: off, admin: false })
    nodes.push(quiet)
    expect(quiet.adminUrl).toBeUndefined()
    expect(quiet.adminToken).toBeUndefined()
    expect(quiet.adminTokenFile).toBeUndefined()
    expect(await readdir(off)).not.toContain('admin-token')
  })

  it('refuses an empty token or a host name with a port before starting anything', async () => {
    await expect(startNode({ ...LOOPBACK, adminToken: '' })).rejects.toThrow(/b64token/)
    await expect(startNode({ ...LOOPBACK, adminToken: 'two words' })).rejects.toThrow(/b64token/)
    await expect(startNode({ ...LOOPBACK, adminHosts: ['fabric.internal:9100'] })).rejects.toThrow(/admin host/)
  })
})
