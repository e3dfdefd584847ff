/**
 * The repository stands alone: no tracked file reads or cites anything
 * outside it (the sibling folder the project started beside, a `design.md`
 * that is not here),
 * and every relative link in the docs and every `protocol/`, `docs/` or
 * `fixtures/` path a source comment cites names a file that exists. A
 * fresh clone with nothing beside it must pass the suite; this catches what
 * would break it before CI does.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../src/cli/processes.js'

const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter((f) => f !== '' && existsSync(join(REPO_ROOT, f)))
const text = (f: string): string => readFileSync(join(REPO_ROOT, f), 'utf8')
const isText = (f: string): boolean => /\.(ts|js|mjs|md|json|proto|sh|yaml|yml)$/.test(f) || f === '.ci/run'
// This file names what it looks for.
const SELF = 'test/repo/self-contained.test.ts'
// The sibling folder the project started beside, spelled in pieces so that a
// search of the tree for code reading it finds none here.
const SIBLING = ['\\.\\.', 'shared'].join('/')
const OUTSIDE = new RegExp(`${SIBLING}\\b|shared\\/(notes|seeds|vectors)\\b`)

describe('a self-contained repository', () => {
  it('no tracked file refers to the sibling shared folder or to a design.md that is not in it', () => {
    const offenders: string[] = []
    for (const f of tracked.filter(isText)) {
      if (f === SELF) continue
      const t = text(f)
      if (OUTSIDE.test(t)) offenders.push(`${f}: the sibling shared folder`)
      if (/(^|[^/\w])design\.md\b/.test(t) && !existsSync(join(REPO_ROOT, 'design.md'))) offenders.push(`${f}: design.md`)
    }
    expect(offenders).toEqual([])
  })

  it('every relative link in a markdown file names a file that exists', () => {
    const broken: string[] = []
    for (const f of tracked.filter((x) => x.endsWith('.md'))) {
      for (const m of text(f).matchAll(/\]\(([^)\s#]+)(#[^)\s]*)?\)/g)) {
        const target = m[1]
        if (/^[a-z]+:/i.test(target)) continue
        if (!existsSync(normalize(join(REPO_ROOT, dirname(f), target)))) broken.push(`${f}: ${target}`)
      }
    }
    expect(broken).toEqual([])
  })

  it('every protocol/, docs/ or fixtures/ file a source comment cites exists', () => {
    const missing: string[] = []
    for (const f of tracked.filter((x) => /\.(ts|js)$/.test(x) && x !== SELF)) {
      for (const m of text(f).matchAll(/\b((?:protocol|docs|fixtures)\/[\w./-]+\.(?:md|proto|json|ivf))\b/g)) {
        if (!existsSync(join(REPO_ROOT, m[1]))) missing.push(`${f}: ${m[1]}`)
      }
    }
    expect(missing).toEqual([])
  })
})
