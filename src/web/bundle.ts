/**
 * Builds the browser member page for a node to serve: `buildWebApp()`
 * bundles src/web/app.ts (with the member core of src/browser.ts and the
 * WebRTC dialer) into one ES module with esbuild, for platform 'browser',
 * and returns it with the page's HTML. Serve `html` at `GET /` and `js`
 * at `GET /app.js` (content-type text/javascript): the HTML loads the
 * script from there. Node-side only (esbuild, node:fs).
 *
 * Works from the sources (tsx: this file is src/web/bundle.ts and bundles
 * app.ts beside it) and from the build (dist/web/bundle.js bundles the
 * compiled app.js beside it); paths come from this file's location, never
 * from the working directory.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type BuildFailure, type Metafile } from 'esbuild'
import { PAGE_CSS, PAGE_HTML } from './page.js'

/** The page, ready to serve. */
export interface WebAssets {
  /** The page (`GET /`, text/html; charset=utf-8); its CSS is inline. */
  html: string
  /** The page script, one minified ES module of about 500 kB, no source map (`GET /app.js`, text/javascript). */
  js: string
  /** The style sheet the HTML inlines, for a server that would rather serve it apart. */
  css: string
}

/**
 * The only imports left out of the bundle: dependencies' dynamic imports
 * inside try/catch, never loaded in a browser; test/crypto/browser-bundle.test.ts
 * holds the member core's bundle to this list too. @hpke/common reaches for
 * node's webcrypto only when globalThis.crypto is missing; ts-mls loads
 * its optional post-quantum and X448 suites' packages on demand (fabric's
 * suites need none).
 */
export const TOLERATED_DYNAMIC_IMPORTS: ReadonlyArray<{ importer: RegExp, path: string }> = [
  { importer: /^node_modules\/@hpke\/common\//, path: 'crypto' },
  { importer: /^node_modules\/ts-mls\//, path: '@hpke/dhkem-x448' },
  { importer: /^node_modules\/ts-mls\//, path: '@hpke/ml-kem' },
  { importer: /^node_modules\/ts-mls\//, path: '@hpke/hybridkem-x-wing' },
  { importer: /^node_modules\/ts-mls\//, path: '@noble/post-quantum/ml-dsa.js' },
]

const here = path.dirname(fileURLToPath(import.meta.url))

let cached: Promise<WebAssets> | undefined

/**
 * The page and its bundled script; built once per process and kept (a
 * build takes about a second), so every call after the first resolves at
 * once with the same strings. A failed build is not kept: the next call
 * tries again.
 *
 * @throws Error naming each esbuild error (file:line) when app.ts does not bundle for the browser
 */
export async function buildWebApp (): Promise<WebAssets> {
  cached ??= bundleApp().then(({ js }) => ({ html: PAGE_HTML, js, css: PAGE_CSS }))
  try {
    return await cached
  } catch (err) {
    cached = undefined
    throw err
  }
}

/**
 * Bundles the page script (not cached): the JavaScript, and esbuild's
 * metafile (inputs and imports, paths relative to the package root), which
 * the tests read to check nothing Node-only got in.
 *
 * @throws Error naming each esbuild error when it does not bundle
 */
export async function bundleApp (): Promise<{ js: string, metafile: Metafile }> {
  // From src/web/ or dist/web/, the package root is two folders up.
  const root = path.resolve(here, '..', '..')
  const entry = [path.join(here, 'app.ts'), path.join(here, 'app.js')].find((f) => existsSync(f))
  if (entry === undefined) throw new Error(`no app.ts or app.js beside ${here}`)
  try {
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      metafile: true,
      legalComments: 'none',
      external: [...new Set(TOLERATED_DYNAMIC_IMPORTS.map((t) => t.path))],
      logLevel: 'silent',
    })
    return { js: result.outputFiles[0].text, metafile: result.metafile }
  } catch (err) {
    const failure = err as Partial<BuildFailure>
    const lines = (failure.errors ?? []).map((e) => `${e.text} (${e.location?.file ?? '?'}:${e.location?.line ?? '?'})`)
    throw new Error(`the member page (${path.relative(root, entry)}) does not bundle for the browser:\n${lines.join('\n')}`, { cause: err })
  }
}
