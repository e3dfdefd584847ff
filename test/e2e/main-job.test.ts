/**
 * The main job end to end, run as a user runs it: `npm run demo`'s script
 * (src/cli/demo.ts, the scenario of src/cli/scenario.ts) as its own process,
 * with separate OS processes over libp2p TCP on 127.0.0.1: three members see
 * each other's real VP8 video through a node that holds no key, an outsider
 * is refused, a fourth joins mid-stream on an invitation, one is removed.
 * PATH holds node and nothing else, so no ffmpeg is on it: the recordings are
 * checked with the one the npm registry ships, as on a bare machine. Each
 * scenario check becomes one assertion here.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../src/cli/processes.js'
import type { ScenarioReport } from '../../src/cli/scenario.js'

interface DemoRun { code: number | null, stdout: string, stderr: string }

/** Runs the demo with `PATH` as given; killed (with its process group) after `timeoutMs`. */
async function runDemo (workDir: string, path: string, timeoutMs: number): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/demo.ts'), '--work-dir', workDir, '--phase-seconds', '3'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: path, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const code = await new Promise<number | null>((resolve) => { child.once('exit', (c) => { resolve(c) }) })
  clearTimeout(timer)
  return { code, stdout, stderr }
}

describe('main job: encrypted group video through a relay node', () => {
  let report: ScenarioReport
  let run: DemoRun
  let bin: string
  beforeAll(async () => {
    // A PATH with node alone: whatever ffmpeg this machine has is out of reach.
    bin = await mkdtemp(join(tmpdir(), 'fabric-bare-path-'))
    await symlink(process.execPath, join(bin, 'node'))
    const workDir = join(REPO_ROOT, '.tmp', 'e2e-main')
    run = await runDemo(workDir, bin, 170_000)
    expect(run.code, `demo exited ${String(run.code)}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`).toBe(0)
    report = JSON.parse(await readFile(join(workDir, 'report.json'), 'utf8')) as ScenarioReport
  }, 180_000)
  afterAll(async () => { await rm(bin, { recursive: true, force: true }) })

  it('runs without ffmpeg on PATH, checking recordings with the npm-shipped ffmpeg, and says where they are and how to play one', () => {
    expect(report.ffmpeg.source).toBe('npm')
    expect(run.stdout).toContain('shipped by the npm package @ffmpeg-installer/ffmpeg; none on PATH')
    expect(run.stdout).toMatch(/recordings \(VP8 in IVF, one per member and sender\), in \S+rec\/MEMBER\//)
    expect(run.stdout).toMatch(/to watch alice's recording of (bob|carol|dave):\n {2}\S*ffmpeg -i \S+\.ivf -c copy \S+\.webm/)
    expect(run.stdout).toMatch(new RegExp(`\\n${report.checks.length} passed, 0 failed\\n$`))
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  const check = (pattern: RegExp): void => {
    const matching = report.checks.filter((c) => pattern.test(c.name))
    expect(matching.length, `no check matches ${pattern}`).toBeGreaterThan(0)
    for (const c of matching) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true)
  }

  it('every member decrypts every other member it overlapped with', () => { check(/ decrypts (alice|bob|carol|dave)$/) })
  it('after each receiver\'s first keyframe every sent frame arrives byte-identical', () => { check(/got every frame .* sent, byte-identical/) })
  it('no member has a decrypt failure', () => { check(/has no decrypt failures/) })
  it('each recording decodes with ffmpeg', () => { check(/recording of .* decodes/) })
  it('the late joiner decrypts from a keyframe and nothing from before its Welcome', () => {
    check(/dave decrypts nothing from before his Welcome/)
    check(/dave sees every sender from a keyframe/)
  })
  it('the removed member decrypts no later epoch, the node stops forwarding to it, the others continue', () => {
    check(/carol decrypts no frame of a later epoch/)
    check(/the node stops forwarding to carol/)
    check(/continues after the removal/)
  })
  it('the outsider is refused by name and with a forged invitation, and decrypts nothing', () => {
    check(/eve is refused by name/)
    check(/eve is refused with an invitation she signed herself/)
    check(/eve decrypts nothing/)
  })
  it('the members that stayed share one safety code', () => { check(/same safety code/) })
  it('the node never sees a plaintext frame or key material', () => {
    check(/never saw a plaintext frame/)
    check(/never saw key material/)
  })
})
