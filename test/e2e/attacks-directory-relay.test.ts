/**
 * Attacks on the directory and the relay of a real node (KeyPackage flood
 * and drain, track squatting, many tracks, subscription flood), each beside
 * a healthy stream; see attack-fixture.ts for what every test asserts.
 */
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { countKeyPackages, fetchKeyPackage, publishKeyPackages } from '../../src/client/directory-client.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import { nodeStats, type MemberProc } from '../../src/cli/processes.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { CLOSE_GRACE_MS as REFUSED_STREAM_GRACE_MS } from '../../src/node/stream-deadlines.js'
import { DEFAULT_RELAY_CONFIG } from '../../src/relay/relay-node.js'
import { generateIdentity } from '../../src/session/identity.js'
import { generateKeyPackage, generateKeyPackages } from '../../src/session/key-package.js'
import { MAX_CHUNK_PAYLOAD, MAX_DIRECTORY_FRAME } from '../../src/wire/limits.js'
import { decodeDirectoryResponse, DIRECTORY_PROTOCOL, encodeDirectoryRequest } from '../../src/wire/messages.js'
import { makeTrack } from '../../src/wire/track.js'
import { sleep, until } from '../timing.js'
import {
  attackerHost, cleanUpAfterEachTest, client, clip, closedWithin, codeOf, finish, healthy, inflatedKeyPackage, joiner, junkChunk, keepSending, KIB, later,
  MIB, mib, paddedKeyPackage, range, rawPublish, rawSubscribe, rss, sampler, streamStats, type Stats,
} from './attack-fixture.js'

cleanUpAfterEachTest()

