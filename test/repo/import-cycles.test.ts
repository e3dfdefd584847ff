/**
 * The modules of src/ import each other without a cycle, at the level of
 * files: every relative `import`, `import type`, `export ... from` and
 * `import()` counts (a type-only cycle still ties the modules' designs
 * together, and one edit turns it into a value cycle whose evaluation order
 * decides what is undefined at load). docs/architecture.md section 2 states
 * the rule; this test holds the tree to it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../src/cli/processes.js'

const SRC = join(REPO_ROOT, 'src')

/** Every .ts file under `dir`, absolute. */
function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : []
  })
}

/** The file a relative specifier of `from` names (ESM spells `./x.js` for `./x.ts`), or undefined when none exists. */
function resolveImport (from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec)
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')]
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c))
}

/** The import graph of src/: file to the src/ files it imports (relative specifiers only). */
function importGraph (): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sources(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolveImport(file, spec))
      .filter((t): t is string => t !== undefined && t.startsWith(SRC))
    graph.set(file, [...new Set(targets)])
  }
  return graph
}

/** The strongly connected components of `graph` with a cycle in them (Tarjan), each as one cycle through it. */
function cycles (graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const found: string[][] = []
  let next = 0
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component = new Set<string>()
    for (;;) {
      const w = stack.pop()!
      onStack.delete(w)
      component.add(w)
      if (w === v) break
    }
    if (component.size > 1 || (graph.get(v) ?? []).includes(v)) found.push(cycleWithin(graph, component, v))
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

/** One cycle from `start` back to it inside `component` (breadth-first, so the shortest). */
function cycleWithin (graph: Map<string, string[]>, component: Set<string>, start: string): string[] {
  const parent = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift()!
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue
      if (w === start) {
        const path = [v]
        while (path[0] !== start) path.unshift(parent.get(path[0])!)
        return [...path, start]
      }
      if (!parent.has(w)) {
        parent.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start]
}

/** The folder (layer) of a src/ file; files at the root of src/ are '(root)'. */
function layerOf (file: string): string {
  const parts = relative(SRC, file).split(/[\\/]/)
  return parts.length === 1 ? '(root)' : parts[0]!
}

/** The graph of layers: folder to the folders its files import (the root's entry points left out: they import every layer by design). */
function layerGraph (files: Map<string, string[]>): Map<string, string[]> {
  const layers = new Map<string, Set<string>>()
  for (const [file, targets] of files) {
    const from = layerOf(file)
    if (from === '(root)') continue
    const into = layers.get(from) ?? new Set<string>()
    for (const t of targets) if (layerOf(t) !== from && layerOf(t) !== '(root)') into.add(layerOf(t))
    layers.set(from, into)
  }
  return new Map([...layers].map(([k, v]) => [k, [...v]]))
}

describe('the import graph of src/', () => {
  it('has no cycle', () => {
    const graph = importGraph()
    expect(graph.size).toBeGreaterThan(100)
    const found = cycles(graph).map((c) => c.map((f) => relative(REPO_ROOT, f)).join(' -> '))
    expect(found).toEqual([])
  })

  it('has no cycle between layers (folders), so each layer knows nothing of the ones above it', () => {
    const layers = layerGraph(importGraph())
    expect(layers.size).toBeGreaterThan(8)
    expect(cycles(layers)).toEqual([])
    // The orders docs/architecture.md section 1 states.
    expect(layers.get('wire')).toEqual([])
    // The WebRTC binding handshake signs with Ed25519 (crypto); nothing above.
    expect(layers.get('transport')!.every((l) => l === 'wire' || l === 'crypto')).toBe(true)
    expect(layers.get('client')).not.toContain('node')
    expect(layers.get('node')).not.toContain('client')
  })
})
