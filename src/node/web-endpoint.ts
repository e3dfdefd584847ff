/**
 * The node's web endpoint (NodeConfig.web): members reach the node over
 * WebRTC through it (src/transport/webrtc/, protocol/webrtc.md), and, unless
 * turned off, it serves the browser member page (src/web/). The node's
 * libp2p key proves the node in the binding handshake, so a member sees the
 * same peer id over either transport.
 */
import type { PrivateKey } from '@libp2p/interface'
import { identityFromPrivateKey } from '../session/identity.js'
import { weriftAnsweringPeer } from '../platform/node/werift-peer.js'
import { WebRtcListener, type WebRtcListenerStats } from '../transport/webrtc/listener.js'
import type { Logger } from './log.js'
import { serveSignal, type WebPage, type WebServer } from './web-http.js'

/** NodeConfig.web: where the endpoint listens and what it offers. */
export interface WebConfig {
  /** HTTP listen address; port 0 picks a free one. */
  host: string
  port: number
  /**
   * IP addresses offered to members as ICE host candidates (UDP); default
   * `[host]`, which must then be a concrete address (not 0.0.0.0 or ::).
   */
  iceHosts?: string[]
  /** UDP ports for ICE, [min, max]; default any. */
  icePortRange?: [number, number]
  /** Serve the browser member page at / ; default true. */
  page?: boolean
  /** WebRTC connections at once; default DEFAULT_MAX_WEBRTC_CONNECTIONS. */
  maxConnections?: number
  /** WebRTC connections from one address at once; default DEFAULT_MAX_WEBRTC_CONNECTIONS_PER_ADDRESS. */
  maxConnectionsPerAddress?: number
}

/** The ICE host candidates of a web config. @returns undefined when none can be derived (a wildcard host and no iceHosts) */
export function iceHostsOf (web: WebConfig): string[] | undefined {
  if (web.iceHosts !== undefined && web.iceHosts.length > 0) return web.iceHosts
  if (web.host === '0.0.0.0' || web.host === '::' || web.host === '') return undefined
  return [web.host]
}

/** A started web endpoint. */
export interface WebEndpoint {
  readonly listener: WebRtcListener
  /** `http://host:port` once started. */
  readonly url: string
  stats: () => WebRtcListenerStats
  stop: () => Promise<void>
}

/**
 * The WebRTC listener of the node (give it to the services before they
 * start) and a `start` that binds the HTTP endpoint.
 * @param iceHosts from iceHostsOf (checked by the config checks)
 * @param livenessTimeoutMs the node's liveness cut (NodeConfig.livenessTimeoutMs), for WebRTC members too
 */
export function webEndpoint (web: WebConfig, nodeKey: PrivateKey, iceHosts: string[], livenessTimeoutMs: number, log: Logger): { listener: WebRtcListener, start: () => Promise<WebEndpoint> } {
  const listener = new WebRtcListener({
    identity: identityFromPrivateKey(nodeKey),
    newPeer: weriftAnsweringPeer({ hosts: iceHosts, ...(web.icePortRange !== undefined ? { portRange: web.icePortRange } : {}) }),
    maxConnections: web.maxConnections,
    maxConnectionsPerAddress: web.maxConnectionsPerAddress,
    livenessTimeoutMs,
  })
  const start = async (): Promise<WebEndpoint> => {
    let page: (() => Promise<WebPage>) | undefined
    if (web.page !== false) {
      // Loaded only when the page is served: it bundles with esbuild.
      // buildWebApp keeps the page once built and retries a failed build itself.
      const { buildWebApp } = await import('../web/bundle.js')
      page = async () => await buildWebApp().catch((err: unknown) => {
        log.error({ event: 'web.page_failed', err: (err as Error).message }, 'the member page failed to build')
        throw err
      })
      void page().catch(() => {})
    }
    const server: WebServer = await serveSignal(listener, { host: web.host, port: web.port }, page)
    log.info({ event: 'web.started', url: server.url, iceHosts, page: web.page !== false }, 'web endpoint started')
    return {
      listener,
      url: server.url,
      stats: () => listener.stats(),
      stop: async () => {
        listener.close()
        await server.close()
      },
    }
  }
  return { listener, start }
}