describe('attacks on the directory and the relay, each beside a healthy stream', () => {
  it('4. KeyPackage flood and drain: duplicates, inflated ones, 8 flooders, third-party fetches and a polled joiner', async () => {
    const h = await healthy('kp', { prepare: ['erin'] })
    const addr = multiaddr(h.node.addr)
    const before = await nodeStats(h.node)

    // The same KeyPackage twice: ALREADY_EXISTS, stored once.
    const xId = await generateIdentity()
    const x = await attackerHost(xId)
    const kp = await generateKeyPackage(xId, { nowMs: Date.now() })
    expect(await publishKeyPackages(libp2pDialer(x, addr), [kp.keyPackage])).toBe(1)
    expect(await codeOf(publishKeyPackages(libp2pDialer(x, addr), [kp.keyPackage]))).toBe('ALREADY_EXISTS')
    // Extensions inflated past 1 KiB: MALFORMED, nothing stored.
    expect(await codeOf(publishKeyPackages(libp2pDialer(x, addr), [await inflatedKeyPackage(xId, 32 * KIB)]))).toBe('MALFORMED')
    const afterDup = await nodeStats(h.node)
    expect(afterDup.directory.duplicatesRefused - before.directory.duplicatesRefused).toBe(1)
    expect((afterDup.directory.refused.MALFORMED ?? 0) - (before.directory.refused.MALFORMED ?? 0)).toBe(1)
    expect(afterDup.directory.storedBytes - before.directory.storedBytes).toBe(kp.keyPackage.byteLength)

    // 8 identities publishing ~36 KiB KeyPackages (padded capabilities, valid
    // and within the extension bound) until refused, all at once.
    const flooders = await Promise.all(range(8).map(async () => { const id = await generateIdentity(); return { id, host: await attackerHost(id) } }))
    const floodStarted = Date.now()
    const flood = await Promise.all(flooders.map(async (f) => {
      let accepted = 0
      let bytes = 0
      for (let i = 0; i < 64; i++) {
        const one = await paddedKeyPackage(f.id, 6000)
        const code = await codeOf(publishKeyPackages(libp2pDialer(f.host, addr), [one]))
        if (code !== 'resolved') return { accepted, bytes, code, size: one.byteLength }
        accepted++
        bytes += one.byteLength
      }
      return { accepted, bytes, code: 'never refused', size: 0 }
    }))
    const floodMs = Date.now() - floodStarted
    const afterFlood = await nodeStats(h.node)
    const stored = afterFlood.directory.storedBytes - afterDup.directory.storedBytes
    const perIdentity = 256 * KIB
    console.log(`  (b) 8 flooders: ${flood.map((f) => `${f.accepted}x${f.size} B then ${f.code}`).join(', ')} in ${floodMs} ms; stored ${(stored / KIB).toFixed(0)} KiB (bound 8 x 256 KiB)`)
    for (const f of flood) {
      expect(f.code).toBe('QUOTA_EXCEEDED')
      expect(f.bytes).toBeLessThanOrEqual(perIdentity)
      expect(f.bytes + f.size).toBeGreaterThan(perIdentity)
    }
    expect(stored).toBe(flood.reduce((n, f) => n + f.bytes, 0))
    expect(stored).toBeLessThanOrEqual(8 * perIdentity)
    expect((afterFlood.directory.refused.QUOTA_EXCEEDED ?? 0) - (before.directory.refused.QUOTA_EXCEEDED ?? 0)).toBe(8)

    // A third party fetching or counting a victim's KeyPackages: NOT_ADMITTED, nothing consumed.
    const victimId = await generateIdentity()
    const victim = await attackerHost(victimId)
    const stock = await generateKeyPackages(victimId, { nowMs: Date.now(), count: 8, lastResort: true })
    expect(await publishKeyPackages(libp2pDialer(victim, addr), stock.keyPackages.map((b) => b.keyPackage), stock.lastResort!.keyPackage)).toBe(8)
    const thief = await attackerHost()
    const thefts = []
    const theftStarted = Date.now()
    for (let i = 0; i < 64; i++) thefts.push(await codeOf(fetchKeyPackage(libp2pDialer(thief, addr), victimId.peerId)))
    const theftMs = Date.now() - theftStarted
    expect(thefts.every((c) => c === 'NOT_ADMITTED')).toBe(true)
    expect(await codeOf(countKeyPackages(libp2pDialer(thief, addr), victimId.peerId))).toBe('NOT_ADMITTED')
    expect(await countKeyPackages(libp2pDialer(victim, addr), victimId.peerId)).toEqual({ count: 8, hasLastResort: true })
    const afterTheft = await nodeStats(h.node)
    console.log(`  (b) third party: 64 fetches in ${theftMs} ms (${(64_000 / theftMs).toFixed(0)}/s) and a count, all NOT_ADMITTED; the victim still holds 8 + last resort`)
    expect(afterTheft.directory.fetched - afterFlood.directory.fetched).toBe(0)
    expect((afterTheft.directory.refused.NOT_ADMITTED ?? 0) - (afterFlood.directory.refused.NOT_ADMITTED ?? 0)).toBe(65)
    const fetchedBeforeErin = afterTheft.directory.fetched as number

    // Requests followed by 8 MiB each on 8 directory streams: the node
    // answers and takes no more than a receive window of the rest.
    const rssBeforeJunk = afterTheft.memory.rss as number
    const junker = await attackerHost()
    await Promise.all(range(8).map(async () => {
      const stream = await junker.dialProtocol(addr, DIRECTORY_PROTOCOL)
      later(async () => { stream.abort(new Error('test over')) })
      const framed = new Libp2pChannel(stream, MAX_DIRECTORY_FRAME)
      await framed.send(encodeDirectoryRequest({ count: { identity: victimId.peerId } }))
      expect(decodeDirectoryResponse(await framed.next(10_000)).error?.code).toBe('NOT_ADMITTED')
      await keepSending(stream, new Uint8Array(256 * KIB), 32, 1_000)
    }))
    const afterJunk = await nodeStats(h.node)
    console.log(`  (a) 8 directory streams sending 8 MiB each after their request: node RSS ${mib(rssBeforeJunk)} -> ${mib(afterJunk.memory.rss)}`)
    expect(afterJunk.memory.rss - rssBeforeJunk).toBeLessThan(32 * MIB)

    // Polling a joiner's identity while it joins does not take its KeyPackage.
    let polling = true
    const polls: string[] = []
    const poller = (async () => {
      await Promise.all(range(4).map(async () => {
        while (polling) {
          polls.push(await codeOf(fetchKeyPackage(libp2pDialer(thief, addr), h.files.erin!.peerId)))
          await sleep(10)
        }
      }))
    })()
    let erin: MemberProc
    try {
      erin = await joiner(h, 'erin')
      await erin.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === h.alice.identity, 20_000, 'erin\'s first keyframe')
    } finally {
      polling = false
      await poller
    }
    const afterErin = await nodeStats(h.node)
    const pollCodes: Record<string, number> = {}
    for (const c of polls) pollCodes[c] = (pollCodes[c] ?? 0) + 1
    console.log(`  (b) polled joiner: ${polls.length} fetches of erin's KeyPackages while it joined: ${JSON.stringify(pollCodes)}; erin got in; KeyPackages fetched ${afterErin.directory.fetched - fetchedBeforeErin} (alice's)`)
    console.log(`  (a) node RSS ${mib(before.memory.rss)} -> ${mib(afterErin.memory.rss)}; directory ${(afterErin.directory.storedBytes / KIB).toFixed(0)} KiB stored`)
    expect(polls.length).toBeGreaterThan(20)
    expect(Object.keys(pollCodes)).toEqual(['NOT_ADMITTED'])
    expect(afterErin.directory.fetched - fetchedBeforeErin).toBe(1)
    expect(afterErin.memory.rss - before.memory.rss).toBeLessThan(64 * MIB)

    await sleep(2_000)
    await finish(h, { receivers: [erin!] })
  }, 120_000)

  it('5. track squatting: chunks on future leaves\' tracks are refused, the next joiner\'s frames reach bob', async () => {
    const malloryId = await generateIdentity()
    const h = await healthy('squat', { prepare: ['carol'], allowPeers: [malloryId.peerId] })
    const addr = multiaddr(h.node.addr)
    const mallory = await client(h.node, malloryId)
    const m: StreamMember = await mallory.joinStream(h.stream, { owner: h.alice.identity })
    const own = m.session.ownLeafIndex
    const before = await nodeStats(h.node)

    // 57 tracks of the leaves the next joiners will get.
    const raw = await rawPublish(mallory.libp2p, addr, h.key)
    const futureLeaves = range(57).map((i) => own + 1 + i)
    for (const [i, leaf] of futureLeaves.entries()) await raw.send(junkChunk(h.key, makeTrack(leaf, 0), leaf, m.session.epoch, i))
    await sleep(500)
    const after = await nodeStats(h.node)
    const s0 = streamStats(before, h.key)
    const s1 = streamStats(after, h.key)
    const otherLeaf = s1.ownershipRefusals.otherLeaf - s0.ownershipRefusals.otherLeaf
    console.log(`  (b) ${futureLeaves.length} squatted tracks (leaves ${futureLeaves[0]}..${futureLeaves[futureLeaves.length - 1]}): ownershipRefusals.otherLeaf +${otherLeaf}, MALFORMED +${(after.av.rejectedByCode.MALFORMED ?? 0) - (before.av.rejectedByCode.MALFORMED ?? 0)}; stream tracks ${s1.tracks}`)
    expect(otherLeaf).toBe(57)
    expect((after.av.rejectedByCode.MALFORMED ?? 0) - (before.av.rejectedByCode.MALFORMED ?? 0)).toBe(57)
    // Only alice's track is held: none of mallory's squats took.
    expect(s1.tracks).toBe(s0.tracks)
    expect(after.memory.rss - before.memory.rss).toBeLessThan(32 * MIB)

    // carol joins onto one of the squatted leaves and publishes: bob gets every frame.
    const carol = await joiner(h, 'carol', { publish: clip('carol') })
    await until(() => m.session.leafIndexOf(carol.identity) !== undefined, 10_000, 'mallory sees carol\'s leaf')
    const carolLeaf = m.session.leafIndexOf(carol.identity)!
    console.log(`  carol joined at leaf ${carolLeaf}`)
    expect(futureLeaves).toContain(carolLeaf)
    await h.bob.proc.waitFor((e) => e.event === 'first-keyframe' && e.sender === carol.identity, 20_000, 'bob\'s first keyframe of carol')
    await sleep(3_000)
    await finish(h, { extraPublishers: [carol] })
  }, 90_000)

  it('6. many tracks: only 8 accepted, the GOP caches stay within the per-publisher budget, and all of it is released', async () => {
    const malloryId = await generateIdentity()
    const h = await healthy('tracks', { allowPeers: [malloryId.peerId] })
    const mallory = await client(h.node, malloryId)
    const m = await mallory.joinStream(h.stream, { owner: h.alice.identity })
    await sleep(1_000)
    const before = await nodeStats(h.node)
    const baseline = streamStats(before, h.key)

    const sample = sampler(h.node, (s) => {
      const st = streamStats(s, h.key)
      const mine = s.relay.publishers.find((p: { identity: string, stream: string }) => p.identity === malloryId.peerId && p.stream === h.key)
      const others = s.relay.publishers.filter((p: { identity: string, stream: string }) => p.identity !== malloryId.peerId && p.stream === h.key)
        .reduce((n: number, p: { gopCacheBytes: number }) => n + p.gopCacheBytes, 0)
      return { rss: s.memory.rss as number, stream: st.gopCacheBytes as number, mine: (mine?.gopCacheBytes ?? 0) as number, others: others as number, tracks: (mine?.tracks ?? 0) as number }
    }, 100)
    // 96 tracks, 3 keyframes of a full chunk each (1 MiB of SFrame bytes), real SFrame.
    const payload = new Uint8Array(MAX_CHUNK_PAYLOAD - 33).fill(0x5a)
    const tracks = range(96).map((c) => m.publishTrack(c))
    const started = Date.now()
    const codes: Record<string, number> = {}
    for (let round = 0; round < 3; round++) {
      for (const t of tracks) {
        const code = await codeOf(t.sendFrame(payload, { keyframe: true }))
        codes[code] = (codes[code] ?? 0) + 1
      }
    }
    const sendMs = Date.now() - started
    await sleep(1_000)
    await sample.stop()
    const during = await nodeStats(h.node)
    const st = streamStats(during, h.key)
    const mine = during.relay.publishers.find((p: { identity: string }) => p.identity === malloryId.peerId)
    const maxMine = Math.max(...sample.samples.map((x) => x.mine))
    const maxStream = Math.max(...sample.samples.map((x) => x.stream))
    const maxOverOthers = Math.max(...sample.samples.map((x) => x.stream - x.others))
    const maxRss = Math.max(during.memory.rss, ...sample.samples.map((x) => x.rss))
    const quota = st.quotaRefusals.publisherTracks - baseline.quotaRefusals.publisherTracks
    console.log(`  (b) 288 keyframes of 1 MiB on 96 tracks sent in ${sendMs} ms: mallory holds ${mine?.tracks} tracks, quotaRefusals.publisherTracks +${quota}, QUOTA_EXCEEDED +${(during.av.rejectedByCode.QUOTA_EXCEEDED ?? 0) - (before.av.rejectedByCode.QUOTA_EXCEEDED ?? 0)}, evictions +${st.gopEvictions - baseline.gopEvictions}`)
    console.log(`  (a) GOP cache: mallory's at most ${mib(maxMine)}, the stream's at most ${mib(maxStream)} (${mib(maxOverOthers)} over the others'); node RSS ${mib(before.memory.rss)} -> max ${mib(maxRss)} (+${mib(maxRss - before.memory.rss)}) over ${sample.samples.length} samples`)
    expect(codes).toEqual({ resolved: 288 })
    expect(mine?.tracks).toBe(DEFAULT_RELAY_CONFIG.maxTracksPerPublisher)
    expect(quota).toBe(88 * 3)
    expect((during.av.rejectedByCode.QUOTA_EXCEEDED ?? 0) - (before.av.rejectedByCode.QUOTA_EXCEEDED ?? 0)).toBe(88 * 3)
    expect(maxMine).toBeLessThanOrEqual(DEFAULT_RELAY_CONFIG.gopCacheBytesPerPublisher)
    expect(maxOverOthers).toBeLessThanOrEqual(DEFAULT_RELAY_CONFIG.gopCacheBytesPerPublisher)
    expect(maxStream).toBeLessThanOrEqual(DEFAULT_RELAY_CONFIG.gopCacheBytesPerPublisher + DEFAULT_RELAY_CONFIG.gopCacheBytes)
    expect(maxRss - before.memory.rss).toBeLessThan(100 * MIB)

    // mallory leaves: her tracks and caches are released at once.
    const leftAt = Date.now()
    await m.leave()
    let released: Stats
    for (;;) {
      released = await nodeStats(h.node)
      const gone = released.relay.publishers.every((p: { identity: string }) => p.identity !== malloryId.peerId)
      if (gone || Date.now() - leftAt > 5_000) break
      await sleep(100)
    }
    const rs = streamStats(released, h.key)
    const othersNow = released.relay.publishers.filter((p: { stream: string }) => p.stream === h.key).reduce((n: number, p: { gopCacheBytes: number }) => n + p.gopCacheBytes, 0)
    console.log(`  (a) ${Date.now() - leftAt} ms after mallory left: her entry ${released.relay.publishers.some((p: { identity: string }) => p.identity === malloryId.peerId) ? 'still there' : 'gone'}, stream tracks ${rs.tracks}, gopCacheBytes ${rs.gopCacheBytes} (baseline ${baseline.gopCacheBytes}), node RSS ${mib(released.memory.rss)}`)
    expect(released.relay.publishers.some((p: { identity: string }) => p.identity === malloryId.peerId)).toBe(false)
    expect(rs.tracks).toBe(baseline.tracks)
    expect(rs.gopCacheBytes).toBe(othersNow)
    expect(rs.gopCacheBytes).toBeLessThanOrEqual(DEFAULT_RELAY_CONFIG.gopCacheBytes)
    await finish(h)
  }, 120_000)

  it('7. subscription flood: 4 subscriptions per member, the rest QUOTA_EXCEEDED at open; a non-member NOT_MEMBER; bob unaffected', async () => {
    const malloryId = await generateIdentity()
    const h = await healthy('subs', { allowPeers: [malloryId.peerId] })
    const addr = multiaddr(h.node.addr)
    const mallory = await client(h.node, malloryId)
    await mallory.joinStream(h.stream, { owner: h.alice.identity })
    const before = await nodeStats(h.node)
    const s0 = streamStats(before, h.key)

    // mallory's member already holds one subscription; she opens 50 more.
    const opened = []
    for (let i = 0; i < 50; i++) opened.push(await rawSubscribe(mallory.libp2p, addr, h.key))
    const codes: Record<string, number> = {}
    for (const o of opened) codes[o.code] = (codes[o.code] ?? 0) + 1
    const outsider = await attackerHost()
    const outsiderCode = (await rawSubscribe(outsider, addr, h.key)).code
    // The refused go on sending (8 MiB offered on each): the node takes no
    // more of it than a receive window and resets them after its grace.
    const refused = opened.filter((o) => o.code !== 'ok')
    const resets = refused.map(async (o) => {
      const at = await closedWithin(o.framed.stream, REFUSED_STREAM_GRACE_MS + 5_000)
      return at === undefined ? Infinity : at - o.at
    })
    await Promise.all(refused.map(async (o) => { await keepSending(o.framed.stream, new Uint8Array(256 * KIB), 32, 1_000) }))
    const resetAfter = await Promise.all(resets)
    const afterJunk = await rss(h.node)
    // The admitted ones are never read: three stalled subscribers for a while.
    await sleep(4_000)
    const after = await nodeStats(h.node)
    const s1 = streamStats(after, h.key)
    const held = after.relay.subscribers.filter((s: { identity: string, stream: string }) => s.identity === malloryId.peerId && s.stream === h.key)
    const bobSub = after.relay.subscribers.find((s: { identity: string }) => s.identity === h.files.bob!.peerId)
    console.log(`  (b) mallory's 50 extra subscriptions: ${JSON.stringify(codes)}; she holds ${held.length}; quotaRefusals.subscriptions +${s1.quotaRefusals.subscriptions - s0.quotaRefusals.subscriptions}; refused opens +${after.av.refusedOpens - before.av.refusedOpens}; non-member: ${outsiderCode}`)
    console.log(`  (a) node RSS ${mib(before.memory.rss)} -> ${mib(afterJunk)} with 47 refused streams offering 8 MiB each -> ${mib(after.memory.rss)} 4 s later; refused streams reset ${Math.min(...resetAfter)}..${Math.max(...resetAfter)} ms after their refusal; ` +
      `stalled queues ${held.map((s: { queuedBytes: number }) => s.queuedBytes).join(', ')} bytes; bob dropped ${bobSub.dropped}`)
    expect(Math.max(...resetAfter)).toBeLessThanOrEqual(REFUSED_STREAM_GRACE_MS + 1_500)
    expect(codes).toEqual({ ok: DEFAULT_RELAY_CONFIG.maxSubscriptionsPerIdentity - 1, QUOTA_EXCEEDED: 50 - (DEFAULT_RELAY_CONFIG.maxSubscriptionsPerIdentity - 1) })
    expect(held.length).toBe(DEFAULT_RELAY_CONFIG.maxSubscriptionsPerIdentity)
    expect(s1.quotaRefusals.subscriptions - s0.quotaRefusals.subscriptions).toBe(47)
    expect(outsiderCode).toBe('NOT_MEMBER')
    expect(after.av.refusedOpens - before.av.refusedOpens).toBe(48)
    for (const s of held) expect(s.queuedBytes).toBeLessThanOrEqual(DEFAULT_RELAY_CONFIG.subscriberQueueBytes)
    expect(bobSub.dropped).toBe(0)
    // What the quotas imply: 47 x a 256 KiB receive window of junk, and 3
    // stalled subscriptions of at most a 2 MiB queue and a 1 MiB window each,
    // ~21 MiB; without the refusal's stopReading the node queued it all (376 MiB).
    expect(afterJunk - before.memory.rss).toBeLessThan(64 * MIB)
    expect(after.memory.rss - before.memory.rss).toBeLessThan(64 * MIB)
    await finish(h)
  }, 90_000)

})
