/**
 * A member's identity on disk, for the `fabric` tool: the Ed25519 key in
 * libp2p's protobuf encoding (as a node's peer-key), file mode 0600. The
 * same file gives the same peer id on every run, so an owner can create a
 * stream, sign invitations and be named in allow lists across processes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { FabricError } from '../errors.js'
import { generateIdentity, identityFromPrivateKey, privateKeyOfIdentity, type MemberIdentity } from '../session/identity.js'

/**
 * Reads the identity in `path`, creating the file with a fresh identity
 * when it does not exist.
 *
 * @returns the identity and whether the file was created now
 * @throws FabricError MALFORMED when the file is not a libp2p Ed25519 key;
 *         the file system's errors otherwise
 */
export async function loadOrCreateIdentity (path: string): Promise<{ identity: MemberIdentity, created: boolean }> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const identity = await generateIdentity()
    await mkdir(dirname(path), { recursive: true })
    // 'wx': two processes creating the same file never both think they made it.
    await writeFile(path, privateKeyToProtobuf(privateKeyOfIdentity(identity)), { mode: 0o600, flag: 'wx' })
    return { identity, created: true }
  }
  try {
    return { identity: identityFromPrivateKey(privateKeyFromProtobuf(bytes)), created: false }
  } catch (err) {
    throw new FabricError('MALFORMED', `${path} is not a fabric identity file (a libp2p Ed25519 private key): ${(err as Error).message}`, { cause: err })
  }
}
