// Checks the committed clips against the real ffmpeg. CI installs ffmpeg
// (Debian package `ffmpeg`), so a missing binary is a failure, not a skip.
import { statSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { checkDecodes, ffmpegAvailable, probeKeyframes } from '../../src/media/ffmpeg-check.js'
import { parseIvf } from '../../src/media/ivf.js'
import { vp8FrameInfo } from '../../src/media/vp8.js'
import { MEMBERS, fixtureBytes, fixturePath } from './helpers.js'

const keyIndices = (flags: boolean[]): number[] => flags.flatMap((k, i) => (k ? [i] : []))

describe('media fixtures', () => {
  beforeAll(async () => {
    if (!(await ffmpegAvailable())) {
      throw new Error('ffmpeg/ffprobe not found on PATH: install with `apt-get install -y ffmpeg`')
    }
  })

  it('ffmpeg and ffprobe are installed', async () => {
    expect(await ffmpegAvailable()).toBe(true)
  })

  describe.each(MEMBERS)('%s.ivf', (name) => {
    const path = fixturePath(name)
    const file = parseIvf(fixtureBytes(name))
    const infos = file.frames.map(f => vp8FrameInfo(f.data))

    it('is under 1 MB with 120 frames of 640x360 VP8', () => {
      expect(statSync(path).size).toBeLessThan(1_000_000)
      expect(file.frames).toHaveLength(120)
      expect(file.header.fourcc).toBe('VP80')
      for (const info of infos.filter(i => i.keyframe)) {
        expect([info.width, info.height]).toEqual([file.header.width, file.header.height])
      }
    })

    it('has keyframes at frames 0, 30, 60, 90 only, and every frame is shown', () => {
      expect(keyIndices(infos.map(i => i.keyframe))).toEqual([0, 30, 60, 90])
      expect(infos.every(i => i.showFrame)).toBe(true)
    })

    it('keyframe flags match ffprobe', async () => {
      const probed = await probeKeyframes(path)
      expect(probed).toEqual(infos.map(i => i.keyframe))
    })

    it('decodes cleanly with ffmpeg', async () => {
      expect(await checkDecodes(path)).toEqual({ ok: true, frames: 120, errors: '' })
    })
  })

  it('the four clips are distinct', () => {
    const firstKeyframes = MEMBERS.map(n => Buffer.from(parseIvf(fixtureBytes(n)).frames[0]!.data).toString('base64'))
    expect(new Set(firstKeyframes).size).toBe(MEMBERS.length)
  })
})
