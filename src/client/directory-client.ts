/**
 * Client side of the KeyPackage directory (/fabric/directory/1): one stream
 * per call, one DirectoryRequest frame out, one DirectoryResponse frame in.
 * A node's refusal comes back as a FabricError with the node's error code.
 */
import { FabricError, TooLargeError } from '../errors.js'
import type { ChannelDialer, FrameChannel } from '../transport/channel.js'
import { MAX_DIRECTORY_FRAME } from '../wire/limits.js'
import {
  DIRECTORY_PROTOCOL, decodeDirectoryResponse, encodeDirectoryRequest, toErrorCode, type Unversioned,
} from '../wire/messages.js'
import type { DirectoryRequest, DirectoryResponse } from '../wire/pb/directory.js'

/** Default bound of one directory call (dial, request, response), ms. */
export const DIRECTORY_CALL_TIMEOUT_MS = 10_000

/** Options of every directory call. */
export interface DirectoryCallOptions {
  /** Bound of the whole call, ms; default 10 000. FabricError TIMEOUT beyond. */
  timeoutMs?: number
  /** Cancels the call. */
  signal?: AbortSignal
}

/** A KeyPackage a directory handed out. */
export interface FetchedKeyPackage {
  /** MLSMessage(mls_key_package) bytes, as published (not verified here: the caller validates). */
  keyPackage: Uint8Array
  /** True when it is the identity's last-resort KeyPackage (the node keeps it). */
  lastResort: boolean
}

/** What a directory holds for an identity. */
export interface KeyPackageCount {
  /** One-use KeyPackages held. */
  count: number
  /** Whether a last-resort KeyPackage is held. */
  hasLastResort: boolean
}

/**
 * Publishes KeyPackages for this host's own identity. The node stores them
 * only if every one (and `lastResort`) names this host's peer id as its
 * credential identity, none is held already, and they fit the node's
 * quotas; otherwise it stores none (protocol/control.md section 2).
 *
 * @param node        opens channels to the directory's node (libp2pDialer in Node)
 * @param keyPackages 0..64 MLSMessage(mls_key_package), each 1..64 KiB; the
 *                    whole request at most MAX_DIRECTORY_FRAME (320 KiB)
 * @param lastResort  replaces the identity's last-resort KeyPackage
 * @param options.replace first drop every KeyPackage the node holds for this identity
 * @returns the number of one-use KeyPackages stored (keyPackages.length)
 * @throws FabricError with the node's code: IDENTITY_MISMATCH, MALFORMED
 *         (also: expired, or extensions above the node's bound),
 *         ALREADY_EXISTS (a KeyPackage the node already holds, or one given
 *         twice), QUOTA_EXCEEDED (the identity's count or byte quota, or the
 *         node's), UNSUPPORTED_SUITE, ...
 * @throws MalformedError / TooLargeError before sending when the request
 *         breaks the wire bounds or is above MAX_DIRECTORY_FRAME
 * @throws FabricError TIMEOUT past timeoutMs; UNREACHABLE when the node cannot be reached
 */
export async function publishKeyPackages (
  node: ChannelDialer,
  keyPackages: readonly Uint8Array[],
  lastResort?: Uint8Array,
  options: DirectoryCallOptions & { replace?: boolean } = {},
): Promise<number> {
  const publish = {
    keyPackages: keyPackages.map(toArrayBufferView),
    lastResort: toArrayBufferView(lastResort ?? new Uint8Array(0)),
    replace: options.replace === true,
  }
  const response = await call(node, { publish }, options)
  return response.accepted
}

/**
 * Fetches one KeyPackage of `identity`, consuming it on the node unless it is
 * the last-resort one. The node serves only requesters its fetch rule admits
 * (the reference node: the committer of a stream `identity` is waiting to
 * join). The bytes are not validated here: check them (e.g. with
 * validateKeyPackage, and that they name `identity`) before adding.
 *
 * @param identity libp2p peer id string of the member
 * @throws FabricError NOT_ADMITTED when this host may not fetch for identity
 *         (nothing is consumed); NO_KEY_PACKAGE when the node holds none
 *         (expired ones do not count); other codes and transport errors as
 *         publishKeyPackages
 */
