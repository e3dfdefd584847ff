/**
 * The browser member page's script (served as /app.js, an ES module; runs
 * in Chromium). It makes this browser a fabric member: its identity is an
 * Ed25519 seed kept in IndexedDB (identity-store.ts); it reaches the node
 * that served the page over WebRTC (`webrtcDialer`, signalling at
 * /api/v1/webrtc/offer of the page's origin); it joins a stream with an
 * invitation token (the field and Join button, or `?invite=TOKEN` in the
 * URL, which joins at once); it publishes the camera as VP8 (camera.ts)
 * and shows every other member's video on a tile (tiles.ts), with the
 * roster, the epoch's safety code, live stats and a Leave button. A failed
 * join shows `CODE: message` on the error line.
 *
 * Everything it shows is also in `window.fabricPage` (page-state.ts has
 * its shape), for tests and demos.
 *
 * What runs where: this script and the whole member (MLS via ts-mls on the
 * portable @noble backend, SFrame, the group and media channels) run on
 * the page's main thread; capture, VP8 encoding and decoding run in
 * Chromium's media threads, and only their callbacks (encode output,
 * decoded picture, drawn at once) come back to it. So a Commit (its
 * signature checks, HPKE and tree hashing run synchronously, growing with
 * the group) delays drawing by as long as those take and no more: nothing
 * here awaits a
 * Commit on the frame path, frames of a coming epoch are held by the
 * member until its Commit is processed rather than failing, and the
 * decoders keep decoding meanwhile (their pictures are drawn when the
 * thread is free again). Should larger groups make Commits
 * long, the member would move to a worker (WebCodecs and WebRTC data
 * channels both work there), drawing staying here.
 */
// First: src/browser.ts installs the portable crypto backend as the default
// (setDefaultCryptoBackend(portableBackend)) before anything uses it.
import { FabricError, KeyPackagePool, StreamMember, type MemberContext, type MemberIdentity } from '../browser.js'
import type { WebRtcDialer } from '../transport/webrtc/dialer-options.js'
import { webrtcDialer } from '../transport/webrtc/dialer.js'
import { Camera } from './camera.js'
import { browser, type ButtonEl, type El, type InputEl, type VideoEl } from './dom.js'
import { loadOrCreateIdentity } from './identity-store.js'
import { errorInfo, formatSafetyCode, pushBounded, shortId } from './meters.js'
import { logLine, newPageState, resetForJoin, type FabricPage } from './page-state.js'
import { Tiles } from './tiles.js'
import { SIGNAL_PATH } from '../transport/webrtc/signal.js'

/**
 * The node's signalling URL: the node named by `?node=http://HOST:PORT`
 * (a page served by `fabric web`, or by the app itself, so that the node's
 * operator does not also supply the code that holds the member's keys),
 * else the node that served this page.
 */
function signalUrlOf (location: { href: string, search: string }): string {
  const node = new URLSearchParams(location.search).get('node')
  return new URL(SIGNAL_PATH, node !== null && node !== '' ? node : location.href).toString()
}
/** How often rates, stats and the side panel are refreshed, ms. */
const REFRESH_MS = 1_000

const b = browser()
const doc = b.document
/** Where the test and demo hook lives: `window.fabricPage` (page-state.ts). No global type is declared for it, so Node code type-checks as before. */
const hook = globalThis as { fabricPage?: FabricPage }

function byId<T extends El> (id: string): T {
  const el = doc.getElementById(id)
  if (el === null) throw new Error(`the page has no #${id}`)
  return el as T
}

const ui = {
  peerId: byId('peer-id'),
  form: byId('join-form'),
  invite: byId<InputEl>('invite'),
  join: byId<ButtonEl>('join'),
  leave: byId<ButtonEl>('leave'),
  status: byId('status'),
  error: byId('error'),
  tiles: byId('tiles'),
  preview: byId<VideoEl>('preview'),
  selfLabel: byId('self-label'),
  sentRate: byId('sent-rate'),
  stream: byId('stream'),
  epoch: byId('epoch'),
  safetyCode: byId('safety-code'),
  roster: byId('roster'),
  sent: byId('sent'),
  stats: byId('stats'),
  log: byId('log'),
}

/** One join's member and its transport; undefined while not joined. */
let current: { member: StreamMember, dialer: WebRtcDialer } | undefined

