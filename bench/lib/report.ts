/**
 * Shared reporting for `npm run bench`: every result carries the machine's
 * CPU and Node version, prints as a table, and is written as JSON under
 * results/ (one file per benchmark run). Targets print as met or not with the
 * measured figure; absolute times on these shared machines are noisy, so
 * each benchmark measures its own baseline in the same run and reports ratios.
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { REPO_ROOT } from '../../src/cli/processes.js'

/** Where results go. */
export const RESULTS_DIR = join(REPO_ROOT, 'results')

/** The machine a result was measured on. */
export interface MachineInfo {
  cpu: string
  cores: number
  memoryGiB: number
  node: string
  platform: string
  loadAverage: number[]
  date: string
}

/** Describes this machine. */
export function machineInfo (): MachineInfo {
  const c = cpus()
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  }
}

/** A target from the issue, judged against a measured figure. */
export interface Target {
  name: string
  met: boolean
  figure: string
  /** Why it is not met, when the design or the machine limits it. */
  reason?: string
}

/** One benchmark's result file. */
export interface BenchResult {
  bench: string
  machine: MachineInfo
  params: Record<string, unknown>
  rows: Array<Record<string, unknown>>
  targets: Target[]
  notes: string[]
  /** Anything else worth keeping with the figures (e.g. every trial of a search). */
  extra?: Record<string, unknown>
}

/** Formats rows as an aligned text table (columns from the first row's keys). */
export function table (rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '(no rows)\n'
  const cols = Object.keys(rows[0])
  const cell = (v: unknown): string => typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 3)) : String(v ?? '')
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (vals: string[]): string => vals.map((v, i) => v.padStart(width[i])).join('  ')
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n') + '\n'
}

/** Prints a result and writes it to results/<bench>-<timestamp>.json; returns the path. */
export async function report (result: BenchResult): Promise<string> {
  const out = process.stdout
  out.write(`\n== ${result.bench} — ${result.machine.cpu} x${result.machine.cores}, Node ${result.machine.node}, load ${result.machine.loadAverage.join(' ')}\n`)
  out.write(table(result.rows))
  for (const t of result.targets) out.write(`  target ${t.met ? 'MET    ' : 'NOT MET'} ${t.name}: ${t.figure}${t.reason === undefined ? '' : ` (${t.reason})`}\n`)
  for (const n of result.notes) out.write(`  note: ${n}\n`)
  await mkdir(RESULTS_DIR, { recursive: true })
  const path = join(RESULTS_DIR, `${result.bench}-${result.machine.date.replace(/[:.]/g, '-')}.json`)
  await writeFile(path, JSON.stringify(result, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v, 2))
  await writeFile(join(RESULTS_DIR, `${result.bench}-latest.json`), JSON.stringify(result, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v, 2))
  return path
}

/** Percentile (0..100) of a sorted copy of `xs`; NaN when empty. */
export function percentile (xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/** Largest of `xs`, NaN when empty; a loop, since spreading 10^5 samples into Math.max overflows the stack. */
export function max (xs: readonly number[]): number {
  let m = NaN
  for (const x of xs) if (!(x <= m)) m = x
  return m
}

/**
 * Runs `fn` repeatedly for about `ms` (after a warm-up) and returns the mean
 * time per call in µs. For in-process micro-benchmarks only.
 */
export function timePerCall (fn: () => void, ms = 300): number {
  const warm = Date.now() + Math.min(100, ms / 3)
  while (Date.now() < warm) fn()
  let n = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 16; i++) fn()
    n += 16
    now = process.hrtime.bigint()
  }
  return Number(now - start) / 1000 / n
}
