/**
 * `npm run demo:web [-- --screenshot FILE.png] [--work-dir DIR]`: a browser
 * member next to Node members, headless, as src/cli/browser-call.ts's
 * WebCall runs it: one `fabric-node --web` process; alice (owner) and bob
 * as `fabric join` processes over libp2p TCP, publishing fixture clips and
 * recording; headless Chromium (Debian's, or FABRIC_CHROMIUM) whose fake
 * camera plays carol's clip at 640x360, 30 fps, joining through the node's
 * member page with an invitation.
 *
 * It prints each check with ✓ or ✗ and the figures: Welcome to first remote
 * frame drawn, what the page sends (fps, kbit/s) and shows (per tile: frames
 * decoded, size, fps), the page's latency from the Node members, and the
 * browser's latency to a Node member: an in-process libp2p member that
 * joins after the screenshot for a few seconds, so the screenshot shows
 * three members. A PNG of the page is written on every run (default
 * results/demo-web/page.png) and its path printed.
 *
 * Exits 1 when a check fails or the demo breaks off, 2 on bad arguments or
 * when Chromium or ffmpeg is missing (said in a line). Every process and the
 * browser are stopped on exit, also on SIGINT/SIGTERM.
 */
import '../polyfill.js'
import { mkdir, rm } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  BLANK_VARIANCE, chromiumPath, latencyFigures, observeSenders, sampleTiles, tileDecoding, WebCall, type PageSnapshot, type RecordingMatch,
} from './browser-call.js'
import { findFfmpeg, FfmpegNotFoundError } from '../media/ffmpeg-check.js'
import { REPO_ROOT } from './processes.js'

const USAGE = `usage: npm run demo:web [-- --screenshot FILE.png] [--work-dir DIR]
  a fabric-node with --web, Node members alice and bob, and headless Chromium
  joining through the node's member page; prints every check and the figures.
  --screenshot FILE  where the PNG of the page goes (default results/demo-web/page.png)
  --work-dir DIR     recordings, identities and the fake camera (default .tmp/demo-web; emptied first)
  Chromium: /usr/bin/chromium, or the binary FABRIC_CHROMIUM names.
`

/** A bound on each wait: a hang becomes a failed check. */
const WAIT_MS = 60_000
/** How long the in-process Node member watches the browser's frames, ms. */
const OBSERVE_MS = 5_000

interface Check { name: string, ok: boolean, detail: string }

function say (line: string): void {
  process.stdout.write(`${line}\n`)
}

function shown (path: string): string {
  const rel = relative(process.cwd(), path)
  return rel !== '' && !rel.startsWith('..') ? rel : path
}

const f0 = (x: number | undefined): string => x === undefined || Number.isNaN(x) ? '-' : x.toFixed(0)
const f1 = (x: number | undefined): string => x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1)

