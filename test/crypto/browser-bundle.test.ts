/**
 * The member's core (src/browser.ts: wire, crypto, session with the
 * portable backend, and the member core of src/client over the transport
 * seam) bundles for browsers: esbuild, platform 'browser',
 * everything bundled, nothing external. esbuild refuses an unresolvable
 * import, which every node:* module and Node builtin is on that platform;
 * the output is also searched for any node: import that slipped through,
 * and the inputs for anything under src/platform/node, the libp2p adapter
 * (src/transport/libp2p) or the Node client shell (src/client/client.ts).
 */
import { builtinModules } from 'node:module'
import path from 'node:path'
import { build, type BuildFailure, type Metafile } from 'esbuild'
import { describe, expect, it } from 'vitest'
// The only imports esbuild may leave unresolved (dependencies' guarded dynamic
// imports, never loaded in a browser); any other, and any static import or
// require, fails the test.
import { TOLERATED_DYNAMIC_IMPORTS } from '../../src/web/bundle.js'
import { repoRoot } from './helpers.js'

const ENTRY = path.join(repoRoot, 'src', 'browser.ts')


async function bundle (): Promise<{ text: string, metafile: Metafile }> {
  try {
    const result = await build({
      entryPoints: [ENTRY],
      absWorkingDir: repoRoot,
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      metafile: true,
      logLevel: 'silent',
    })
    return { text: result.outputFiles[0].text, metafile: result.metafile }
  } catch (err) {
    const failure = err as BuildFailure
    const lines = (failure.errors ?? []).map((e) => `${e.text} (${e.location?.file ?? '?'}:${e.location?.line ?? '?'})`)
    throw new Error(`src/browser.ts does not bundle for the browser:\n${lines.join('\n')}`, { cause: err })
  }
}

describe('browser bundle of the member core', () => {
  it('bundles for platform browser with nothing external, and imports no node: module or Node builtin', async () => {
    const { text, metafile } = await bundle()
    expect(text.length).toBeGreaterThan(0)
    expect(text).not.toMatch(/require\(\s*["']node:/)
    expect(text).not.toMatch(/from\s*["']node:/)
    expect(text).not.toMatch(/import\(\s*["']node:/)
    // No import left unresolved (external), builtin or not, but the tolerated guarded ones.
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
    const unresolved: string[] = []
    for (const [importer, input] of Object.entries(metafile.inputs)) {
      for (const i of input.imports) {
        if (i.external !== true && !builtins.has(i.path)) continue
        const tolerated = i.kind === 'dynamic-import' && TOLERATED_DYNAMIC_IMPORTS.some((t) => t.importer.test(importer) && t.path === i.path)
        if (!tolerated) unresolved.push(`${importer} -> ${i.path} (${i.kind})`)
      }
    }
    expect(unresolved).toEqual([])
    const output = Object.values(metafile.outputs)[0]
    expect(output.imports.filter((i) => i.kind !== 'dynamic-import').map((i) => i.path)).toEqual([])
    expect(output.imports.map((i) => i.path).filter((p) => p.startsWith('node:'))).toEqual([])
    // The node backend stays out, and so does every layer above the core.
    const sources = Object.keys(metafile.inputs).filter((f) => f.startsWith('src/'))
    expect(sources.filter((f) => f.startsWith('src/platform/'))).toEqual([])
    expect(sources.filter((f) => !/^src\/(wire|crypto|session|client|transport)\//.test(f) && f !== 'src/browser.ts' && f !== 'src/errors.ts')).toEqual([])
    expect(sources.filter((f) => f.startsWith('src/transport/libp2p/') || f === 'src/client/client.ts')).toEqual([])
    expect(sources).toContain('src/client/member-core.ts')
    expect(sources).toContain('src/client/stream-member.ts')
    expect(sources).toContain('src/crypto/backend-noble.ts')
    expect(sources).toContain('src/session/av-session.ts')
  }, 60_000)
})
