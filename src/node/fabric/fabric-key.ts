/**
 * The fabric key file (`fabric-node start --fabric-key FILE`): 32 secret
 * bytes every node of one fabric holds (protocol/fabric.md section 2.1).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { FABRIC_KEY_BYTES } from '../../fabric/node-auth.js'
import { ConfigError } from '../config-checks.js'

/**
 * The key a fabric key file holds: exactly 32 raw bytes, or 64 hex digits
 * (an optional trailing newline allowed, so `openssl rand -hex 32 > FILE` works).
 * @returns the key, or the problem as text
 */
export function parseFabricKey (bytes: Uint8Array): Uint8Array | string {
  if (bytes.byteLength === FABRIC_KEY_BYTES) return Uint8Array.from(bytes)
  const text = new TextDecoder().decode(bytes).replace(/\r?\n$/, '')
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'))
  return `holds ${bytes.byteLength} bytes; a fabric key is ${FABRIC_KEY_BYTES} raw bytes or 64 hex digits`
}

/**
 * Reads the fabric key at `path`, creating the file (and its directory) with
 * 32 random bytes, mode 0600, when it does not exist. A key other users can
 * read is refused, as ssh refuses a private key: anyone holding it joins the fabric.
 * @param field the option the path came from, for the ConfigError
 * @throws ConfigError naming `field` when the file cannot be read or created,
 *   is not a key, or is readable by group or others
 */
export async function loadOrCreateFabricKey (path: string, field = 'NodeConfig.fabricKey'): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(field, `${path} cannot be read (${(err as Error).message})`)
    return await createKey(path, field)
  }
  const mode = (await stat(path)).mode
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ConfigError(field, `${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`)
  }
  const key = parseFabricKey(bytes)
  if (typeof key === 'string') throw new ConfigError(field, `${path} ${key}`)
  return key
}

async function createKey (path: string, field: string): Promise<Uint8Array> {
  const key = Uint8Array.from(randomBytes(FABRIC_KEY_BYTES))
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    // 'wx': two nodes started together on one path must not each write their own key.
    const file = await open(path, 'wx', 0o600)
    try {
      await file.writeFile(key)
    } finally {
      await file.close()
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return await loadOrCreateFabricKey(path, field)
    throw new ConfigError(field, `${path} cannot be created (${(err as Error).message})`)
  }
  return key
}
