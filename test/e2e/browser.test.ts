/**
 * Browser members, in a real browser: headless Chromium (Debian's, driven by
 * playwright-core; src/cli/browser-call.ts) joins an encrypted stream through
 * a `fabric-node --web` process's member page, with an invitation, next to
 * two Node members as `fabric join` processes over libp2p TCP: alice (the
 * owner) and bob, each publishing a fixture clip in a loop and recording
 * what the others send. The browser's fake camera plays carol's clip at
 * 640x360, 30 fps (a Y4M made with ffmpeg for the run).
 *
 * Asserted from the page's state (`window.fabricPage`): it joined, it has a
 * tile per Node member whose decoded-frame count keeps rising with no decode
 * error or decrypt failure, and its safety code is the Node members' at the
 * same epoch. From pixels: each remote tile's canvas is not blank and keeps
 * changing. The other way: each Node member's recording of the browser
 * decodes with ffmpeg, and its frames are byte-identical to frames the page
 * sent (SHA-256 prefixes against the page's last 256).
 *
 * Every wait is bounded generously (this runs on small shared machines) and
 * no duration is asserted: timings are logged. Every process and the
 * browser are stopped in afterAll, also when a step fails.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BLANK_VARIANCE, latencyFigures, sampleTiles, WebCall, type PageSnapshot } from '../../src/cli/browser-call.js'
import { sleep } from '../timing.js'

/** A bound on each wait: it turns a hang into a failure, it measures nothing. */
const WAIT_MS = 60_000
/** Frames of each Node member the page must decode before the checks. */
const FIRST_FRAMES = 30

describe('a browser member next to Node members, through one node', () => {
  let dir: string
  let call: WebCall
  let first: PageSnapshot

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-browser-'))
    call = new WebCall({ dir, log: (l) => { console.log(`[browser e2e] ${l}`) } })
    await call.start()
    first = await call.waitForMedia(FIRST_FRAMES, WAIT_MS)
  }, 4 * WAIT_MS)

  afterAll(async () => {
    await call?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }, 60_000)

  it('joins, and shows a tile per Node member whose decoded frames keep rising, with no decode error or decrypt failure', async () => {
    const [alice, bob] = call.members()
    expect(first.state).toBe('joined')
    expect(first.camera).toBe('on')
    expect(new Set(first.roster)).toEqual(new Set([alice.identity, bob.identity, call.pageId]))
    let before = first
    for (let i = 0; i < 3; i++) {
      await sleep(1_000)
      const now = await call.page!.state()
      for (const m of [alice, bob]) {
        const t = now.tiles[m.identity]
        expect(t, `no tile for ${m.name}`).toBeDefined()
        expect(t.framesDecoded, `${m.name}'s tile stopped decoding`).toBeGreaterThan(before.tiles[m.identity].framesDecoded)
        expect(t.decodeErrors).toBe(0)
        expect(t.decryptFailures).toBe(0)
        expect([t.width, t.height]).toEqual([640, 360])
      }
      before = now
    }
    expect(Object.keys(before.tiles).sort()).toEqual([alice.identity, bob.identity].sort())
    expect(call.page!.errors).toEqual([])
    const lat = latencyFigures(before.latency.samples)
    console.log(`[browser e2e] welcome→first frame ${before.timings.welcomeToFirstFrameMs?.toFixed(0)} ms; ` +
      `Node member→page latency p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms (${lat.n} frames); ` +
      `page sends ${before.sent.fps.toFixed(1)} fps, ${before.sent.kbps.toFixed(0)} kbit/s, ${before.sent.dropped} dropped; ` +
      `tiles ${Object.values(before.tiles).map((t) => `${t.width}x${t.height} ${t.fps.toFixed(0)} fps`).join(', ')}`)
  })

  it('shows the Node members\' safety code at the same epoch', async () => {
    const codes = await call.safetyCodes(WAIT_MS)
    console.log(`[browser e2e] epoch ${codes.epoch}: safety code ${codes.page}`)
    expect(codes.page).toMatch(/^\d{5}( \d{5}){5}$/)
    expect(codes.alice).toBe(codes.page)
    expect(codes.bob).toBe(codes.page)
  })

  it('draws each remote tile with pixels that are not blank and keep changing', async () => {
    const [alice, bob] = call.members()
    const samples = await sampleTiles(call.page!, [alice.identity, bob.identity], 6, 500)
    for (const m of [alice, bob]) {
      const s = samples.get(m.identity)!
      console.log(`[browser e2e] ${m.name}'s tile: ${s.changes} changes in ${s.digests.length} samples, luma variance >= ${s.minVariance.toFixed(0)}, frames ${s.decodedFrom}→${s.decodedTo}`)
      expect(s.minVariance, `${m.name}'s tile is blank`).toBeGreaterThan(BLANK_VARIANCE)
      expect(s.changes, `${m.name}'s tile is frozen`).toBeGreaterThanOrEqual(4)
      expect(s.decodedTo).toBeGreaterThan(s.decodedFrom)
    }
  })

  it('Node members decrypt the browser\'s frames byte-identical, and their recordings decode with ffmpeg', async () => {
    const matches = await call.stopMembersAndCompare()
    for (const name of ['alice', 'bob'] as const) {
      const r = matches[name]
      expect(r, `${name} recorded nothing of the browser`).toBeDefined()
      console.log(`[browser e2e] ${name}'s recording of the browser: ${r!.frames} frames, ffmpeg decoded ${r!.decoded}; ${r!.inWindow} of its last frames are among the page's last 256 sent, ${r!.strangers} are not`)
      expect(r!.decodes, r!.ffmpegErrors).toBe(true)
      expect(r!.decoded).toBeGreaterThan(60)
      expect(r!.decoded).toBe(r!.frames)
      expect(r!.inWindow).toBeGreaterThan(100)
      expect(r!.strangers).toBe(0)
    }
  })
})
