/**
 * `npm run demo`: runs the main-job scenario (src/cli/scenario.ts) in
 * separate processes and prints a table per member and every check. Exits
 * non-zero when any check fails.
 */
import '../polyfill.js'
import { runScenario, type MemberRow } from './scenario.js'

function table (row: MemberRow): string {
  const lines = [`\n${row.name} (${row.identity.slice(-10)}): sent ${row.sent} frames, ${row.failures} decrypt failures`]
  lines.push('  from     received  decrypted  before-keys  failures  join->1st keyframe')
  for (const [sender, s] of Object.entries(row.from)) {
    lines.push(`  ${sender.padEnd(8)} ${String(s.received).padStart(8)}  ${String(s.decrypted).padStart(9)}  ${String(s.beforeKeys).padStart(11)}  ${String(s.failures).padStart(8)}  ${s.firstKeyframeMs === undefined ? '-' : `${s.firstKeyframeMs} ms`}`)
  }
  for (const r of row.recordings) lines.push(`  recording of ${r.sender}: ${r.frames} frames, ffmpeg ${r.decodes ? 'decodes' : 'FAILS'} (${r.decodedFrames} frames)`)
  return lines.join('\n')
}

const report = await runScenario({ log: (l) => { process.stdout.write(`- ${l}\n`) } })
for (const row of report.rows) process.stdout.write(table(row) + '\n')
process.stdout.write('\neve (outsider):\n')
for (const r of report.refusals) process.stdout.write(`  tried ${r.attempt}: refused ${r.code} (exit ${String(r.exitCode)}), decrypted 0 frames\n`)
process.stdout.write(`\nnode ${report.node.peerId.slice(-10)} handled ${report.node.captureBytes} bytes of media\n\nchecks:\n`)
for (const c of report.checks) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail === '' ? '' : ` (${c.detail})`}\n`)
const failed = report.checks.filter((c) => !c.ok).length
process.stdout.write(`\n${report.checks.length - failed} passed, ${failed} failed\n`)
process.exit(failed === 0 ? 0 : 1)
