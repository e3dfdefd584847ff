/**
 * Log lines for a node's libp2p connections (component "host"): one when a
 * connection opens, one when it closes, with the peer, its address and
 * direction, and how the connection ended (the error's name, e.g.
 * TimeoutError for a missed liveness ping). Connections are rare next to
 * chunks, so a line each costs nothing on the media path.
 */
import type { Libp2p, StreamCloseEvent } from '@libp2p/interface'
import { short, type Logger } from './log.js'

/** Logs every connection of `libp2p` from now on. */
export function logConnections (libp2p: Libp2p, log: Logger): void {
  if (!log.isLevelEnabled('info')) return
  libp2p.addEventListener('connection:open', (evt) => {
    const conn = evt.detail
    const peer = short(conn.remotePeer.toString())
    const remote = conn.remoteAddr.toString()
    const opened = Date.now()
    log.info({ event: 'connection.open', peer, remote, direction: conn.direction }, 'connection open')
    conn.addEventListener('close', (e) => {
      const error = (e as StreamCloseEvent).error
      const fields = { event: 'connection.closed', peer, remote, ms: Date.now() - opened }
      if (error === undefined) log.info(fields, 'connection closed')
      else log.info({ ...fields, error: error.name === '' ? 'Error' : error.name, reason: error.message.slice(0, 200) }, 'connection ended in error')
    }, { once: true })
  })
}
