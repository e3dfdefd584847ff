/**
 * The member page builds for browsers: `buildWebApp()` bundles
 * src/web/app.ts with esbuild for platform 'browser' into one ES module
 * with no node: import, leaving out only the guarded dynamic imports
 * test/crypto/browser-bundle.test.ts tolerates; nothing Node-only (the
 * node:crypto backend, the libp2p adapter, the Node client shell) gets in;
 * the HTML loads the script from /app.js and has every element the script
 * looks up.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildWebApp, bundleApp, TOLERATED_DYNAMIC_IMPORTS } from '../../src/web/bundle.js'
import { PAGE_HTML } from '../../src/web/page.js'
import { repoRoot } from '../crypto/helpers.js'

describe('the member page bundle', () => {
  it('bundles app.ts for the browser as one ES module with no node: import, and caches it', async () => {
    const assets = await buildWebApp()
    expect(assets.js.length).toBeGreaterThan(10_000)
    expect(assets.js).not.toMatch(/require\(\s*["']node:/)
    expect(assets.js).not.toMatch(/from\s*["']node:/)
    expect(assets.js).not.toMatch(/import\(\s*["']node:/)
    expect(assets.html).toContain('<script type="module" src="/app.js"></script>')
    expect(assets.html).toContain(assets.css)
    expect(await buildWebApp()).toBe(assets)
  }, 60_000)

  it('leaves out only the tolerated guarded dynamic imports, and takes in nothing Node-only', async () => {
    const { metafile } = await bundleApp()
    const unresolved: string[] = []
    for (const [importer, input] of Object.entries(metafile.inputs)) {
      for (const i of input.imports) {
        if (i.external !== true) continue
        const tolerated = i.kind === 'dynamic-import' && TOLERATED_DYNAMIC_IMPORTS.some((t) => t.importer.test(importer) && t.path === i.path)
        if (!tolerated) unresolved.push(`${importer} -> ${i.path} (${i.kind})`)
      }
    }
    expect(unresolved).toEqual([])
    const output = Object.values(metafile.outputs)[0]
    expect(output.imports.filter((i) => i.kind !== 'dynamic-import')).toEqual([])
    const sources = Object.keys(metafile.inputs).filter((f) => f.startsWith('src/'))
    expect(sources.filter((f) => !/^src\/(wire|crypto|session|client|transport|web)\//.test(f) && f !== 'src/browser.ts' && f !== 'src/errors.ts')).toEqual([])
    expect(sources.filter((f) => f.startsWith('src/platform/') || f.startsWith('src/transport/libp2p/') || f === 'src/client/client.ts' || f === 'src/polyfill.ts')).toEqual([])
    // The page script itself, the member core, and the WebRTC dialer are in; the Node-side builder is not.
    expect(sources).toEqual(expect.arrayContaining(['src/web/app.ts', 'src/browser.ts', 'src/client/stream-member.ts', 'src/transport/webrtc/dialer.ts']))
    expect(sources).not.toContain('src/web/bundle.ts')
  }, 60_000)

  it('has every element the page script looks up by id', () => {
    const ids = new Set([...PAGE_HTML.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]))
    const script = readFileSync(path.join(repoRoot, 'src', 'web', 'app.ts'), 'utf8')
    const wanted = [...script.matchAll(/byId(?:<\w+>)?\('([^']+)'\)/g)].map((m) => m[1])
    expect(wanted.length).toBeGreaterThan(10)
    expect(wanted.filter((id) => !ids.has(id))).toEqual([])
  })
})
