/**
 * Node-to-node relaying, in separate processes: node B pulls a stream from
 * node A as a trusted relay and re-seals it for its own subscribers. The
 * chunks a subscriber of B opens are byte-identical to those a subscriber of
 * A opens (the inner SFrame bytes never change at a hop), and each link has
 * its own seal.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, sleep, startMember, startNodeProcess, type MemberProc, type NodeProc } from '../../src/cli/processes.js'
import { LinkOpener } from '../../src/crypto/link-seal.js'
import { deriveTransitKey, generateLinkKeyPair } from '../../src/crypto/transit-key.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { createHost, loadOrCreatePeerKey } from '../../src/transport/libp2p/host.js'
import { chunkSequence } from '../../src/wire/chunk.js'
import { MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import { decodeOpenResult, encodeSubscribeOpen } from '../../src/wire/messages.js'
import { AV_SUBSCRIBE_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { streamKey } from '../../src/wire/stream-tag.js'

const STREAM = 'two-hop'

describe('two hops: publisher -> node A -> node B -> subscriber', () => {
  const procs: Array<NodeProc | MemberProc> = []
  let dir = ''
  afterAll(async () => {
    for (const p of procs.reverse()) await p.proc.stop()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('delivers the same inner bytes through both nodes, sealed per link', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-two-hop-'))
    const bKey = await loadOrCreatePeerKey(join(dir, 'b'))
    const probeKey = await loadOrCreatePeerKey(join(dir, 'probe'))
    const probeId = peerIdFromPrivateKey(probeKey).toString()
    const a = await startNodeProcess({ extra: ['--trusted-relay', peerIdFromPrivateKey(bKey).toString(), '--trusted-relay', probeId] })
    procs.push(a)
    const b = await startNodeProcess({ dataDir: join(dir, 'b'), extra: ['--upstream', a.addr, '--trusted-relay', probeId] })
    procs.push(b)
    const alice = await startMember({ name: 'alice', node: a.addr, stream: STREAM, create: true, publish: join(REPO_ROOT, 'fixtures', 'media', 'alice.ivf'), loop: true })
    procs.push(alice)
    const key = streamKey(alice.identity, STREAM)

    const host = await createHost({ listen: [], privateKey: probeKey })
    try {
      const subscribe = async (addr: string): Promise<{ chunks: Map<number, Uint8Array>, links: Uint8Array[] }> => {
        const own = generateLinkKeyPair()
        const framed = new Libp2pChannel(await host.dialProtocol(multiaddr(addr), AV_SUBSCRIBE_PROTOCOL), MAX_MEDIA_FRAME)
        await framed.send(encodeSubscribeOpen({ stream: STREAM, owner: alice.identity, subscriberPublicKey: own.publicKey, relay: true }))
        const res = decodeOpenResult(await framed.next(20_000))
        expect(res.error).toBeUndefined()
        const opener = new LinkOpener(deriveTransitKey({ privateKey: own.privateKey, peerPublicKey: res.relayPublicKey, subscriberPublicKey: own.publicKey, relayPublicKey: res.relayPublicKey, stream: key }))
        const out = { chunks: new Map<number, Uint8Array>(), links: [] as Uint8Array[] }
        void (async () => {
          for await (const sealed of framed.rest()) {
            const chunk = opener.open(sealed)
            out.links.push(sealed.slice())
            out.chunks.set(chunkSequence(chunk), chunk.slice())
          }
        })().catch(() => {})
        return out
      }
      const viaA = await subscribe(a.addr)
      const viaB = await subscribe(b.addr)
      await sleep(3_000)

      const common = [...viaB.chunks.keys()].filter((seq) => viaA.chunks.has(seq))
      expect(common.length).toBeGreaterThan(30)
      for (const seq of common) expect(Buffer.from(viaB.chunks.get(seq)!).equals(Buffer.from(viaA.chunks.get(seq)!)), `chunk ${seq}`).toBe(true)
      // Sealed bytes differ per link: each hop re-seals with its own transit key.
      const sealedA = new Set(viaA.links.map((x) => Buffer.from(x).toString('hex')))
      expect(viaB.links.some((x) => sealedA.has(Buffer.from(x).toString('hex')))).toBe(false)
    } finally {
      await host.stop()
    }
  }, 90_000)
})
