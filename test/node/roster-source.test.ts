/**
 * RosterSource (src/node/fabric/roster-source.ts), the home side of
 * `/fabric/roster/1`, over real libp2p (TCP + noise + yamux) in this
 * process: a home host serves the protocol with a roster map and a set of
 * fabric peers the test controls; relaying hosts open channels with the
 * transport's dialer and read what the home sends. A fabric peer asking for
 * a stream at home gets the whole roster, then every new one after
 * `changed`, and NOT_FOUND when the stream `ended`; any other open is
 * refused with the reason (NOT_FOUND, NOT_ADMITTED, MALFORMED); a frame
 * after the open resets the channel; the counters follow.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { isFabricError } from '../../src/errors.js'
import { RosterSource, ROSTER_CHANNEL, type HomeRoster } from '../../src/node/fabric/roster-source.js'
import { silentLogger } from '../../src/node/log.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import { FABRIC_ROSTER_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { RosterOpen, decodeHomeMessage, encodeRosterOpen, encodeTreeHeartbeat, type RosterUpdate, type TreeAssignment } from '../../src/wire/roster-messages.js'
import { streamKey } from '../../src/wire/stream-tag.js'
import { until, within } from '../timing.js'

const READ_MS = 5_000

/** A stream owner as the wire sees it (a peer id string). */
const OWNER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

/** A RosterOpen with every field at its default and version 1 (what the decoder fills in for absent fields). */
const OPEN_DEFAULTS: RosterOpen = RosterOpen.decode(Uint8Array.of(0x08, 0x01))
const rosterOpen = (stream: string, owner = OWNER): Uint8Array => encodeRosterOpen({ ...OPEN_DEFAULTS, owner, stream })

const idOf = (host: Libp2p): string => host.peerId.toString()

const roster = (epoch: bigint, leaves: Array<[string, number]>): HomeRoster => ({ epoch, leaves: new Map(leaves) })

/** The RosterUpdate the home sends for `r`. */
const updateOf = (r: HomeRoster): RosterUpdate => ({ version: 1, epoch: r.epoch, members: [...r.leaves].map(([identity, leaf]) => ({ identity, leaf })) })

/** The RosterUpdate of a refusal or an end with `code`. */
const refusal = (code: string): RosterUpdate => ({ version: 1, error: { code, message: expect.any(String) as unknown as string }, epoch: 0n, members: [] })