export async function fetchKeyPackage (
  node: ChannelDialer,
  identity: string,
  options: DirectoryCallOptions = {},
): Promise<FetchedKeyPackage> {
  const response = await call(node, { fetch: { identity } }, options)
  if (response.keyPackage.byteLength === 0) throw new FabricError('MALFORMED', 'directory fetch response carries no KeyPackage')
  // A copy, not slice() (a view on a Buffer): the frame may be far larger than the KeyPackage.
  return { keyPackage: new Uint8Array(response.keyPackage), lastResort: response.lastResort }
}

/**
 * Counts what the node holds for `identity` (consumes nothing; expired
 * KeyPackages are not counted). Only this host's own identity may be counted.
 *
 * @throws FabricError NOT_ADMITTED when identity is not this host's peer id;
 *         others as publishKeyPackages
 */
export async function countKeyPackages (
  node: ChannelDialer,
  identity: string,
  options: DirectoryCallOptions = {},
): Promise<KeyPackageCount> {
  const response = await call(node, { count: { identity } }, options)
  return { count: response.count, hasLastResort: response.hasLastResort }
}

/**
 * Asks the node which node of its fabric is the home of stream
 * `owner`/`stream` (where its group service and directory run).
 * @returns the home's peer id: the node's own when it is the home
 * @throws FabricError NOT_FOUND when no node of the fabric is known to be;
 *         MALFORMED for a bad owner or name; others as publishKeyPackages
 */
export async function locateStream (
  node: ChannelDialer,
  owner: string,
  stream: string,
  options: DirectoryCallOptions = {},
): Promise<string> {
  const response = await call(node, { locate: { owner, stream } }, options)
  if (response.home === '') throw new FabricError('MALFORMED', 'the node located the stream but named no home')
  return response.home
}

async function call (
  node: ChannelDialer,
  request: Unversioned<DirectoryRequest>,
  options: DirectoryCallOptions,
): Promise<DirectoryResponse> {
  // Encode before dialling, so a request the wire refuses costs no connection.
  const frame = encodeDirectoryRequest(request)
  // The node reads directory frames up to MAX_DIRECTORY_FRAME only; a larger
  // one would cost a stream and come back TOO_LARGE.
  if (frame.byteLength > MAX_DIRECTORY_FRAME) throw new TooLargeError('DirectoryRequest', frame.byteLength, MAX_DIRECTORY_FRAME)
  const timeoutMs = options.timeoutMs ?? DIRECTORY_CALL_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
  let framed: FrameChannel
  try {
    // A response carries at most one KeyPackage (64 KiB); the same bound as requests.
    framed = await node.open(DIRECTORY_PROTOCOL, { maxFrameLength: MAX_DIRECTORY_FRAME }, signal)
  } catch (err) {
    if (timeout.aborted) throw new FabricError('TIMEOUT', `directory dial took over ${timeoutMs} ms`, { cause: err })
    throw err
  }
  // The signal bounds the whole call: aborting the channel ends the read below.
  const onAbort = (): void => { framed.abort(new FabricError('TIMEOUT', 'directory call aborted')) }
  signal.addEventListener('abort', onAbort, { once: true })
  let response: DirectoryResponse
  try {
    await framed.send(frame)
    // Half-close: the node reads exactly one request, and learns at once that no more comes.
    await framed.close()
    response = decodeDirectoryResponse(await framed.next())
  } catch (err) {
    framed.abort(err instanceof Error ? err : new Error(String(err)))
    // Whatever the aborted read ended with (a reset, an ended stream), the cause is the deadline.
    if (timeout.aborted && !(err instanceof FabricError && err.code === 'TIMEOUT')) throw new FabricError('TIMEOUT', `directory call took over ${timeoutMs} ms`, { cause: err })
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  // The node closes its side after its one response, so the stream ends without a reset.
  if (response.error !== undefined) {
    throw new FabricError(toErrorCode(response.error.code), `directory refused: ${response.error.code}: ${response.error.message}`)
  }
  return response
}

function toArrayBufferView (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? bytes as Uint8Array<ArrayBuffer> : new Uint8Array(bytes)
}
