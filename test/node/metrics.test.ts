/**
 * The admin endpoint's Prometheus text reflects the node's counters at each
 * scrape (a real node and real members over libp2p, in this process), holds
 * libp2p's own metrics and the relay's latency histograms, and passes
 * `promtool check metrics` (Debian's prometheus package; .ci/run installs it).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../../src/cli/processes.js'
import { afterAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'

/** GET /metrics of `node`, as text. */
async function scrapeText (node: NodeHandle): Promise<string> {
  const res = await fetch(`${node.adminUrl!}/metrics`, { headers: { authorization: `Bearer ${node.adminToken!}` } })
  expect(res.status).toBe(200)
  return await res.text()
}

/**
 * Pipes `text` to `promtool check metrics`.
 * @returns its exit code and everything it printed (lint problems)
 * @throws when promtool is not on PATH, saying how to get it
 */
async function promtoolCheck (text: string): Promise<{ code: number | null, output: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT'
        ? new Error('promtool is not on PATH: install Debian\'s prometheus package (apt-get install --no-install-recommends prometheus), as .ci/run does')
        : err)
    })
    child.on('close', (code) => { resolve({ code, output }) })
    // promtool may exit before reading everything; its exit code says what went wrong.
    child.stdin.on('error', () => {})
    child.stdin.end(text)
  })
}

/** The value of the sample line `series` (name and labels exactly as exposed), or undefined. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Polls `check` every 50 ms until it holds, failing with `what` after `ms`. */
async function until (check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('GET /metrics', () => {
  let node: NodeHandle | undefined
  let client: FabricClient | undefined
  afterAll(async () => {
    await client?.close()
    await node?.stop()
  })

  const scrape = async (): Promise<{ text: string, type: string | null }> => {
    const res = await fetch(`${node!.adminUrl!}/metrics`, { headers: { authorization: `Bearer ${node!.adminToken!}` } })
    expect(res.status).toBe(200)
    return { text: await res.text(), type: res.headers.get('content-type') }
  }
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '))
    expect(line, `series ${series}`).toBeDefined()
    return Number(line!.slice(series.length + 1))
  }

  it('exposes relay, group and process metrics that follow the counters', async () => {
    node = await startNode()
    client = await FabricClient.connect({ node: node.multiaddrs[0] })
    const member = await client.createStream('metrics')
    const video = member.publishTrack(0)
    for (let i = 0; i < 3; i++) await video.sendFrame(new Uint8Array(500).fill(i), { keyframe: i === 0 })
    await new Promise((resolve) => setTimeout(resolve, 200))

    const first = await scrape()
    const stream = member.key
    expect(first.type).toContain('text/plain')
    expect(value(first.text, `fabric_relay_chunks_in_total{stream="${stream}"}`)).toBe(3)
    expect(value(first.text, `fabric_group_members{stream="${stream}"}`)).toBe(1)
    expect(value(first.text, `fabric_group_epoch{stream="${stream}"}`)).toBe(0)
    expect(value(first.text, `fabric_relay_gop_cache_bytes{stream="${stream}"}`)).toBeGreaterThan(1500)
    expect(value(first.text, 'fabric_group_pending_joins')).toBe(0)
    expect(value(first.text, 'fabric_connections_refused_total')).toBe(0)
    expect(first.text).toContain('# TYPE fabric_group_refused_total counter')
    expect(first.text).toContain('# TYPE fabric_directory_stored_bytes gauge')
    expect(first.text).toContain('# TYPE fabric_relay_dropped_total counter')
    expect(first.text).toContain('fabric_node_process_cpu_user_seconds_total')

    await video.sendFrame(new Uint8Array(500), { keyframe: false })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const second = await scrape()
    expect(value(second.text, `fabric_relay_chunks_in_total{stream="${stream}"}`)).toBe(4)
  })
})

