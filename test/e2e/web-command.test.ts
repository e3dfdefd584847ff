/**
 * `fabric web`: the member page served from the member's own machine,
 * pointed at a node whose web endpoint serves signalling only
 * (`--no-web-page`), so the node's operator supplies none of the code that
 * holds the member's keys. A real Chromium opens the page `fabric web`
 * prints, joins with an invitation across origins (the node answers CORS),
 * and decodes the owner's clip; the node itself serves no page.
 * Every process and the browser are stopped in afterAll.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BrowserHarness, fixtureClip, makeFakeCamera, tileDecoding, type MemberPage } from '../../src/cli/browser-call.js'
import { inviteToken, memberIdentity, spawnTs, startMember, startNodeProcess, type MemberProc, type NodeProc, type Proc } from '../../src/cli/processes.js'

const WAIT_MS = 60_000

describe('fabric web', () => {
  const stops: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {})
  }, 60_000)

  it('serves the member page for another node, which joins through that node\'s signalling and shows the owner\'s video', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabric-web-cmd-'))
    stops.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const node: NodeProc = await startNodeProcess({ extra: ['--web', '127.0.0.1:0', '--no-web-page'] })
    stops.push(async () => { await node.proc.stop('SIGKILL') })
    expect(node.webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    // Signalling only: the node serves no page.
    expect((await fetch(`${node.webUrl}/`)).status).toBe(404)

    const ownerKey = join(dir, 'alice.key')
    await memberIdentity(ownerKey)
    const alice: MemberProc = await startMember({ name: 'alice', node: node.addr, stream: 'lobby', create: true, identity: ownerKey, publish: fixtureClip('alice'), loop: true })
    stops.push(async () => { await alice.proc.stop('SIGKILL') })
    const token = await inviteToken({ identity: ownerKey, stream: 'lobby', uses: 1 })

    const web: Proc = spawnTs('web', 'src/cli/fabric.ts', ['web', '--node', node.webUrl!, '--listen', '127.0.0.1:0', '--json'])
    stops.push(async () => { await web.stop('SIGKILL') })
    const printed = await web.waitFor((e) => e.event === 'web', WAIT_MS, 'fabric web prints its URL')
    const pageUrl = new URL(printed.url as string)
    expect(pageUrl.searchParams.get('node')).toBe(node.webUrl)
    expect(pageUrl.origin).not.toBe(node.webUrl)

    const browser = await BrowserHarness.launch({ cameraFile: await makeFakeCamera(join(dir, 'camera')), log: (l) => { console.log(`[fabric web] ${l}`) } })
    stops.push(async () => { await browser.close() })
    const page: MemberPage = await browser.openMember(pageUrl.origin, token, { node: node.webUrl })
    const seen = await page.waitUntil('alice\'s video decodes', (s) => s.state === 'joined' && tileDecoding(s.tiles[alice.identity], 30), WAIT_MS)
    console.log(`  fabric web page: joined at epoch ${seen.epoch}, welcome -> first frame ${seen.timings.welcomeToFirstFrameMs ?? '?'} ms, alice's tile ${seen.tiles[alice.identity]!.width}x${seen.tiles[alice.identity]!.height}`)
    expect(seen.roster).toContain(alice.identity)
    expect(page.errors).toEqual([])
  }, 4 * WAIT_MS)
})
