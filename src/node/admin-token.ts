/**
 * The bearer token of a node's admin HTTP endpoint, and the file an operator
 * (or a scraper's config) reads it from. Kept in the data directory so it
 * survives restarts and scrapers keep working; an ephemeral node gets a
 * private temp directory of its own, removed when the node stops.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** File name of the token inside a data directory. */
export const ADMIN_TOKEN_FILE = 'admin-token'

/** What a generated token looks like: 32 random bytes, lowercase hex. */
const TOKEN_SHAPE = /^[0-9a-f]{64}$/

/** A token and where it was written. */
export interface AdminTokenFile {
  /** 64 lowercase hex characters. */
  readonly token: string
  /** Absolute path of the file holding `token` (mode 0600). */
  readonly file: string
}

/** A token in a temp directory of its own. */
export interface EphemeralAdminToken extends AdminTokenFile {
  /** Removes the temp directory and the file; idempotent, never throws for a missing one. */
  dispose: () => Promise<void>
}

/** 32 random bytes as 64 lowercase hex characters. */
export function generateAdminToken (): string {
  return randomBytes(32).toString('hex')
}

/**
 * Reads `<dataDir>/admin-token`, or creates it (mode 0600) with a fresh token.
 * A trailing newline in the file is tolerated, so `openssl rand -hex 32 > admin-token`
 * works for an operator who wants to set it.
 * @param dataDir an existing directory
 * @returns `{ token, file }`, `file` being `<dataDir>/admin-token`
 * @throws when the file exists but is not 64 lowercase hex characters (it is
 *   never overwritten: a scraper may hold its value), or on any I/O error
 *   other than the file being absent
 */
export async function loadOrCreateAdminToken (dataDir: string): Promise<AdminTokenFile> {
  const file = join(dataDir, ADMIN_TOKEN_FILE)
  const existing = await readToken(file)
  if (existing !== undefined) return { token: existing, file }
  const token = generateAdminToken()
  try {
    // 'wx': a file appearing between the read and this write is someone
    // else's token, which must win over ours.
    await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const raced = await readToken(file)
    if (raced === undefined) throw err
    return { token: raced, file }
  }
  return { token, file }
}

/**
 * Writes a fresh token to `admin-token` in a new private temp directory
 * (mkdtemp under os.tmpdir(), so mode 0700; the file is 0600).
 * @returns `{ token, file, dispose }`; call `dispose` when the node stops
 * @throws on any I/O error (the temp directory is removed first)
 */
export async function createEphemeralAdminToken (): Promise<EphemeralAdminToken> {
  const dir = await mkdtemp(join(tmpdir(), 'fabric-admin-'))
  const dispose = async (): Promise<void> => { await rm(dir, { recursive: true, force: true }) }
  const file = join(dir, ADMIN_TOKEN_FILE)
  const token = generateAdminToken()
  try {
    await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    await dispose()
    throw err
  }
  return { token, file, dispose }
}

/** The token in `file`, undefined when there is no such file. */
async function readToken (file: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const token = text.replace(/\r?\n$/, '')
  if (!TOKEN_SHAPE.test(token)) {
    throw new Error(`${file} does not hold an admin token (64 lowercase hex characters); delete it to have a new one made`)
  }
  return token
}
