/**
 * The package's node entry point (`import { startNode } from
 * 'fabric-relay/node'`): embed a relay node in a process, as `fabric-node`
 * does. `startNode(config)` binds every listener before it returns and
 * `stop()` drains; docs/operator.md describes every option.
 */
export { startNode, type NodeConfig, type NodeHandle, type NodeStats } from './node.js'
export { createLogger, silentLogger, LOG_LEVELS, type Logger, type LogLevel, type LogOptions } from './log.js'
export { ConfigError } from './config-checks.js'
