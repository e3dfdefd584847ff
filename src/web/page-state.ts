/**
 * `window.fabricPage`: what the member page shows, as one object a test or
 * a demo reads with `page.evaluate(() => window.fabricPage)`. The page
 * updates it in place as things happen (the fields below; per-tile rates
 * and `stats` once a second), so a reader always sees the current values;
 * every array is bounded. Times are `performance.now()` readings (ms since
 * the page loaded) unless said otherwise.
 */
import { pushBounded } from './meters.js'

/** Most sent-frame hashes kept (`sent.hashes`). */
export const SENT_HASHES_KEPT = 256
/** Most latency samples kept (`latency.samples`). */
export const LATENCY_SAMPLES_KEPT = 512
/** Most log lines kept (`log`). */
export const LOG_LINES_KEPT = 100

export type PageStateName = 'idle' | 'joining' | 'joined' | 'left' | 'error'

/** One remote member's tile. */
export interface TileState {
  /** Video frames of this sender handed to the page (decrypted). */
  framesReceived: number
  /** Frames decoded and drawn on the tile's canvas. */
  framesDecoded: number
  /** Decoder errors (each resets the decoder, which then waits for a keyframe). */
  decodeErrors: number
  /** Frames not decoded: before the first keyframe, after an error until the next one, or dropped on a full decode queue. */
  skipped: number
  /** Decrypt failures of this sender (`member.stats().bySender[sender].failures`), once a second. */
  decryptFailures: number
  /** Size of the last frame drawn, pixels (0 before the first). */
  width: number
  height: number
  /** Frames drawn per second, over the last 2 s. */
  fps: number
  /** Received video payload, kbit/s over the last 2 s. */
  kbps: number
}

/** The shape of `window.fabricPage`. */
export interface FabricPage {
  state: PageStateName
  /** Why a join failed, or why the member ended ('error'; REMOVED when the committer removed us, the close error otherwise). */
  error?: { code: string, message: string }
  /** This page's identity (kept in IndexedDB): what an owner passes to `fabric invite --for`. */
  peerId: string
  /** The joined stream's address, owner/name. */
  stream?: string
  /** Members (peer ids) as the group service last listed them, us included. */
  roster: string[]
  /** The current epoch's safety code as `member.safetyCode()` gives it (30 digits, in groups of five), updated on every epoch; '' before joining. */
  safetyCode: string
  /** The current MLS epoch, decimal ('' before joining). */
  epoch: string
  /** 'on' once the camera gives frames; 'off' before or without one; 'error' when getUserMedia or WebCodecs failed. */
  camera: 'off' | 'on' | 'error'
  sent: {
    /** Encoded video frames sent (sendFrame resolved). */
    frames: number
    keyframes: number
    /** Payload bytes of those frames (encoded VP8, before SFrame). */
    bytes: number
    /** Camera frames dropped: encoder queue over 2, or the publish stream backed up. */
    dropped: number
    /** Hex of the first 8 bytes of SHA-256 of each of the last 256 frames sent, oldest first. */
    hashes: string[]
    /** Sent kbit/s and frames per second over the last 2 s. */
    kbps: number
    fps: number
  }
  /** By sender peer id: one entry per remote member with a tile. */
  tiles: Record<string, TileState>
  timings: {
    /** When Join was pressed (or the ?invite= join started). */
    joinStartedAt?: number
    /** When StreamMember.join resolved: the Welcome is processed then. */
    joinedAt?: number
    /** When the first remote frame was drawn. */
    firstRemoteFrameAt?: number
    /** firstRemoteFrameAt - joinedAt. */
    welcomeToFirstFrameMs?: number
  }
  latency: {
    /** Per remote frame received: Date.now() * 1000 - timestampUs, in ms (capture to decryption, across two clocks), the last 512. */
    samples: number[]
  }
  /**
   * The page's main thread, where MLS runs: tasks that held it over 50 ms
   * (Chromium's long-task entries), which is when drawing and sending stall.
   * Absent where the browser reports no long tasks.
   */
  mainThread: {
    longTasks: number
    longestMs: number
    /** The last 32 long tasks' durations, ms. */
    recentMs: number[]
  }
  /** Readable lines of what happened (joins, epochs, errors), the last 100. */
  log: string[]
  /** The pixels of `sender`'s tile now; undefined when it has no tile. */
  canvasDigest: (sender: string) => { hash: string, mean: number, variance: number } | undefined
  /** Joins with an invitation token, as the Join button does; resolves when the join ended either way. */
  join: (invitation: string) => Promise<void>
  /** Leaves, as the Leave button does. */
  leave: () => Promise<void>
}

/** A fresh state for an idle page of `peerId`, with the given methods. */
export function newPageState (peerId: string, methods: Pick<FabricPage, 'canvasDigest' | 'join' | 'leave'>): FabricPage {
  return {
    state: 'idle',
    peerId,
    roster: [],
    safetyCode: '',
    epoch: '',
    camera: 'off',
    sent: { frames: 0, keyframes: 0, bytes: 0, dropped: 0, hashes: [], kbps: 0, fps: 0 },
    tiles: {},
    timings: {},
    latency: { samples: [] },
    mainThread: { longTasks: 0, longestMs: 0, recentMs: [] },
    log: [],
    ...methods,
  }
}

/** An empty tile. */
export function newTileState (): TileState {
  return { framesReceived: 0, framesDecoded: 0, decodeErrors: 0, skipped: 0, decryptFailures: 0, width: 0, height: 0, fps: 0, kbps: 0 }
}

/**
 * Clears what belongs to one join (roster, epoch, tiles, sent counters,
 * timings, latency) in place, before the next.
 */
export function resetForJoin (page: FabricPage): void {
  page.error = undefined
  page.stream = undefined
  page.roster = []
  page.safetyCode = ''
  page.epoch = ''
  page.sent = { frames: 0, keyframes: 0, bytes: 0, dropped: 0, hashes: [], kbps: 0, fps: 0 }
  page.tiles = {}
  page.timings = {}
  page.latency.samples.length = 0
}

/** Adds a line to `page.log`, stamped with seconds since the page loaded. */
export function logLine (page: FabricPage, nowMs: number, line: string): void {
  pushBounded(page.log, `${(nowMs / 1000).toFixed(3)} ${line}`, LOG_LINES_KEPT)
}
