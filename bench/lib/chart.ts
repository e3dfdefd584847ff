/**
 * A small SVG line chart (no dependencies) for benchmark curves: x on a log
 * scale (subscriber counts span 1..300), one polyline per series, labelled
 * axes and ticks, a legend.
 */

/** One named curve: [x, y] points, x > 0. */
export interface Series {
  name: string
  points: Array<[number, number]>
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd']

/** Renders `series` as an SVG document (width x height px). */
export function lineChart (opts: { title: string, xLabel: string, yLabel: string, series: Series[], width?: number, height?: number }): string {
  const w = opts.width ?? 640
  const h = opts.height ?? 360
  const m = { left: 64, right: 16, top: 36, bottom: 48 }
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0])).filter((x) => x > 0)
  const ys = opts.series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => Number.isFinite(y))
  const x0 = Math.log10(Math.min(...xs))
  const x1 = Math.max(Math.log10(Math.max(...xs)), x0 + 1)
  const y1 = Math.max(...ys, 1) * 1.1
  const px = (x: number): number => m.left + (Math.log10(x) - x0) / (x1 - x0) * (w - m.left - m.right)
  const py = (y: number): number => h - m.bottom - y / y1 * (h - m.top - m.bottom)
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`, `<rect width="${w}" height="${h}" fill="white"/>`]
  out.push(`<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`)
  out.push(`<line x1="${m.left}" y1="${h - m.bottom}" x2="${w - m.right}" y2="${h - m.bottom}" stroke="black"/><line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${h - m.bottom}" stroke="black"/>`)
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${px(x)}" y1="${h - m.bottom}" x2="${px(x)}" y2="${h - m.bottom + 4}" stroke="black"/><text x="${px(x)}" y="${h - m.bottom + 16}" text-anchor="middle">${x}</text>`)
  }
  for (let i = 0; i <= 4; i++) {
    const y = y1 * i / 4
    out.push(`<line x1="${m.left - 4}" y1="${py(y)}" x2="${w - m.right}" y2="${py(y)}" stroke="#ddd"/><text x="${m.left - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 100 ? y.toFixed(0) : y.toFixed(1)}</text>`)
  }
  out.push(`<text x="${w / 2}" y="${h - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`)
  out.push(`<text x="16" y="${h / 2}" text-anchor="middle" transform="rotate(-90 16 ${h / 2})">${esc(opts.yLabel)}</text>`)
  opts.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]
    const pts = s.points.filter((p) => p[0] > 0 && Number.isFinite(p[1]))
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`)
    for (const p of pts) out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${c}"/>`)
    out.push(`<rect x="${m.left + 12}" y="${m.top + 6 + i * 16}" width="10" height="10" fill="${c}"/><text x="${m.left + 28}" y="${m.top + 15 + i * 16}">${esc(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
