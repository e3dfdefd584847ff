/**
 * What a node logs, read back as an operator's log collector would: one JSON
 * object per line, each with its level name, time, component and event. A
 * real node and real members over libp2p, in this process; the lines go to
 * a memory sink through the same createLogger the CLI uses.
 */
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { FabricClient } from '../../src/client/client.js'
import { fetchKeyPackage } from '../../src/client/directory-client.js'
import { createLogger } from '../../src/node/log.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'
import { codeOf } from '../codes.js'
import { sleep } from '../timing.js'

type Line = Record<string, unknown> & { level: string, time: string, component: string, event: string, msg: string }

/** A pino destination keeping every line, parsed. */
function memorySink (): { stream: Writable, lines: Line[], raw: string[] } {
  const lines: Line[] = []
  const raw: string[] = []
  let buf = ''
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      buf += chunk.toString('utf8')
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        raw.push(text)
        lines.push(JSON.parse(text) as Line)
      }
      done()
    },
  })
  return { stream, lines, raw }
}

describe('node log', () => {
  const sink = memorySink()
  let node: NodeHandle
  const clients: FabricClient[] = []
  const connect = async (): Promise<FabricClient> => {
    const c = await FabricClient.connect({ node: node.multiaddrs[0]! })
    clients.push(c)
    return c
  }
  const find = (event: string, pred: (l: Line) => boolean = () => true): Line | undefined =>
    sink.lines.find((l) => l.event === event && pred(l))

  beforeAll(async () => {
    node = await startNode({ admin: false, log: createLogger({ level: 'info', pretty: false, destination: sink.stream }) })
  })
  afterAll(async () => {
    for (const c of clients) await c.close()
    await node?.stop()
  })

  it('every line is one JSON object with level, ISO time, component, event and message', async () => {
    const started = find('node.started')
    expect(started).toBeDefined()
    expect(started!.component).toBe('node')
    expect(started!.peerId).toBe(node.peerId)
    expect(started!.multiaddrs).toEqual(node.multiaddrs)
    for (const l of sink.lines) {
      expect(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).toContain(l.level)
      expect(Number.isNaN(Date.parse(l.time))).toBe(false)
      expect(typeof l.component).toBe('string')
      expect(typeof l.event).toBe('string')
      expect(typeof l.msg).toBe('string')
    }
  })

  it('a join: the request, the Commit that adds the joiner, the Welcome, with who and which epoch', async () => {
    const owner = await connect()
    const member = await owner.createStream('logged', { admission: { admission: 'open' } })
    const joiner = await connect()
    await joiner.joinStream('logged', { owner: owner.identity })
    await sleep(200)
    const tail = (id: string): string => id.slice(-12)

    const created = find('stream.created', (l) => l.stream === member.key)
    expect(created, 'stream.created').toMatchObject({ component: 'group', level: 'info', epoch: '0', members: 1 })
    const requested = find('join.requested', (l) => l.joiner === tail(joiner.identity))
    expect(requested, 'join.requested').toMatchObject({ component: 'group', committer: tail(owner.identity), invitation: false })
    const commit = find('commit.accepted', (l) => l.stream === member.key)
    expect(commit, 'commit.accepted').toMatchObject({ component: 'group', epoch: '1', members: 2, added: [tail(joiner.identity)], removed: [] })
    const welcome = find('welcome.sent', (l) => l.joiner === tail(joiner.identity))
    expect(welcome, 'welcome.sent').toMatchObject({ component: 'group', epoch: '1' })
    const conn = find('connection.open', (l) => l.peer === tail(joiner.identity))
    expect(conn, 'connection.open').toMatchObject({ component: 'host', direction: 'inbound' })
    expect(typeof conn!.remote).toBe('string')
  })

  it('a refusal: its code, its reason and who was refused', async () => {
    const owner = await connect()
    await owner.createStream('closed')
    const outsider = await connect()
    expect(await codeOf(outsider.joinStream('closed', { owner: owner.identity }))).toBe('NOT_ADMITTED')
    await sleep(200)
    const refusal = find('refusal', (l) => l.peer === outsider.identity.slice(-12))
    expect(refusal, 'refusal').toMatchObject({ component: 'group', level: 'info', code: 'NOT_ADMITTED' })
    expect(typeof refusal!.reason).toBe('string')
  })

  it('a directory refusal carries its code too', async () => {
    const c = await connect()
    // Fetching someone else's KeyPackage: only the committer of a pending join may.
    expect(await codeOf(fetchKeyPackage(libp2pDialer(c.libp2p, multiaddr(node.multiaddrs[0]!)), node.peerId))).toBe('NOT_ADMITTED')
    await sleep(100)
    expect(find('refusal', (l) => l.component === 'directory' && l.code === 'NOT_ADMITTED')).toBeDefined()
  })

  it('never a key, a token or a payload: no long hex or base64 runs in any line', () => {
    for (const text of sink.raw) {
      // Peer ids are base58 (12D3KooW... 52 chars) and are shortened to 12 in events;
      // stream keys are owner/name. Anything 40+ hex or 44+ base64 characters long would be key-like.
      expect(text).not.toMatch(/[0-9a-f]{40,}/)
      expect(text.replace(/12D3KooW[1-9A-HJ-NP-Za-km-z]{44}/g, '')).not.toMatch(/[A-Za-z0-9+/]{44,}={0,2}/)
    }
  })
})