async function run (call: WebCall, screenshot: string, checks: Check[]): Promise<void> {
  const check = (name: string, ok: boolean, detail = ''): void => { checks.push({ name, ok, detail }) }
  await call.start()
  check('the browser joined with an invitation through the node\'s member page', true, call.pageId)
  const [alice, bob] = call.members()
  await call.waitForMedia(30, WAIT_MS)
  const samples = await sampleTiles(call.page!, [alice.identity, bob.identity], 6, 500)
  const page: PageSnapshot = await call.page!.state()
  for (const m of [alice, bob]) {
    const t = page.tiles[m.identity]
    const s = samples.get(m.identity)!
    check(`the page decodes ${m.name}'s video, with no decode error or decrypt failure`, tileDecoding(t, 30) && s.decodedTo > s.decodedFrom,
      `${t?.framesDecoded ?? 0} frames decoded, ${t?.decodeErrors ?? 0} decode errors, ${t?.decryptFailures ?? 0} decrypt failures`)
    check(`${m.name}'s tile shows changing pictures (not blank, not frozen)`, s.minVariance > BLANK_VARIANCE && s.changes >= 4,
      `${s.changes} changes in ${s.digests.length} samples 0.5 s apart, luma variance >= ${f0(s.minVariance)}`)
  }
  const codes = await call.safetyCodes(WAIT_MS)
  check(`the page shows alice's and bob's safety code at epoch ${codes.epoch}`, codes.page === codes.alice && codes.page === codes.bob && codes.page !== '', codes.page)
  await call.page!.screenshot(screenshot)

  say('\nthe page (browser member):')
  say(`  Welcome to first remote frame drawn: ${f0(page.timings.welcomeToFirstFrameMs)} ms (join ${f0((page.timings.joinedAt ?? NaN) - (page.timings.joinStartedAt ?? NaN))} ms)`)
  say(`  sends its camera: ${page.sent.frames} frames (${page.sent.keyframes} keyframes), ${f1(page.sent.fps)} fps, ${f0(page.sent.kbps)} kbit/s, ${page.sent.dropped} dropped`)
  for (const m of [alice, bob]) {
    const t = page.tiles[m.identity]
    say(`  tile of ${m.name}: ${t?.framesDecoded ?? 0} frames decoded, ${t?.width ?? 0}x${t?.height ?? 0}, ${f1(t?.fps)} fps, ${f0(t?.kbps)} kbit/s`)
  }
  const fromNode = latencyFigures(page.latency.samples)
  say(`  latency from the Node members (capture to decryption, since the join): p50 ${f1(fromNode.p50)} ms, p99 ${f1(fromNode.p99)} ms over ${fromNode.n} frames`)

  // After the screenshot: a fourth member, for a few seconds.
  const seen = (await observeSenders(call.node!.addr, call.spareInvitation!, [call.pageId], OBSERVE_MS))[call.pageId]!
  // Its first second holds its own join's work and the keyframe it asked for (as in bench/web.ts).
  const toNode = latencyFigures(seen.latencies.slice(30))
  check('a Node member (in-process, libp2p) decrypts the browser\'s video', seen.frames > 0 && seen.keyframes > 0,
    `${seen.frames} frames in ${OBSERVE_MS / 1000} s, ${seen.width}x${seen.height}, ${f1(seen.fps)} fps`)
  say(`\nthe browser's frames at a Node member: ${seen.width}x${seen.height}, ${f1(seen.fps)} fps; latency (capture to decryption, one clock) after its first second: p50 ${f1(toNode.p50)} ms, p99 ${f1(toNode.p99)} ms over ${toNode.n} frames`)

  const matches = await call.stopMembersAndCompare()
  say('')
  for (const name of ['alice', 'bob'] as const) {
    const r: RecordingMatch | undefined = matches[name]
    check(`${name}'s recording of the browser decodes with ffmpeg`, r !== undefined && r.decodes && r.decoded === r.frames && r.frames > 0,
      r === undefined ? 'no recording' : `${r.decoded} of ${r.frames} frames${r.ffmpegErrors === '' ? '' : `: ${r.ffmpegErrors.slice(0, 200)}`}`)
    check(`${name} decrypted the browser's frames byte-identical to what the page sent`, r !== undefined && r.inWindow > 0 && r.strangers === 0,
      r === undefined ? 'no recording' : `${r.inWindow} recorded frames among the page's last 256 sent, ${r.strangers} not`)
    if (r !== undefined) say(`${name}'s recording of the browser: ${shown(r.path)}`)
  }
}

async function main (): Promise<number> {
  let values: { screenshot?: string, 'work-dir'?: string, help?: boolean }
  try {
    values = parseArgs({ args: process.argv.slice(2), options: { screenshot: { type: 'string' }, 'work-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values
  } catch (err) {
    process.stderr.write(`demo:web: ${(err as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(USAGE)
    return 0
  }
  // What the demo needs, said in a line each before anything starts.
  try {
    await chromiumPath()
    if (await findFfmpeg() === undefined) throw new FfmpegNotFoundError()
  } catch (err) {
    process.stderr.write(`demo:web: ${(err as Error).message}\n`)
    return 2
  }
  const screenshot = resolve(values.screenshot ?? join(REPO_ROOT, 'results', 'demo-web', 'page.png'))
  const dir = resolve(values['work-dir'] ?? join(REPO_ROOT, '.tmp', 'demo-web'))
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const call = new WebCall({ dir, log: (l) => { say(`- ${l}`) }, spareUses: 1 })
  const interrupted = async (): Promise<void> => {
    await call.stop()
    process.exit(130)
  }
  process.once('SIGINT', () => { void interrupted() })
  process.once('SIGTERM', () => { void interrupted() })

  const checks: Check[] = []
  try {
    await run(call, screenshot, checks)
  } catch (err) {
    process.stderr.write(`demo:web: broke off: ${err instanceof Error ? err.message : String(err)}\n`)
    checks.push({ name: 'the demo ran to the end', ok: false, detail: err instanceof Error ? err.message.split('\n')[0] : String(err) })
    // A screenshot on every run: also of a page that went wrong.
    await call.page?.screenshot(screenshot).catch(() => {})
  } finally {
    await call.stop()
  }
  say('\nchecks:')
  for (const c of checks) say(`  ${c.ok ? '✓' : '✗'} ${c.name}${c.detail === '' ? '' : ` (${c.detail})`}`)
  say(`\nscreenshot of the page: ${shown(screenshot)}`)
  const failed = checks.filter((c) => !c.ok).length
  say(`${checks.length - failed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

process.exit(await main())
