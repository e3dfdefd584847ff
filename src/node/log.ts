/**
 * The node's structured log (pino): one JSON object per line on stderr, or
 * readable lines when stderr is a terminal (pino-pretty), each carrying the
 * component that wrote it (`component`: host, group, media, directory,
 * admin) and an `event` name. What goes in a line is chosen so an operator
 * can follow connections, joins, Commits, refusals and overloads; never a
 * key, a token, a KeyPackage or a media payload.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino'
import pretty from 'pino-pretty'

/** A node logger (pino's). */
export type Logger = PinoLogger

/** Log levels, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** One of LOG_LEVELS. */
export type LogLevel = typeof LOG_LEVELS[number]

/** Options of createLogger. */
export interface LogOptions {
  /** Least severe level written; default 'info'. */
  level?: LogLevel
  /**
   * Readable lines instead of JSON; default: when stderr is a terminal.
   * JSON stays the format for files and log collectors.
   */
  pretty?: boolean
  /** Where lines go; default stderr. */
  destination?: DestinationStream
}

/** A logger writing to stderr (or `destination`), JSON unless on a terminal. */
export function createLogger (options: LogOptions = {}): Logger {
  const level = options.level ?? 'info'
  const readable = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true)
  const base = {
    base: undefined,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers: a line is read by people and by collectors alike.
    formatters: { level: (label: string) => ({ level: label }) },
  }
  if (readable) {
    return pino(base, pretty({
      destination: 2,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,component,event',
      messageFormat: '{component} {event}: {msg}',
      singleLine: true,
    }))
  }
  return pino(base, options.destination ?? pino.destination({ fd: 2, sync: true }))
}

/** A logger that writes nothing (library use, tests). */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}

/** The last `n` characters of a peer id or other long id (peer ids share their first characters), for log fields that only need to tell peers apart. */
export function short (id: string, n = 12): string {
  return id.length <= n ? id : id.slice(-n)
}
