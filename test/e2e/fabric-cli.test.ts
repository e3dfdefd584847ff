/**
 * The `fabric` tool as a person at a terminal uses it: without --json it
 * prints readable events and one progress line a second, never frame
 * hashes; a clip it cannot play, or an option it does not know, is one line
 * that says what to do, exit 2, before anything connects. Real processes
 * against a real `fabric-node` on 127.0.0.1; every one stopped in `finally`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, spawnTs, startNodeProcess, type NodeProc, type Proc } from '../../src/cli/processes.js'

const CLIP = join(REPO_ROOT, 'fixtures/media/alice.ivf')

/** Runs `fabric ARGS` to its exit (bounded), returning what it printed. */
async function fabric (args: string[], timeoutMs = 30_000): Promise<{ code: number | null, stdout: string, stderr: string, proc: Proc }> {
  const proc = spawnTs('fabric', 'src/cli/fabric.ts', args)
  const timer = setTimeout(() => { proc.child.kill('SIGKILL') }, timeoutMs)
  try {
    const code = await proc.exited
    return { code, stdout: proc.stdoutText, stderr: proc.stderr, proc }
  } finally {
    clearTimeout(timer)
  }
}

describe('fabric tool output and errors', () => {
  let dir: string
  let node: NodeProc
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabric-cli-'))
    node = await startNodeProcess()
  })
  afterAll(async () => {
    await node?.proc.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('without --json: readable events, a progress line a second, a summary, and no frame hashes', async () => {
    const run = await fabric(['join', '--node', node.addr, '--stream', 'progress', '--create', '--identity', join(dir, 'alice.id'),
      '--publish', CLIP, '--loop', '--duration', '3.5'])
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^created stream "progress" of owner \w{6} \(you\) at epoch 0, in \d+ ms$/)
    expect(run.stdout).toMatch(/safety code [\d ]{35}: compare it with the others out of band/)
    const progress = lines.filter((l) => l.startsWith('epoch 0 | sent '))
    expect(progress.length, run.stdout).toBeGreaterThanOrEqual(2)
    for (const l of progress) expect(l).toMatch(/^epoch 0 \| sent \d+( \(\d+ fps\))? \| decrypted nothing yet$/)
    expect(progress.at(-1)).toMatch(/\(\d+ fps\)/)
    expect(run.stdout).toMatch(/done \(the --duration ran out\): sent \d+ frames, last epoch 0/)
    // A 16-hex-digit frame hash or anything longer is the --json summary's, not this one's.
    expect(run.stdout).not.toMatch(/\b[0-9a-f]{16,}\b/)
    expect(lines.length).toBeLessThan(20)
  })

  it('--publish of a file that is not a VP8 IVF clip: what it is and the ffmpeg command, exit 2, nothing connects', async () => {
    const mp4 = join(dir, 'holiday.mp4')
    await writeFile(mp4, Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.alloc(64)]))
    const common = ['join', '--node', node.addr, '--stream', 'x', '--owner', node.peerId]
    // The first test's member connected and the node logged it: the count is live.
    const before = await nodeConnections(node)
    expect(before).toBeGreaterThan(0)

    const notIvf = await fabric([...common, '--publish', mp4])
    expect(notIvf.code).toBe(2)
    expect(notIvf.stderr).toBe(`fabric: --publish ${mp4} is not an IVF (VP8) clip but an MP4/MOV file; convert it with: ffmpeg -i ${mp4} -c:v libvpx -b:v 1M -an ${join(dir, 'holiday.ivf')}\n`)

    const missing = await fabric([...common, '--publish', join(dir, 'nope.ivf')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe(`fabric: --publish ${join(dir, 'nope.ivf')}: no such file\n`)

    const h264 = join(dir, 'h264.ivf')
    const header = Buffer.alloc(32)
    header.write('DKIF', 0)
    header.writeUInt16LE(0, 4)
    header.writeUInt16LE(32, 6)
    header.write('H264', 8)
    header.writeUInt16LE(64, 12)
    header.writeUInt16LE(48, 14)
    header.writeUInt32LE(30, 16)
    header.writeUInt32LE(1, 20)
    await writeFile(h264, header)
    const otherCodec = await fabric([...common, '--publish', h264, '--json'])
    expect(otherCodec.code).toBe(2)
    const event = JSON.parse(otherCodec.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
    expect(event).toMatchObject({ event: 'error', code: 'MALFORMED', problem: 'not-vp8' })
    expect(String(event.message)).toContain(`not VP8 ("VP80"); convert it with: ffmpeg -i ${h264} -c:v libvpx`)

    for (const r of [notIvf, missing, otherCodec]) expect(r.stderr).not.toMatch(/\n\s+at /)
    // None of them dialled the node.
    expect(await nodeConnections(node)).toBe(before)
  })

  it('an unknown option is one line pointing at --help, exit 2', async () => {
    const run = await fabric(['join', '--node', node.addr, '--strem', 'x'])
    expect(run.code).toBe(2)
    expect(run.stderr).toBe("fabric: Unknown option '--strem'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--strem\"; see fabric --help\n")
  })
})

/** Connections the node has seen open so far, from its log (stderr, JSON lines). */
async function nodeConnections (node: NodeProc): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 200))
  return node.proc.stderr.split('\n').filter((l) => l.includes('"event":"connection.open"')).length
}
