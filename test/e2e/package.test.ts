/**
 * The package as an app gets it: `npm pack` (which builds dist/ through the
 * `prepare` script), installed into an empty folder beside nothing of this
 * repository, then a short app that imports only the public entry points
 * (`fabric-relay`, `fabric-relay/node`, `fabric-relay/wire`) starts a node,
 * has two members join an encrypted stream and sees one frame arrive
 * decrypted; and the installed `fabric-node` bin answers --version.
 * Everything runs in child processes, bounded in time, removed afterwards.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../src/cli/processes.js'

const run = promisify(execFile)

const APP = `
import { FabricClient, TrackContext, isFabricError } from 'fabric-relay'
import { startNode } from 'fabric-relay/node'
import { parseChunk, MAX_CHUNK_PAYLOAD } from 'fabric-relay/wire'

const node = await startNode({ admin: false })
const alice = await FabricClient.connect({ node: node.multiaddrs[0] })
const bob = await FabricClient.connect({ node: node.multiaddrs[0] })
try {
  const a = await alice.createStream('pkg', { admission: { admission: 'open' } })
  const b = await bob.joinStream('pkg', { owner: alice.identity })
  const got = new Promise((resolve) => b.on('frame', (f) => { resolve(f) }))
  const track = a.publishTrack(TrackContext.video)
  const payload = new TextEncoder().encode('hello through the package')
  // The first frames may go out before bob's subscription is in place: send until one arrives.
  let frame
  for (let i = 0; i < 50 && frame === undefined; i++) {
    await track.sendFrame(payload, { keyframe: true })
    frame = await Promise.race([got, new Promise((resolve) => setTimeout(resolve, 100))])
  }
  console.log(JSON.stringify({
    text: frame === undefined ? null : new TextDecoder().decode(frame.payload),
    sender: frame?.sender === alice.identity,
    epoch: String(a.session.epoch),
    wire: typeof parseChunk === 'function' && MAX_CHUNK_PAYLOAD > 0,
    errors: typeof isFabricError === 'function',
  }))
} finally {
  await alice.close()
  await bob.close()
  await node.stop()
}
`

describe('the npm package', () => {
  let dir: string
  let tarball: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-pkg-'))
    await run('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: REPO_ROOT, timeout: 180_000 })
    tarball = join(dir, (await readdir(dir)).find((f) => f.endsWith('.tgz'))!)
    const app = join(dir, 'app')
    await run('mkdir', ['-p', app])
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'pkg-test-app', private: true, type: 'module' }))
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, timeout: 300_000 })
    await writeFile(join(app, 'app.mjs'), APP)
  }, 480_000)
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('holds the built JS, its types, the bins and the docs, and no tests or sources', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball])
    const files = stdout.split('\n')
    for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/node/index.js', 'package/dist/wire/index.d.ts',
      'package/dist/browser.js', 'package/bin/fabric-node.js', 'package/docs/client.md', 'package/protocol/README.md']) {
      expect(files, f).toContain(f)
    }
    expect(files.filter((f) => f.startsWith('package/test/') || f.startsWith('package/src/'))).toEqual([])
  })

  it('an app importing only the public entry points joins a stream and decrypts a frame', async () => {
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: join(dir, 'app'), timeout: 60_000 })
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ text: 'hello through the package', sender: true, epoch: '1', wire: true, errors: true })
  })

  it('the installed bins run the built JS: fabric-node --version and fabric --version', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
    const bin = join(dir, 'app', 'node_modules', '.bin')
    expect((await run(join(bin, 'fabric-node'), ['--version'], { timeout: 30_000 })).stdout.split('\n')[0]).toBe(`fabric-node ${pkg.version}`)
    expect((await run(join(bin, 'fabric'), ['--version'], { timeout: 30_000 })).stdout.split('\n')[0]).toBe(`fabric ${pkg.version}`)
  })

  it('a deep import of a module that is not an entry point is refused', async () => {
    await expect(run(process.execPath, ['--input-type=module', '-e', "await import('fabric-relay/dist/relay/relay-node.js')"], { cwd: join(dir, 'app'), timeout: 30_000 }))
      .rejects.toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/)
  })
})
