/**
 * The node's public web endpoint (`--web HOST:PORT`): WebRTC signalling for
 * members (POST /api/v1/webrtc/offer, protocol/webrtc.md section 2) and,
 * when the page is enabled, the browser member page (GET / and
 * GET /app.js). Unlike the admin endpoint it needs no token: everything it
 * does, a member could do over libp2p, and the binding handshake, not this
 * endpoint, says who a member is.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FabricError, isFabricError } from '../errors.js'
import { MAX_SDP_BYTES } from '../transport/webrtc/sdp.js'
import { refusalBody, SIGNAL_CONTENT_TYPE, SIGNAL_PATH, SIGNAL_STATUS } from '../transport/webrtc/signal.js'
import type { WebRtcListener } from '../transport/webrtc/listener.js'

/** The page's files (src/web/bundle.ts builds them). */
export interface WebPage {
  html: string
  js: string
}

/** A running web endpoint. */
export interface WebServer {
  /** `http://host:port`, with the bound port. */
  url: string
  close: () => Promise<void>
}

/** How long a request may take to send its body, ms. */
const BODY_TIMEOUT_MS = 5_000

/** Reads a body of at most `limit` bytes. @throws TooLarge / TIMEOUT FabricErrors */
async function readBody (req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? '0')
  if (declared > limit) throw new FabricError('TOO_LARGE', `an offer is at most ${limit} bytes, this one declares ${declared}`)
  const chunks: Buffer[] = []
  let size = 0
  const timer = setTimeout(() => { req.destroy(new FabricError('TIMEOUT', 'the offer did not arrive in time')) }, BODY_TIMEOUT_MS)
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).byteLength
      if (size > limit) throw new FabricError('TOO_LARGE', `an offer is at most ${limit} bytes`)
      chunks.push(chunk as Buffer)
    }
  } finally {
    clearTimeout(timer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Signalling answers any origin (CORS): a member page served by `fabric web`
 * or by an app, rather than by this node, must reach it. Nothing here rides
 * on cookies or ambient authority, so no origin gains anything it could not
 * get by POSTing itself; the binding handshake says who a member is.
 */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
}

function send (res: ServerResponse, status: number, type: string, body: string, cors = false): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...(cors ? CORS : {}) })
  res.end(body)
}

async function onOffer (listener: WebRtcListener, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (!(req.headers['content-type'] ?? '').startsWith(SIGNAL_CONTENT_TYPE)) throw new FabricError('MALFORMED', `an offer is sent as ${SIGNAL_CONTENT_TYPE}`)
    const offer = await readBody(req, MAX_SDP_BYTES)
    const answer = await listener.answer(offer, req.socket.remoteAddress ?? '')
    send(res, 201, SIGNAL_CONTENT_TYPE, answer, true)
  } catch (err) {
    const e = isFabricError(err) ? err : new FabricError('INTERNAL', 'the offer failed')
    send(res, SIGNAL_STATUS[e.code] ?? 500, 'application/json', refusalBody(e), true)
  }
}

/**
 * Starts the web endpoint.
 * @param listener answers the offers; undefined for a page-only server (`fabric web`)
 * @param listen where to listen (port 0: any free port)
 * @param page the member page to serve at / and /app.js; absent: signalling only
 * @throws when the address cannot be bound
 */
export async function serveSignal (listener: WebRtcListener | undefined, listen: { host: string, port: number }, page?: () => Promise<WebPage>): Promise<WebServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === SIGNAL_PATH && listener !== undefined) {
      if (req.method === 'POST') { void onOffer(listener, req, res); return }
      if (req.method === 'OPTIONS') { res.writeHead(204, CORS); res.end(); return }
    }
    if (req.method === 'GET' && page !== undefined && (path === '/' || path === '/app.js')) {
      page().then((p) => {
        if (path === '/') send(res, 200, 'text/html; charset=utf-8', p.html)
        else send(res, 200, 'text/javascript; charset=utf-8', p.js)
      }, () => { send(res, 500, 'text/plain', 'the page failed to build\n') })
      return
    }
    send(res, 404, 'text/plain', 'not found\n')
  })
  server.headersTimeout = BODY_TIMEOUT_MS
  server.requestTimeout = 2 * BODY_TIMEOUT_MS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port, listen.host, () => { server.off('error', reject); resolve() })
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${host}:${addr.port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    },
  }
}