async function main (): Promise<void> {
  const { identity, kept, reason } = await loadOrCreateIdentity(b)
  const page = newPageState(identity.peerId, {
    canvasDigest: (sender) => tiles.digest(sender),
    join: (invitation) => join(invitation),
    leave: () => leave(),
  })
  watchLongTasks(page)
  const log = (line: string): void => {
    logLine(page, performance.now(), line)
    ui.log.textContent = page.log.join('\n')
  }
  const tiles = new Tiles(b, page, ui.tiles, ui.stats, log)
  const camera = new Camera(b, page, log)
  hook.fabricPage = page

  ui.peerId.textContent = identity.peerId
  if (!kept) log(`identity not kept (${reason ?? 'no storage'}): this peer id lasts until the page is reloaded`)
  log(`peer id ${identity.peerId}`)

  function render (): void {
    ui.status.textContent = current !== undefined && page.state === 'joined' ? `joined as ${shortId(page.peerId)}` : page.state
    ui.status.dataset.state = page.state
    ui.error.textContent = page.error === undefined ? '' : `${page.error.code}: ${page.error.message}`
    ui.join.disabled = page.state === 'joining' || page.state === 'joined'
    ui.invite.disabled = ui.join.disabled
    ui.leave.disabled = page.state !== 'joined'
    ui.stream.textContent = page.stream ?? '—'
    ui.epoch.textContent = page.epoch === '' ? '—' : page.epoch
    ui.safetyCode.textContent = page.safetyCode === '' ? '—' : formatSafetyCode(page.safetyCode)
    ui.selfLabel.textContent = `${shortId(page.peerId)} (you) · camera ${page.camera}`
  }

  function renderRoster (): void {
    ui.roster.replaceChildren(...page.roster.map((m) => {
      const li = doc.createElement('li')
      li.textContent = m === page.peerId ? `${m} (you)` : m
      if (m === page.peerId) li.className = 'self'
      return li
    }))
  }

  function refresh (): void {
    const now = performance.now()
    camera.refresh(now)
    const member = current?.member
    let stats
    // A member closing under us may refuse; the next second reads again, and the page must not stop refreshing.
    try { stats = member?.stats() } catch {}
    if (stats !== undefined) {
      page.epoch = stats.epoch
      if (stats.safetyCode !== '') page.safetyCode = stats.safetyCode
    }
    tiles.refresh(now, stats)
    const s = page.sent
    ui.sent.textContent = `sent ${s.frames} frames (${s.keyframes} keyframes, ${s.dropped} dropped), ${s.fps.toFixed(0)} fps, ${s.kbps.toFixed(0)} kbit/s`
    ui.sentRate.textContent = page.camera === 'on' && member !== undefined ? `${s.fps.toFixed(0)} fps · ${s.kbps.toFixed(0)} kbit/s` : ''
    render()
  }

  /**
   * Ends the current join on the page: stops sending, drops the tiles, and
   * forgets the member, so its later events are ignored. Returns it; the
   * caller closes its transport when done with it.
   */
  function teardown (): typeof current {
    const was = current
    current = undefined
    camera.unpublish()
    tiles.clear()
    page.roster = []
    renderRoster()
    return was
  }

  function ended (error: { code: string, message: string } | undefined): void {
    teardown()?.dialer.close()
    page.state = error === undefined ? 'left' : 'error'
    page.error = error
    log(error === undefined ? 'left the stream' : `ended: ${error.code}: ${error.message}`)
    render()
  }

  async function join (invitation: string): Promise<void> {
    const token = invitation.trim()
    if (page.state === 'joining' || page.state === 'joined') return
    resetForJoin(page)
    renderRoster()
    if (token === '') {
      page.state = 'error'
      page.error = { code: 'MALFORMED', message: 'paste an invitation token (fabric-invite-1.…) first' }
      render()
      return
    }
    page.state = 'joining'
    page.timings.joinStartedAt = performance.now()
    log('joining')
    render()
    let dialer: WebRtcDialer | undefined
    let member: StreamMember
    try {
      dialer = webrtcDialer({ signalUrl: signalUrlOf(b.location), identity })
      member = await StreamMember.join(contextOf(dialer, identity), undefined, { invitation: token })
    } catch (err) {
      dialer?.close()
      page.state = 'error'
      page.error = errorInfo(err)
      log(`join refused: ${page.error.code}: ${page.error.message}`)
      render()
      return
    }
    // The Welcome is processed: the member is in its first epoch.
    page.timings.joinedAt = performance.now()
    current = { member, dialer }
    page.state = 'joined'
    page.stream = `${member.owner}/${member.stream}`
    page.epoch = String(member.epoch)
    page.safetyCode = member.safetyCode()
    page.roster = [...member.roster]
    tiles.sync(page.roster, identity.peerId)
    renderRoster()
    log(`joined ${page.stream} at epoch ${page.epoch} (${(page.timings.joinedAt - page.timings.joinStartedAt!).toFixed(0)} ms)`)

    const mine = (): boolean => current?.member === member
    member.on('frame', (f) => { if (mine()) tiles.onFrame(f) })
    member.on('epoch', (e) => {
      if (!mine()) return
      page.epoch = String(e.epoch)
      page.safetyCode = e.safetyCode
      log(`epoch ${e.epoch}${e.added.length > 0 ? ` +${e.added.map(shortId).join(',')}` : ''}${e.removed.length > 0 ? ` -${e.removed.map(shortId).join(',')}` : ''}`)
      render()
    })
    member.on('roster', (r) => {
      if (!mine()) return
      page.roster = [...r]
      tiles.sync(page.roster, identity.peerId)
      renderRoster()
    })
    member.on('keyframe-needed', (t) => { if (mine() && t.context === 0) camera.requestKeyframe() })
    member.on('committer', (c) => { if (mine()) log(`committer ${shortId(c.committer)}${c.self ? ' (you)' : ''} at epoch ${c.epoch}`) })
    member.on('commit-refused', (r) => { if (mine()) log(`refused a Commit at epoch ${r.epoch}: ${errorInfo(r.error).code}: ${r.error.message}`) })
    member.on('reconnecting', (p) => { if (mine()) log(`reconnecting (attempt ${p.attempt}, ${p.reason})`) })
    member.on('resumed', (r) => { if (mine()) log(`resumed at epoch ${r.epoch} after ${r.awayMs} ms${r.rejoined ? ' (rejoined)' : ''}`) })
    member.on('removed', () => {
      if (!mine()) return
      ended({ code: 'REMOVED', message: 'the committer removed this member from the stream' })
      void member.shutdown()
    })
    member.on('closed', (err) => { if (mine()) ended(err === undefined ? undefined : errorInfo(err)) })
    camera.publishTo(member.publishTrack(0))
    render()
  }

  async function leave (): Promise<void> {
    const was = teardown()
    if (was === undefined) return
    page.state = 'left'
    render()
    // The leave request travels on the transport: close it only after.
    await was.member.leave().catch((err: unknown) => { log(`leave: ${errorInfo(err).message}`) })
    was.dialer.close()
    log('left the stream')
  }

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault()
    void join(ui.invite.value)
  })
  ui.leave.addEventListener('click', () => { void leave() })
  // Closing the tab leaves at once (best effort) instead of the node noticing a dead connection later.
  b.addEventListener('pagehide', () => { void leave() })
  setInterval(refresh, REFRESH_MS)
  render()
  void camera.start(ui.preview).then(render)

  const invitation = new URLSearchParams(b.location.search).get('invite')
  if (invitation !== null && invitation !== '') {
    ui.invite.value = invitation
    void join(invitation)
  }
}

