/**
 * Bounded codecs of /fabric/directory/1 (protocol/directory.proto,
 * protocol/control.md "Directory"): one DirectoryRequest from the member, one
 * DirectoryResponse from the node, each one frame of at most
 * MAX_CONTROL_FRAME bytes.
 */
import { DirectoryRequest, DirectoryResponse } from './pb/directory.js'
import { validateIdentity } from './identity.js'
import { MAX_CONTROL_FRAME, MAX_KEY_PACKAGE, MAX_KEY_PACKAGES_PER_PUBLISH } from './limits.js'
import {
  checkBytes, checkCount, checkEncodedSize, checkOneBody, checkU32, checkVersion, checkWireError,
  decodeBounded, withVersion, type Unversioned
} from './message-codec.js'
import { MalformedError } from '../errors.js'
import { validateStreamName } from './stream-tag.js'

export { DirectoryRequest, DirectoryResponse }

const REQUEST_BODIES = ['publish', 'fetch', 'count', 'locate'] as const

/**
 * Encodes a DirectoryRequest (version 1 written for the caller). Exactly one
 * of publish, fetch, count, locate (an owner identity and a stream name); publish holds 0..64 KeyPackages of 1..64 KiB
 * and/or a last-resort one, at least one in all; identities as identity.ts.
 * @throws what decodeDirectoryRequest would throw for the result
 * @throws RangeError for two bodies or a version other than 1
 */
export function encodeDirectoryRequest (msg: Unversioned<DirectoryRequest>): Uint8Array {
  const full = withVersion<DirectoryRequest>('DirectoryRequest', msg)
  checkRequest(full)
  return checkEncodedSize('DirectoryRequest', DirectoryRequest.encode(full), MAX_CONTROL_FRAME)
}

/**
 * Decodes one DirectoryRequest frame. Bytes fields are views into `bytes`:
 * copy KeyPackages kept beyond the frame's life.
 * @throws TooLargeError when bytes exceed MAX_CONTROL_FRAME or a KeyPackage MAX_KEY_PACKAGE
 * @throws MalformedError when it does not parse, has no body, more than 64
 *   KeyPackages, an empty publish or KeyPackage, or a bad identity
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeDirectoryRequest (bytes: Uint8Array): DirectoryRequest {
  const msg = decodeBounded<DirectoryRequest>('DirectoryRequest', bytes, MAX_CONTROL_FRAME, DirectoryRequest.codec(), {
    publish: { keyPackages: MAX_KEY_PACKAGES_PER_PUBLISH }
  })
  checkVersion('DirectoryRequest', msg.version)
  checkRequest(msg)
  return msg
}

/**
 * Encodes a DirectoryResponse (version 1 written for the caller).
 * @throws what decodeDirectoryResponse would throw for the result
 * @throws RangeError for a version other than 1 or a count outside u32
 */
export function encodeDirectoryResponse (msg: Unversioned<DirectoryResponse>): Uint8Array {
  const full = withVersion<DirectoryResponse>('DirectoryResponse', msg)
  checkU32('DirectoryResponse.count', full.count)
  checkResponse(full)
  return checkEncodedSize('DirectoryResponse', DirectoryResponse.encode(full), MAX_CONTROL_FRAME)
}

/**
 * Decodes one DirectoryResponse frame; `keyPackage` is a view into `bytes`.
 * @throws TooLargeError when bytes exceed MAX_CONTROL_FRAME or the KeyPackage MAX_KEY_PACKAGE
 * @throws MalformedError when it does not parse or the error body is bad
 * @throws FabricError('UNSUPPORTED_VERSION') when version is not 1
 */
export function decodeDirectoryResponse (bytes: Uint8Array): DirectoryResponse {
  const msg = decodeBounded<DirectoryResponse>('DirectoryResponse', bytes, MAX_CONTROL_FRAME, DirectoryResponse.codec())
  checkVersion('DirectoryResponse', msg.version)
  checkResponse(msg)
  return msg
}

function checkRequest (msg: DirectoryRequest): void {
  checkOneBody('DirectoryRequest', msg, REQUEST_BODIES)
  if (msg.publish != null) {
    const { keyPackages, lastResort } = msg.publish
    checkCount('publish.key_packages', keyPackages, MAX_KEY_PACKAGES_PER_PUBLISH)
    for (const kp of keyPackages) checkBytes('publish.key_packages[]', kp, 1, MAX_KEY_PACKAGE)
    checkBytes('publish.last_resort', lastResort, 0, MAX_KEY_PACKAGE)
    if (keyPackages.length === 0 && lastResort.byteLength === 0) throw new MalformedError('publish carries no KeyPackage')
  } else if (msg.fetch != null) {
    validateIdentity(msg.fetch.identity)
  } else if (msg.count != null) {
    validateIdentity(msg.count.identity)
  } else if (msg.locate != null) {
    validateIdentity(msg.locate.owner)
    validateStreamName(msg.locate.stream)
  }
}

function checkResponse (msg: DirectoryResponse): void {
  if (msg.error != null) checkWireError('DirectoryResponse.error', msg.error)
  checkU32('DirectoryResponse.accepted', msg.accepted)
  checkBytes('DirectoryResponse.key_package', msg.keyPackage, 0, MAX_KEY_PACKAGE)
  if (msg.home !== '') validateIdentity(msg.home)
}