describe('GET /metrics: lint, libp2p metrics, latency histograms', () => {
  let node: NodeHandle | undefined
  const clients: FabricClient[] = []
  afterAll(async () => {
    for (const c of clients) await c.close()
    await node?.stop()
  })

  it('passes promtool check metrics with media flowing, and the histograms count what reached a subscriber', async () => {
    node = await startNode()
    const owner = await FabricClient.connect({ node: node.multiaddrs[0] })
    clients.push(owner)
    const member = await owner.createStream('lint', { admission: { admission: 'open' } })
    const viewerClient = await FabricClient.connect({ node: node.multiaddrs[0] })
    clients.push(viewerClient)
    const viewer = await viewerClient.joinStream('lint', { owner: owner.identity })
    let received = 0
    viewer.on('frame', () => { received++ })
    const relayed = (): boolean => node!.stats().relay.subscribers.some((s) => s.identity === viewerClient.identity && s.stream === member.key)
    await until(relayed, 'the viewer\'s subscription at the node')

    const count = (text: string, family: string): number => sample(text, `${family}_count`) ?? Number.NaN
    const before = await scrapeText(node)
    const video = member.publishTrack(0)
    for (let i = 0; i < 10; i++) await video.sendFrame(new Uint8Array(800).fill(i), { keyframe: i === 0 })
    await until(() => received >= 10, 'the viewer to decrypt 10 frames')
    const after = await scrapeText(node)

    for (const family of ['fabric_relay_queue_delay_seconds', 'fabric_relay_forward_latency_seconds']) {
      expect(after).toContain(`# TYPE ${family} histogram`)
      expect(sample(after, `${family}_bucket{le="0.0005"}`), `${family} first bucket`).toBeDefined()
      expect(sample(after, `${family}_bucket{le="2"}`), `${family} last finite bucket`).toBeDefined()
      expect(sample(after, `${family}_sum`), `${family}_sum`).toBeGreaterThan(0)
      expect(sample(after, `${family}_bucket{le="+Inf"}`)).toBe(count(after, family))
      expect(count(after, family) - count(before, family), `${family}_count grew by the frames forwarded`).toBeGreaterThanOrEqual(10)
    }
    // The JSON stats carry the same histograms.
    expect(node.stats().relay.latency.forwardLatency.count).toBeGreaterThanOrEqual(10)

    // libp2p's own metrics, on the same endpoint.
    expect(after).toContain('# TYPE libp2p_connection_manager_connections gauge')
    expect(sample(after, 'libp2p_connection_manager_connections{libp2p_connection_manager_connections="inbound"}'), 'inbound libp2p connections').toBeGreaterThanOrEqual(2)
    expect(after).toContain('# TYPE libp2p_data_transfer_bytes_total counter')
    expect(after).toMatch(/^libp2p_protocol_streams\{protocol="inbound \/fabric\/av\/subscribe\/1"\} [1-9]/m)
    // Process metrics that lint.
    expect(after).toContain('# TYPE fabric_node_process_resident_memory_bytes gauge')
    expect(after).toContain('# TYPE fabric_node_nodejs_eventloop_lag_seconds gauge')
    expect(after).toContain('# TYPE fabric_node_nodejs_gc_duration_seconds histogram')

    // Every family the Grafana dashboard queries is on the endpoint.
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'grafana', 'fabric-node.json'), 'utf8')) as {
      templating: { list: Array<{ name: string, type: string, query: unknown }> }
      panels: Array<{ targets?: Array<{ expr: string }> }>
    }
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' })
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => t.expr.match(/\b(?:fabric|libp2p)_[a-z0-9_]+/g) ?? []))
    expect(queried.size).toBeGreaterThan(20)
    const exposed = new Set([...after.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]))
    expect([...queried].filter((name) => !exposed.has(name)), 'dashboard queries of families /metrics lacks').toEqual([])

    const lint = await promtoolCheck(after)
    expect(lint.output, 'promtool check metrics output').toBe('')
    expect(lint.code, 'promtool check metrics exit code').toBe(0)
  }, 60_000)
})

describe('GET /metrics without libp2p metrics', () => {
  it('libp2pMetrics: false leaves libp2p families off and keeps the node and process ones', async () => {
    const node = await startNode({ libp2pMetrics: false })
    try {
      const res = await fetch(`${node.adminUrl!}/metrics`, { headers: { authorization: `Bearer ${node.adminToken!}` } })
      const text = await res.text()
      expect(text.split('\n').filter((l) => l.startsWith('libp2p_'))).toEqual([])
      expect(text).toContain('# TYPE fabric_relay_queue_delay_seconds histogram')
      expect(text).toContain('fabric_node_process_cpu_user_seconds_total')
    } finally {
      await node.stop()
    }
  })
})