/** The member's context over `dialer`: its KeyPackages are published through the same connection. */
/** The observer API of long tasks, as much of it as the page reads. */
type LongTaskObserver = new (cb: (list: { getEntries: () => Array<{ duration: number }> }) => void) => { observe: (opts: { type: string }) => void }

/**
 * Counts main-thread tasks over 50 ms into `page.mainThread`: MLS (a
 * Commit, a Welcome) runs on this thread, and these are the moments frames
 * stall, which a test or benchmark reads instead of guessing.
 */
function watchLongTasks (page: FabricPage): void {
  const Observer = (globalThis as unknown as { PerformanceObserver?: LongTaskObserver & { supportedEntryTypes?: string[] } }).PerformanceObserver
  if (Observer?.supportedEntryTypes?.includes('longtask') !== true) return
  new Observer((list) => {
    for (const e of list.getEntries()) {
      page.mainThread.longTasks++
      page.mainThread.longestMs = Math.max(page.mainThread.longestMs, e.duration)
      pushBounded(page.mainThread.recentMs, Math.round(e.duration), 32)
    }
  }).observe({ type: 'longtask' })
}

function contextOf (dialer: WebRtcDialer, identity: MemberIdentity): MemberContext {
  return { dialer, identity, keyPackages: new KeyPackagePool(dialer, identity) }
}

main().catch((err: unknown) => {
  // Only a page that lost its own elements, or a bug, gets here: say so where a person and a test look.
  const { code, message } = errorInfo(err)
  const line = doc.getElementById('error')
  if (line !== null) line.textContent = `${code}: ${message}`
  hook.fabricPage ??= { state: 'error', error: { code, message } } as unknown as FabricPage
  if (!(err instanceof FabricError)) console.error(err)
})
