/**
 * `fabric web --node URL [--listen HOST:PORT]`: serves the browser member
 * page from this machine, pointed at a node's web endpoint. The page holds
 * the member's keys, so whoever serves its code could take them; a member
 * who does not want to trust the node's operator with that runs the page
 * from here (or from the app's own origin) and uses the node only for
 * signalling and relaying, as it would any other node.
 */
import { FabricError } from '../errors.js'
import { parseHostPort } from '../node/config-checks.js'
import { serveSignal } from '../node/web-http.js'
import { buildWebApp } from '../web/bundle.js'

/** Default address of `fabric web`. */
export const DEFAULT_WEB_LISTEN = '127.0.0.1:8090'

/**
 * Starts the page server and prints its URL (with --json, one line
 * `{"event":"web","url":...}`); runs until SIGINT or SIGTERM.
 * @throws FabricError MALFORMED for a node that is not an http(s) URL or a bad listen address
 */
export async function runWebCommand (opts: { node: string, listen?: string, json: boolean }): Promise<void> {
  let node: URL
  try {
    node = new URL(opts.node)
  } catch (err) {
    throw new FabricError('MALFORMED', `--node ${opts.node} is not a URL; name the node's web endpoint, e.g. http://127.0.0.1:8080`, { cause: err })
  }
  if (node.protocol !== 'http:' && node.protocol !== 'https:') throw new FabricError('MALFORMED', `--node ${opts.node} is not an http(s) URL (the node's --web endpoint)`)
  const listen = parseHostPort(opts.listen ?? DEFAULT_WEB_LISTEN)
  if (typeof listen === 'string') throw new FabricError('MALFORMED', `--listen: ${listen}`)
  const assets = await buildWebApp()
  const server = await serveSignal(undefined, listen, async () => assets)
  const url = `${server.url}/?node=${encodeURIComponent(node.origin)}`
  process.stdout.write(opts.json ? JSON.stringify({ event: 'web', url, node: node.origin }) + '\n' : `the member page for ${node.origin}: ${url}\n(open it, paste an invitation and join; Ctrl-C stops)\n`)
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve() }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await server.close()
}
