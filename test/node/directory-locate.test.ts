/**
 * The directory's locate request (protocol/directory.proto LocateStream) on
 * a real node: a stream whose group service runs on the node is at home
 * there; a stream no node is known to hold is NOT_FOUND; a malformed
 * address never leaves the member (the codec refuses it before sending).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { locateStream } from '../../src/client/directory-client.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { codeOf } from '../codes.js'

describe('locating a stream through the directory', () => {
  let node: NodeHandle
  let alice: FabricClient
  let bob: FabricClient

  beforeAll(async () => {
    node = await startNode({ admin: false })
    alice = await FabricClient.connect({ node: node.multiaddrs[0]! })
    bob = await FabricClient.connect({ node: node.multiaddrs[0]! })
  })

  afterAll(async () => {
    await Promise.allSettled([alice?.close(), bob?.close()])
    await node?.stop()
  })

  it('names this node as the home of a stream it holds, and NOT_FOUND for one nobody holds', async () => {
    const dialer = libp2pDialer(bob.libp2p, bob.node)
    expect(await codeOf(locateStream(dialer, alice.identity, 'lobby'))).toBe('NOT_FOUND')
    const member = await alice.createStream('lobby')
    expect(await locateStream(dialer, alice.identity, 'lobby')).toBe(node.peerId)
    expect(await codeOf(locateStream(dialer, bob.identity, 'lobby'))).toBe('NOT_FOUND')
    expect(await codeOf(locateStream(dialer, 'not/a/peer', 'lobby'))).toBe('MALFORMED')
    expect(await codeOf(locateStream(dialer, alice.identity, '../lobby'))).toBe('MALFORMED')
    await member.leave()
    expect(await codeOf(locateStream(dialer, alice.identity, 'lobby'))).toBe('NOT_FOUND')
  })
})
