/**
 * The main job end to end, in separate OS processes over libp2p TCP on
 * 127.0.0.1 (src/cli/scenario.ts): three members see each other's real VP8
 * video through a node that holds no key, an outsider is refused, a fourth
 * joins mid-stream on an invitation, one is removed. Each scenario check
 * becomes one assertion here.
 */
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../src/cli/processes.js'
import { runScenario, type ScenarioReport } from '../../src/cli/scenario.js'

describe('main job: encrypted group video through a relay node', () => {
  let report: ScenarioReport
  beforeAll(async () => {
    report = await runScenario({ workDir: join(REPO_ROOT, '.tmp', 'e2e-main'), phaseSeconds: 3 })
  }, 180_000)

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
