/**
 * Shell helpers that ask a real ffmpeg (and, for keyframe flags, ffprobe)
 * whether media decodes. Used by tests and demos as the ground truth our own
 * parsers are checked against. Arguments go to execFile as an array: no
 * shell, so paths need no quoting.
 *
 * Which ffmpeg: the `ffmpeg` on PATH if it runs, else the static build
 * the npm package `@ffmpeg-installer/ffmpeg` ships (a dependency, so `npm ci`
 * is enough on a bare machine). That build has no ffprobe, so
 * {@link checkDecodes} needs ffmpeg alone; {@link probeKeyframes} still needs
 * ffprobe on PATH (Debian package: ffmpeg).
 */
import { execFile } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { delimiter, resolve } from 'node:path'

/** Outcome of {@link checkDecodes}. `frames` counts decoded pictures; `errors` is ffmpeg's stderr. */
export interface DecodeCheck {
  ok: boolean
  frames: number
  errors: string
}

interface RunResult { code: number, stdout: string, stderr: string }

// Enough for -show_frames or -f framecrc on many thousand frames; both are text.
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

/** An ffmpeg binary that ran (`ffmpeg -version` exited 0). */
export interface FfmpegTool {
  /** Absolute path of the binary. */
  path: string
  /** Its version as `ffmpeg -version` names it, e.g. "5.1.9-0+deb12u1" or "N-47683-g0e8eb07980-static". */
  version: string
  /** Where it was found: on PATH, or shipped by the npm package. */
  source: 'PATH' | 'npm'
}

/** Where {@link findFfmpeg} looks; the defaults are this process's PATH and `@ffmpeg-installer/ffmpeg`. */
export interface FfmpegLookup {
  /** A PATH value to search (default: process.env.PATH). */
  pathEnv?: string
  /** The npm package to ask for a binary, or false to skip it. */
  npmPackage?: string | false
}

/** The npm package whose platform package carries an ffmpeg binary. */
export const FFMPEG_NPM_PACKAGE = '@ffmpeg-installer/ffmpeg'

/** Thrown by {@link checkDecodes} when no ffmpeg runs: says where it looked and how to get one. */
export class FfmpegNotFoundError extends Error {
  constructor () {
    super(`no ffmpeg found: none on PATH, and the npm package ${FFMPEG_NPM_PACKAGE} gives no binary that runs on ${process.platform}-${process.arch} ` +
      '(run `npm ci` in the repository, or install ffmpeg, e.g. `apt-get install -y ffmpeg`)')
    this.name = 'FfmpegNotFoundError'
  }
}

async function version (path: string): Promise<string | undefined> {
  try {
    const res = await run(path, ['-hide_banner', '-version'])
    if (res.code !== 0) return undefined
    return /^ffmpeg version (\S+)/.exec(res.stdout)?.[1] ?? 'unknown'
  } catch {
    return undefined
  }
}

/** The first executable `name` in the directories of `pathEnv`, absolute. */
async function onPath (name: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue
    const candidate = resolve(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

async function lookup (opts: FfmpegLookup): Promise<FfmpegTool | undefined> {
  const fromPath = await onPath('ffmpeg', opts.pathEnv ?? process.env.PATH ?? '')
  if (fromPath !== undefined) {
    const v = await version(fromPath)
    if (v !== undefined) return { path: fromPath, version: v, source: 'PATH' }
  }
  const pkg = opts.npmPackage ?? FFMPEG_NPM_PACKAGE
  if (pkg === false) return undefined
  let shipped: string
  try {
    // The package throws (a string) on an unsupported platform or a missing binary.
    shipped = (createRequire(import.meta.url)(pkg) as { path: string }).path
  } catch {
    return undefined
  }
  const v = await version(shipped)
  return v === undefined ? undefined : { path: shipped, version: v, source: 'npm' }
}

let defaultTool: Promise<FfmpegTool | undefined> | undefined

/**
 * The ffmpeg the checks use: the first `ffmpeg` on PATH if it runs, else the
 * binary of the npm package `@ffmpeg-installer/ffmpeg`, else undefined. With
 * no options the answer is looked up once per process. Never throws.
 */
export async function findFfmpeg (opts?: FfmpegLookup): Promise<FfmpegTool | undefined> {
  if (opts !== undefined) return await lookup(opts)
  defaultTool ??= lookup({})
  return await defaultTool
}

/**
 * True when both `ffmpeg` and `ffprobe` run from PATH (Debian package:
 * ffmpeg), as {@link probeKeyframes} needs. Never throws.
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
 * Decodes every frame of video stream 0 of the file at `path` with
 * `ffmpeg -v error -i path -map 0:v:0 -f framecrc -` (one output line per
 * decoded picture, counted as `frames`). `ok` is true only if ffmpeg exits 0
 * and printed no error (libvpx reports corrupt frames on stderr but still
 * exits 0). Needs ffmpeg alone, no ffprobe.
 * @param tool the ffmpeg to run; default {@link findFfmpeg}'s.
 * @throws FfmpegNotFoundError when no ffmpeg runs; the spawn error when `tool` does not.
 */
export async function checkDecodes (path: string, tool?: FfmpegTool): Promise<DecodeCheck> {
  const ffmpeg = tool ?? await findFfmpeg()
  if (ffmpeg === undefined) throw new FfmpegNotFoundError()
  const decode = await run(ffmpeg.path, ['-nostdin', '-hide_banner', '-v', 'error', '-i', input(path), '-map', '0:v:0', '-f', 'framecrc', '-'])
  const frames = decode.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length
  const errors = decode.stderr.trim()
  return { ok: decode.code === 0 && errors === '', frames, errors }
}

/**
 * Per-frame keyframe flags of video stream 0 as ffprobe's decoder reports
 * them (`-show_frames`, field key_frame), in decode order; one entry per frame.
 * Needs `ffprobe` on PATH (the npm-shipped ffmpeg has none).
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
