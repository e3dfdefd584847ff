/**
 * The admin endpoint's Prometheus text reflects the node's counters at each
 * scrape (a real node and a real member over libp2p, in this process).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'

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
