import { multiaddrConnectionPair } from '@libp2p/utils'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Stream } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { hostStreamMuxer, MAX_EARLY_STREAMS } from '../../src/transport/libp2p/host.js'
import { until } from '../timing.js'

/**
 * A dialer that opens many streams at once right after connecting, before
 * the listener's upgrade has attached its stream handler (a loaded node):
 * the host's muxer must hold them, not abort the connection.
 */
async function openEarly (factory: ReturnType<typeof yamux>, count: number): Promise<{ status: string, delivered: number }> {
  const [outbound, inbound] = multiaddrConnectionPair()
  const dialer = factory().createStreamMuxer(outbound)
  const listener = factory().createStreamMuxer(inbound)
  const opened = await Promise.allSettled(Array.from({ length: count }, async () => await dialer.createStream()))
  // Let every SYN reach the listener while nothing listens for streams yet.
  await until(() => listener.streams.length >= count || listener.status !== 'open', 5_000).catch(() => {})
  const delivered: Stream[] = []
  listener.addEventListener('stream', (evt) => { delivered.push(evt.detail) })
  await until(() => delivered.length >= count || listener.status !== 'open', 5_000).catch(() => {})
  const status = listener.status
  dialer.abort(new Error('test over'))
  listener.abort(new Error('test over'))
  expect(opened.every((r) => r.status === 'fulfilled')).toBe(true)
  return { status, delivered: delivered.length }
}

describe('host stream muxer', () => {
  it(`keeps a connection whose peer opens ${MAX_EARLY_STREAMS} streams before the handler is attached`, async () => {
    const result = await openEarly(hostStreamMuxer(), MAX_EARLY_STREAMS)
    expect(result).toEqual({ status: 'open', delivered: MAX_EARLY_STREAMS })
  })

  it('yamux defaults abort that connection (why the bound is raised)', async () => {
    const result = await openEarly(yamux(), 50)
    expect(result.status).not.toBe('open')
    expect(result.delivered).toBeLessThan(50)
  })

  it('still aborts a peer that opens more early streams than the bound', async () => {
    const result = await openEarly(hostStreamMuxer(), MAX_EARLY_STREAMS + 1)
    expect(result.status).not.toBe('open')
  })
})