describe('RosterSource over libp2p', () => {
  let home: Libp2p
  let addr: Multiaddr
  /** A node of the fabric. */
  let relay: Libp2p
  /** Another node of the fabric. */
  let relay2: Libp2p
  /** A peer that is not a node of the fabric. */
  let outsider: Libp2p
  let source: RosterSource
  const rosters = new Map<string, HomeRoster>()
  const fabric = new Set<string>()
  /** Every peer the source asked about. */
  const asked: string[] = []
  /** Channels a test opened; aborted after it. */
  const opened: FrameChannel[] = []

  beforeAll(async () => {
    home = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    addr = home.getMultiaddrs()[0]
    relay = await createHost({ listen: [] })
    relay2 = await createHost({ listen: [] })
    outsider = await createHost({ listen: [] })
    fabric.add(idOf(relay))
    fabric.add(idOf(relay2))
  })

  // A fresh source per test, so each test's counters start at zero whatever
  // the channels of the one before are still doing.
  beforeEach(async () => {
    source = new RosterSource({
      listener: libp2pListener(home),
      rosterOf: (stream) => rosters.get(stream),
      isFabricPeer: (peer) => { asked.push(peer); return fabric.has(peer) },
      log: silentLogger(),
      selfId: idOf(home),
      // One child per node: a second relay is placed under the first.
      tree: { maxChildren: 1 },
    })
    await source.start()
  })

  afterEach(async () => {
    try {
      for (const c of opened.splice(0)) c.abort(new Error('test over'))
      await source?.stop()
    } finally {
      rosters.clear()
      asked.length = 0
    }
  })

  afterAll(async () => {
    await Promise.all([home, relay, relay2, outsider].map(async (h) => { await h?.stop() }))
  })

  /** Opens a roster channel from `host` to the home. */
  async function open (host: Libp2p): Promise<FrameChannel> {
    const c = await within(libp2pDialer(host, addr).open(FABRIC_ROSTER_PROTOCOL, ROSTER_CHANNEL), READ_MS, 'dial')
    opened.push(c)
    return c
  }

  /** Assignments the home sent on each channel, in order (read past by `read`). */
  const assignments = new Map<FrameChannel, TreeAssignment[]>()

  /** The next RosterUpdate on `c`; assignments before it are kept in `assignments`. */
  async function read (c: FrameChannel): Promise<RosterUpdate> {
    for (;;) {
      const m = decodeHomeMessage(await within(c.next(READ_MS), READ_MS + 1_000, 'a roster frame'))
      if (m.roster != null) return m.roster
      assignments.set(c, [...(assignments.get(c) ?? []), m.assignment!])
    }
  }

  /** The next assignment on `c` (one `read` went past, else the next frame, which must be one). */
  async function readAssignment (c: FrameChannel): Promise<TreeAssignment> {
    const kept = assignments.get(c)
    if (kept !== undefined && kept.length > 0) return kept.shift()!
    const m = decodeHomeMessage(await within(c.next(READ_MS), READ_MS + 1_000, 'an assignment'))
    expect(m.assignment, 'an assignment').toBeDefined()
    return m.assignment!
  }

  /** What the next read on `c` throws (it must throw). */
  async function readFails (c: FrameChannel): Promise<Error> {
    try {
      await within(c.next(READ_MS), READ_MS + 1_000, 'the end of the channel')
    } catch (err) {
      return err as Error
    }
    return expect.unreachable('the channel carried another frame')
  }

  /** Resolves when `c` has closed both ways or was reset, with the error if any. */
  function closed (c: FrameChannel): Promise<Error | undefined> {
    return new Promise((resolve) => { c.onClose(resolve) })
  }

  /** The counters this test is about, as a copy. */
  const counters = (): { open: number, refused: number, sent: number } => ({ open: source.counters.open, refused: source.counters.refused, sent: source.counters.sent })

  it('sends a fabric peer the whole roster of a stream at home, then every new roster after changed(), to every channel of the stream', async () => {
    const key = streamKey(OWNER, 'room')
    const first = roster(3n, [['alice', 0], ['bob', 1], ['carol', 5]])
    rosters.set(key, first)
    const before = counters()

    const a = await open(relay)
    a.write(rosterOpen('room'))
    expect(await read(a)).toEqual(updateOf(first))
    expect(asked).toContain(idOf(relay))
    await until(() => source.counters.open === before.open + 1, READ_MS, 'the channel counted open')
    expect(counters()).toEqual({ open: before.open + 1, refused: before.refused, sent: before.sent + 1 })

    // A second node relaying the same stream.
    const b = await open(relay2)
    b.write(rosterOpen('room'))
    expect(await read(b)).toEqual(updateOf(first))
    await until(() => source.counters.open === before.open + 2, READ_MS, 'both channels counted open')

    const second = roster(4n, [['bob', 1], ['dave', 0]])
    rosters.set(key, second)
    source.changed(key)
    expect(await read(a)).toEqual(updateOf(second))
    expect(await read(b)).toEqual(updateOf(second))

    // The same epoch again with another roster (a change within an epoch) is sent as well.
    const third = roster(4n, [['bob', 2]])
    rosters.set(key, third)
    source.changed(key)
    expect(await read(a)).toEqual(updateOf(third))
    expect(await read(b)).toEqual(updateOf(third))
    expect(counters()).toEqual({ open: before.open + 2, refused: before.refused, sent: before.sent + 6 })

    // A change of a stream nobody relays, or of one no longer at home, sends nothing.
    source.changed(streamKey(OWNER, 'elsewhere'))
    rosters.delete(key)
    source.changed(key)
    rosters.set(key, roster(5n, [['erin', 0]]))
    source.changed(key)
    expect(await read(a)).toEqual(updateOf(roster(5n, [['erin', 0]])))
    expect(await read(b)).toEqual(updateOf(roster(5n, [['erin', 0]])))
    expect(source.counters.sent).toBe(before.sent + 8)
  })

  it('tells every node relaying a stream NOT_FOUND when it ended, and ends the channel; changed() sends it nothing more', async () => {
    const key = streamKey(OWNER, 'ending')
    const r = roster(1n, [['alice', 7]])
    rosters.set(key, r)
    const a = await open(relay)
    a.write(rosterOpen('ending'))
    expect(await read(a)).toEqual(updateOf(r))
    const b = await open(relay2)
    b.write(rosterOpen('ending'))
    expect(await read(b)).toEqual(updateOf(r))
    const aClosed = closed(a)

    source.ended(key)
    for (const c of [a, b]) {
      const last = await read(c)
      expect(last).toEqual(refusal('NOT_FOUND'))
      // The home closed its side: the channel ends, it is not reset.
      const end = await readFails(c)
      expect(isFabricError(end, 'INVALID_STATE'), String(end)).toBe(true)
    }
    // The relaying node closes its side as well: the channel closes cleanly.
    await a.close()
    expect(await within(aClosed, READ_MS, 'the channel closed')).toBeUndefined()

    // The stream is at home again, but the ended channel is no longer served.
    const sent = source.counters.sent
    source.changed(key)
    source.ended(key)
    expect(source.counters.sent).toBe(sent)
  })

  // ended() forgets the stream's channels before they end: their count must still go down as each ends.
  it('counts the channels of an ended stream as no longer open once they close', async () => {
    const key = streamKey(OWNER, 'ended-count')
    rosters.set(key, roster(1n, [['alice', 0]]))
    const before = source.counters.open
    const a = await open(relay)
    a.write(rosterOpen('ended-count'))
    await read(a)
    await until(() => source.counters.open === before + 1, READ_MS, 'the channel counted open')
    const aClosed = closed(a)
    source.ended(key)
    expect(await read(a)).toEqual(refusal('NOT_FOUND'))
    await a.close()
    await within(aClosed, READ_MS, 'the channel closed')
    await until(() => source.counters.open === before, 2_000, 'the ended channel no longer counted open')
  })

  it('refuses a stream that is not at home here with NOT_FOUND and ends the channel', async () => {
    rosters.set(streamKey(OWNER, 'here'), roster(0n, [['alice', 0]]))
    const before = counters()
    const a = await open(relay)
    a.write(rosterOpen('not-here'))
    expect(await read(a)).toEqual(refusal('NOT_FOUND'))
    expect(isFabricError(await readFails(a), 'INVALID_STATE')).toBe(true)
    // Another owner's stream of the same name is another stream.
    const b = await open(relay)
    b.write(rosterOpen('here', idOf(relay)))
    expect(await read(b)).toEqual(refusal('NOT_FOUND'))
    expect(counters()).toEqual({ open: before.open, refused: before.refused + 2, sent: before.sent })
  })

  it('refuses a peer that is not a node of the fabric with NOT_ADMITTED, even for a stream at home, without reading its open', async () => {
    const key = streamKey(OWNER, 'members-only')
    rosters.set(key, roster(2n, [['alice', 0]]))
    const before = counters()
    const a = await open(outsider)
    const aClosed = closed(a)
    a.write(rosterOpen('members-only'))
    expect(await read(a)).toEqual(refusal('NOT_ADMITTED'))
    expect(asked).toContain(idOf(outsider))
    // The home answers at once, so its end of the channel may come before
    // this side reads (and the libp2p stream's iterator then misses it):
    // that the home closed, not reset, shows as a clean close once this
    // side closes too.
    await a.close()
    expect(await within(aClosed, READ_MS, 'the refused channel closed')).toBeUndefined()
    // Refused before it says anything.
    const b = await open(outsider)
    expect(await read(b)).toEqual(refusal('NOT_ADMITTED'))
    expect(counters()).toEqual({ open: before.open, refused: before.refused + 2, sent: before.sent })
    // A refused channel gets no roster when the stream changes.
    source.changed(key)
    expect(source.counters.sent).toBe(before.sent)

    // The same peer once it is a node of the fabric is served.
    fabric.add(idOf(outsider))
    try {
      const c = await open(outsider)
      c.write(rosterOpen('members-only'))
      expect(await read(c)).toEqual(updateOf(roster(2n, [['alice', 0]])))
    } finally {
      fabric.delete(idOf(outsider))
    }
  })

  it('refuses a malformed RosterOpen with MALFORMED, and another version with UNSUPPORTED_VERSION', async () => {
    rosters.set(streamKey(OWNER, 'room'), roster(0n, []))
    const before = counters()
    const malformed: Uint8Array[] = [
      Uint8Array.of(0x08, 0x01, 0x12, 0x05, 0x41), // the owner runs past the end
      RosterOpen.encode({ ...OPEN_DEFAULTS, owner: 'not/a/peer', stream: 'room' }),
      RosterOpen.encode({ ...OPEN_DEFAULTS, owner: OWNER, stream: '' }),
    ]
    for (const bytes of malformed) {
      const c = await open(relay)
      c.write(bytes)
      expect(await read(c)).toEqual(refusal('MALFORMED'))
      expect(isFabricError(await readFails(c), 'INVALID_STATE')).toBe(true)
    }
    const v2 = await open(relay)
    v2.write(RosterOpen.encode({ ...OPEN_DEFAULTS, version: 2, owner: OWNER, stream: 'room' }))
    expect(await read(v2)).toEqual(refusal('UNSUPPORTED_VERSION'))
    expect(counters()).toEqual({ open: before.open, refused: before.refused + 4, sent: before.sent })
  })

  it('places relays in the stream\'s tree: the first under the home, the next under it (one child each here), with heartbeats counted', async () => {
    const key = streamKey(OWNER, 'tree')
    rosters.set(key, roster(1n, [['alice', 0]]))
    const a = await open(relay)
    a.write(encodeRosterOpen({ ...OPEN_DEFAULTS, owner: OWNER, stream: 'tree', capacity: 1 }))
    await read(a)
    expect(await readAssignment(a)).toEqual({ parent: idOf(home), standby: '', depth: 1 })
    const b = await open(relay2)
    b.write(encodeRosterOpen({ ...OPEN_DEFAULTS, owner: OWNER, stream: 'tree', capacity: 1 }))
    await read(b)
    expect(await readAssignment(b)).toMatchObject({ parent: idOf(relay), depth: 2 })
    a.write(encodeTreeHeartbeat({ framesForwarded: 10n, bytesForwarded: 1000n, childrenServed: 1 }))
    await until(() => source.counters.heartbeats === 1, READ_MS, 'the heartbeat counted')
    const report = source.plans.reports()[key]!
    expect(report.nodes.find((n) => n.id === idOf(relay))).toMatchObject({ intendedChildren: 1, actualChildren: 1, framesForwarded: 10 })
    // The first relay's tree link ends: the second moves under the home.
    a.abort(new Error('relay gone'))
    expect(await readAssignment(b)).toMatchObject({ parent: idOf(home), depth: 1 })
  })

  it('resets the channel when a frame after the open is not a heartbeat, and no longer serves it', async () => {
    const key = streamKey(OWNER, 'chatty')
    const r = roster(6n, [['alice', 1]])
    rosters.set(key, r)
    const before = counters()
    const a = await open(relay)
    const aClosed = closed(a)
    a.write(rosterOpen('chatty'))
    expect(await read(a)).toEqual(updateOf(r))
    await readAssignment(a)
    await until(() => source.counters.open === before.open + 1, READ_MS, 'the channel counted open')

    a.write(Uint8Array.of(0xff, 0xff))
    // A reset, not an end: the read fails with the transport's reset error, and the close carries it.
    const err = await readFails(a)
    expect(isFabricError(err, 'INVALID_STATE', 'TIMEOUT'), String(err)).toBe(false)
    expect(await within(aClosed, READ_MS, 'the channel reset')).toBeInstanceOf(Error)
    await until(() => source.counters.open === before.open, READ_MS, 'the reset channel no longer counted open')
    source.changed(key)
    expect(counters()).toEqual({ open: before.open, refused: before.refused, sent: before.sent + 1 })
  })

  it('stops serving a channel the relaying node resets', async () => {
    const key = streamKey(OWNER, 'dropped')
    const r = roster(0n, [['alice', 0]])
    rosters.set(key, r)
    const before = counters()
    const a = await open(relay)
    a.write(rosterOpen('dropped'))
    expect(await read(a)).toEqual(updateOf(r))
    await until(() => source.counters.open === before.open + 1, READ_MS, 'the channel counted open')
    a.abort(new Error('relay no longer needs it'))
    await until(() => source.counters.open === before.open, READ_MS, 'the channel no longer counted open')
    source.changed(key)
    expect(counters()).toEqual({ open: before.open, refused: before.refused, sent: before.sent + 1 })
  })

  it('serves one channel per stream for one relaying node, each with its own roster', async () => {
    const k1 = streamKey(OWNER, 'one')
    const k2 = streamKey(idOf(relay2), 'two')
    rosters.set(k1, roster(1n, [['alice', 0]]))
    rosters.set(k2, roster(9n, [['bob', 3], ['carol', 4]]))
    const a = await open(relay)
    const b = await open(relay)
    a.write(rosterOpen('one'))
    b.write(rosterOpen('two', idOf(relay2)))
    expect(await read(a)).toEqual(updateOf(rosters.get(k1)!))
    expect(await read(b)).toEqual(updateOf(rosters.get(k2)!))
    rosters.set(k2, roster(10n, [['carol', 4]]))
    source.changed(k2)
    expect(await read(b)).toEqual(updateOf(roster(10n, [['carol', 4]])))
    // Only the changed stream's channel got a roster: the next frame on `a` is the one of its own change.
    rosters.set(k1, roster(2n, []))
    source.changed(k1)
    expect(await read(a)).toEqual(updateOf(roster(2n, [])))
  })
})
