/**
 * `npm run demo [-- --work-dir DIR] [-- --phase-seconds N]`: runs the
 * main-job scenario (src/cli/scenario.ts) in separate processes and prints a
 * table per member, every check, and where the recordings and logs are. The
 * scenario ends with the creator leaving mid-call: the checks include that
 * another member took over as committer and the rest went on decrypting
 * each other.
 * Exits 1 when any check fails or the scenario breaks off, 2 when there is
 * no ffmpeg to check the recordings with (none on PATH and none from the npm
 * package) or the arguments are wrong. Never prints a stack trace: what went
 * wrong is said in a line.
 */
import '../polyfill.js'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { delimiter, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { FFMPEG_NPM_PACKAGE, findFfmpeg, type FfmpegTool } from '../media/ffmpeg-check.js'
import { REPO_ROOT } from './processes.js'
import { runScenario, type MemberRow, type ScenarioReport } from './scenario.js'

const USAGE = `usage: npm run demo [-- --work-dir DIR] [--phase-seconds N]
  --work-dir DIR       recordings, events, logs (default .tmp/demo; emptied first)
  --phase-seconds N    seconds of media in each of the four phases (default 3): before dave
                       joins, after he joins, after carol's removal, after alice leaves
`

/** A path as the user can type it from here: relative when under the working directory. */
function shown (path: string): string {
  const rel = relative(process.cwd(), path)
  return rel !== '' && !rel.startsWith('..') ? rel : path
}

function table (row: MemberRow): string {
  const lines = [`\n${row.name} (${row.identity.slice(-10)}): sent ${row.sent} frames, ${row.failures} decrypt failures`]
  lines.push('  from     received  decrypted  before-keys  failures  join->1st keyframe')
  for (const [sender, s] of Object.entries(row.from)) {
    lines.push(`  ${sender.padEnd(8)} ${String(s.received).padStart(8)}  ${String(s.decrypted).padStart(9)}  ${String(s.beforeKeys).padStart(11)}  ${String(s.failures).padStart(8)}  ${s.firstKeyframeMs === undefined ? '-' : `${s.firstKeyframeMs} ms`}`)
  }
  for (const r of row.recordings) lines.push(`  recording of ${r.sender}: ${r.frames} frames, ffmpeg ${r.decodes ? 'decodes' : 'FAILS'} (${r.decodedFrames} frames)`)
  return lines.join('\n')
}

function describeTool (tool: FfmpegTool): string {
  return `ffmpeg ${tool.version} at ${tool.path} (${tool.source === 'PATH' ? 'found on PATH' : `shipped by the npm package ${FFMPEG_NPM_PACKAGE}; none on PATH`})`
}

function ffplayOnPath (): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'ffplay')))
}

/** Where the recordings, events and logs are, and how to play a recording. */
function whereThingsAre (report: ScenarioReport): string {
  const dir = shown(report.workDir)
  const lines = [`\nrecordings (VP8 in IVF, one per member and sender), in ${shown(join(report.workDir, 'rec'))}/MEMBER/:`]
  for (const row of report.rows) {
    lines.push(`  ${row.name}: ${row.recordings.map((r) => `${r.sender} ${shown(r.path).split('/').pop()!}`).join(', ')}`)
  }
  const example = report.rows.flatMap((row) => row.recordings.map((r) => ({ row, r })))[0]
  if (example !== undefined) {
    const path = shown(example.r.path)
    const ffmpeg = report.ffmpeg.source === 'PATH' ? 'ffmpeg' : shown(report.ffmpeg.path)
    lines.push(`to watch ${example.row.name}'s recording of ${example.r.sender}:`)
    if (ffplayOnPath()) lines.push(`  ffplay ${path}`)
    lines.push(`  ${ffmpeg} -i ${path} -c copy ${example.row.name}-from-${example.r.sender}.webm    (then open the .webm in a browser or player)`)
  }
  lines.push(`events (JSON, one file per process): ${dir}/NAME-events.json; stderr logs: ${dir}/NAME.log`)
  lines.push(`  NAME: ${report.rows.map((r) => r.name).join(', ')}, eve-by-name, eve-forged, node`)
  lines.push(`node traffic capture: ${dir}/node-traffic.bin; epoch key log: ${dir}/keys.log; this report as JSON: ${dir}/report.json`)
  return lines.join('\n')
}

async function main (): Promise<number> {
  let values: { 'work-dir'?: string, 'phase-seconds'?: string, help?: boolean }
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: { 'work-dir': { type: 'string' }, 'phase-seconds': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }).values
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(USAGE)
    return 0
  }
  const phaseSeconds = values['phase-seconds'] === undefined ? undefined : Number(values['phase-seconds'])
  if (phaseSeconds !== undefined && !(phaseSeconds > 0 && phaseSeconds <= 600)) {
    process.stderr.write(`demo: --phase-seconds wants a number of seconds in (0, 600], got ${values['phase-seconds']}\n`)
    return 2
  }
  const ffmpeg = await findFfmpeg()
  if (ffmpeg === undefined) {
    process.stderr.write('demo: no ffmpeg to check the recordings with: none on PATH, and the npm package ' +
      `${FFMPEG_NPM_PACKAGE} gives no binary for ${process.platform}-${process.arch} (is node_modules installed? run \`npm ci\`; ` +
      'or install ffmpeg, e.g. `apt-get install -y ffmpeg`)\n')
    return 2
  }
  process.stdout.write(`- recordings are checked with ${describeTool(ffmpeg)}\n`)

  const workDir = values['work-dir'] === undefined ? join(REPO_ROOT, '.tmp', 'demo') : resolve(values['work-dir'])
  let report: ScenarioReport
  try {
    report = await runScenario({
      log: (l) => { process.stdout.write(`- ${l}\n`) },
      ffmpeg,
      phaseSeconds,
      workDir,
    })
  } catch (err) {
    // The scenario broke off (a process did not start, or exited early): say
    // what, and where its logs are; the error's text names the process.
    process.stderr.write(`demo: the scenario broke off: ${err instanceof Error ? err.message : String(err)}\n` +
      `demo: what each process printed is in ${shown(workDir)}/NAME.log and NAME-events.json\n`)
    return 1
  }
  for (const row of report.rows) process.stdout.write(table(row) + '\n')
  process.stdout.write('\neve (outsider):\n')
  for (const r of report.refusals) process.stdout.write(`  tried ${r.attempt}: refused ${r.code} (exit ${String(r.exitCode)}), decrypted 0 frames\n`)
  process.stdout.write(`\nnode ${report.node.peerId.slice(-10)} handled ${report.node.captureBytes} bytes of media\n\nchecks:\n`)
  for (const c of report.checks) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail === '' ? '' : ` (${c.detail})`}\n`)
  // The whole report, for scripts and tests that check the demo as a user runs it.
  await writeFile(join(report.workDir, 'report.json'), JSON.stringify(report, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v, 1))
  process.stdout.write(whereThingsAre(report) + '\n')
  process.stdout.write(`recordings checked with ${describeTool(report.ffmpeg)}\n`)
  const failed = report.checks.filter((c) => !c.ok).length
  process.stdout.write(`\n${report.checks.length - failed} passed, ${failed} failed\n`)
  return failed === 0 ? 0 : 1
}

process.exit(await main())
