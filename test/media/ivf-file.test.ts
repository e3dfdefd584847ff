// Writes IVF files to disk and has the real ffmpeg decode them (CI installs
// the Debian package `ffmpeg`; a missing binary fails the suite).
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClipSource } from '../../src/media/clip-source.js'
import { checkDecodes, ffmpegAvailable, probeKeyframes } from '../../src/media/ffmpeg-check.js'
import { IvfFileWriter, readIvfFile } from '../../src/media/ivf-file.js'
import { parseIvf, parseIvfHeader, type IvfFile } from '../../src/media/ivf.js'
import { fixturePath } from './helpers.js'

let dir: string
let alice: IvfFile

beforeAll(async () => {
  if (!(await ffmpegAvailable())) {
    throw new Error('ffmpeg/ffprobe not found on PATH: install with `apt-get install -y ffmpeg`')
  }
  dir = await mkdtemp(join(tmpdir(), 'fabric-media-'))
  alice = await readIvfFile(fixturePath('alice'))
})

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

async function writeFrames (name: string, frames: Uint8Array[]): Promise<string> {
  const path = join(dir, name)
  const w = await IvfFileWriter.open(path, alice.header)
  for (const [i, data] of frames.entries()) await w.write({ pts: i, data })
  expect(w.framesWritten).toBe(frames.length)
  await w.close()
  return path
}

describe('IvfFileWriter', () => {
  it('writes a provisional header, then close() patches the frame count', async () => {
    const path = join(dir, 'count.ivf')
    const w = await IvfFileWriter.open(path, { ...alice.header, frameCount: 0 })
    await w.write(alice.frames[0]!)
    await w.write(alice.frames[1]!)
    expect(parseIvfHeader(new Uint8Array(await readFile(path))).frameCount).toBe(0)
    await w.close()
    const back = parseIvf(new Uint8Array(await readFile(path)))
    expect(back.header.frameCount).toBe(2)
    expect(back.frames.map(f => f.data)).toEqual([alice.frames[0]!.data, alice.frames[1]!.data])
  })

  it('a subset starting at a keyframe decodes cleanly', async () => {
    const path = await writeFrames('from-30.ivf', alice.frames.slice(30, 90).map(f => f.data))
    expect(await checkDecodes(path)).toEqual({ ok: true, frames: 60, errors: '' })
    expect((await probeKeyframes(path)).flatMap((k, i) => (k ? [i] : []))).toEqual([0, 30])
  })

  it('checkDecodes reports a stream that starts on a delta frame', async () => {
    const path = await writeFrames('from-5.ivf', alice.frames.slice(5, 40).map(f => f.data))
    const res = await checkDecodes(path)
    expect(res.ok).toBe(false)
    expect(res.errors).not.toBe('')
  })

  it('a looping ClipSource with keyframe requests stays decodable', async () => {
    const src = ClipSource.fromIvf(alice, { loop: true })
    const sent: Uint8Array[] = []
    let skipped = 0
    for (let tick = 0; tick < 200; tick++) {
      // Epoch changes land at arbitrary points; each forces a keyframe jump.
      if (tick === 17 || tick === 80 || tick === 150) skipped += src.requestKeyframe().skipped
      sent.push(src.next()!.data)
    }
    expect(skipped).toBeGreaterThan(0)
    const path = await writeFrames('looped.ivf', sent)
    expect(await checkDecodes(path)).toEqual({ ok: true, frames: 200, errors: '' })
  })
})
