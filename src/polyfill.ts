/**
 * Node 20 lacks `Promise.withResolvers` (a Node 22 API) which libp2p 3.x, yamux,
 * it-queue and mortice call; without it inbound upgrades fail silently with
 * ECONNRESET on the dialer. Every entry point imports this module first.
 *
 * Being the one module every Node entry point (and the test setup) loads
 * first, it also makes node:crypto the process's crypto backend
 * (src/platform/node/index.ts); browsers load src/browser.ts instead.
 */
import './platform/node/index.js'

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve']
    let reject!: Resolvers<T>['reject']
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

export {}
