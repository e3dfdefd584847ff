/**
 * Makes a Prometheus text exposition pass `promtool check metrics` when
 * some of its families break the naming conventions promtool lints (the
 * node cannot rename them at the source: prom-client's default process
 * metrics and libp2p's own register their names themselves, libp2p's
 * lazily, as components start). Applied to the text at scrape time, so it
 * costs nothing between scrapes.
 *
 * The rules, for gauges, counters and untyped families (histograms and
 * summaries are left as they are):
 * - a non-counter named `*_total` (a suffix reserved for counters) loses the
 *   suffix: libp2p's `libp2p_protocol_streams_total` gauge is exposed as
 *   `libp2p_protocol_streams`;
 * - a counter without `_total` gains it;
 * - a `_milliseconds` unit becomes `_seconds`, the base unit, its values
 *   divided by 1000 (libp2p's `libp2p_connection_monitor_ping_time_milliseconds`);
 * - a family whose fixed name another family already has is left out (prom-
 *   client's `nodejs_active_handles_total` duplicates the sum of
 *   `nodejs_active_handles` by type).
 */

/** A family's new name and the factor its sample values are multiplied by; null: left out. */
export type FamilyFix = { name: string, scale: number } | null

/** The families a fix may apply to; histograms and summaries have suffixed sample names of their own. */
const FIXABLE = new Set(['gauge', 'counter', 'untyped'])

/** Leading metric name of a sample line. */
const SAMPLE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/

/**
 * The fixes the families need, by their current name; families that lint
 * as they are have no entry.
 * @param families every family of the exposition, by name and type
 */
export function lintFixes (families: ReadonlyArray<{ readonly name: string, readonly type: string }>): Map<string, FamilyFix> {
  const taken = new Set(families.map((f) => f.name))
  const fixes = new Map<string, FamilyFix>()
  for (const { name, type } of families) {
    if (!FIXABLE.has(type)) continue
    let fixed = name
    let scale = 1
    const total = fixed.endsWith('_total')
    if (total) fixed = fixed.slice(0, -'_total'.length)
    if (/_milliseconds(_|$)/.test(fixed)) {
      fixed = fixed.replace(/_milliseconds(_|$)/, '_seconds$1')
      scale = 1e-3
    }
    if (type === 'counter') fixed += '_total'
    if (fixed === name) continue
    fixes.set(name, taken.has(fixed) ? null : { name: fixed, scale })
    taken.add(fixed)
  }
  return fixes
}

/**
 * Applies `fixes` (from `lintFixes`) to an exposition in the Prometheus
 * text format 0.0.4 without timestamps, as prom-client writes it: renames
 * the HELP, TYPE and sample lines of each fixed family, scales its sample
 * values, and drops every line of the families left out.
 */
export function applyLintFixes (text: string, fixes: ReadonlyMap<string, FamilyFix>): string {
  if (fixes.size === 0) return text
  const out: string[] = []
  for (const line of text.split('\n')) {
    const comment = line.startsWith('# HELP ') || line.startsWith('# TYPE ')
    const rest = comment ? line.slice(7) : line
    const name = SAMPLE_NAME.exec(rest)?.[0]
    const fix = name === undefined ? undefined : fixes.get(name)
    if (fix === undefined || name === undefined) {
      out.push(line)
    } else if (fix !== null) {
      const renamed = fix.name + rest.slice(name.length)
      out.push(comment ? line.slice(0, 7) + renamed : scaleValue(renamed, fix.scale))
    }
  }
  return out.join('\n')
}

/** A sample line with its value (the last field: no timestamps) times `scale`; NaN and infinities stay. */
function scaleValue (line: string, scale: number): string {
  if (scale === 1) return line
  const at = line.lastIndexOf(' ')
  const value = Number(line.slice(at + 1))
  return Number.isFinite(value) ? `${line.slice(0, at + 1)}${value * scale}` : line
}
