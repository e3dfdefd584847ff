/**
 * Shell helpers that ask the real ffmpeg/ffprobe whether media decodes. Used
 * by tests and demos as the ground truth our own parsers are checked against.
 * Arguments go to execFile as an array: no shell, so paths need no quoting.
 */
import { execFile } from 'node:child_process'

/** Outcome of {@link checkDecodes}. `frames` counts decoded pictures; `errors` is ffmpeg's stderr. */
export interface DecodeCheck {
  ok: boolean
  frames: number
  errors: string
}

interface RunResult { code: number, stdout: string, stderr: string }

// Enough for -show_frames on a few thousand frames; ffprobe output is text.
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024

function run (cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(err) // spawn failure (ENOENT) or maxBuffer: no exit status to report
        return
      }
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr })
    })
  })
}

// "file:" stops ffmpeg reading a path such as "-x" as an option or
// "concat:a|b" / "http://…" as another protocol.
function input (path: string): string {
  return `file:${path}`
}

/**
 * True when both `ffmpeg` and `ffprobe` run from PATH (Debian package: ffmpeg).
 * Never throws.
 */
export async function ffmpegAvailable (): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([run('ffmpeg', ['-version']), run('ffprobe', ['-version'])])
    return a.code === 0 && b.code === 0
  } catch {
    return false
  }
}

/**
 * Decodes the whole file at `path` with `ffmpeg -v error -i path -f null -`
 * and counts the frames of video stream 0 with `ffprobe -count_frames`.
 * `ok` is true only if both exit 0 and ffmpeg printed no error (libvpx reports
 * corrupt frames on stderr but still exits 0).
 * @throws the spawn error (code ENOENT) when ffmpeg or ffprobe is not installed.
 */
export async function checkDecodes (path: string): Promise<DecodeCheck> {
  const decode = await run('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-i', input(path), '-f', 'null', '-'])
  const probe = await run('ffprobe', [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', input(path),
  ])
  const frames = Number.parseInt(probe.stdout.trim(), 10)
  const errors = (decode.stderr + probe.stderr).trim()
  return {
    ok: decode.code === 0 && probe.code === 0 && errors === '' && Number.isInteger(frames),
    frames: Number.isInteger(frames) ? frames : 0,
    errors,
  }
}

/**
 * Per-frame keyframe flags of video stream 0 as ffprobe's decoder reports
 * them (`-show_frames`, field key_frame), in decode order; one entry per frame.
 * @throws Error with ffprobe's stderr when ffprobe exits non-zero; the spawn
 *   error (ENOENT) when ffprobe is not installed.
 */
export async function probeKeyframes (path: string): Promise<boolean[]> {
  const res = await run('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame', '-of', 'csv=p=0', input(path),
  ])
  if (res.code !== 0) throw new Error(`ffprobe failed on ${path}: ${res.stderr.trim()}`)
  return res.stdout.split('\n').map(l => l.trim()).filter(l => l !== '').map(l => l.startsWith('1'))
}
