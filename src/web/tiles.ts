/**
 * The page's remote video: one tile per other member (a canvas labelled
 * with a short peer id), fed by that member's decrypted video frames
 * (StreamMember 'frame', context 0) through a WebCodecs VP8 decoder.
 *
 * A decoder starts at a keyframe: frames before the first one, and after
 * a decode error (which closes the decoder) until the next one, are
 * skipped and counted. The decoder is configured with the codec alone (VP8
 * needs no size), so a sender may send any size and change it; the canvas
 * takes each picture's display size. Pictures are drawn in the decoder's
 * output callback and closed at once, so decoded frames never pile up.
 */
import type { MemberStats, ReceivedFrame } from '../browser.js'
import type { Browser, Canvas2D, CanvasEl, Doc, El, VideoDecoderLike, VideoFrameLike } from './dom.js'
import { diffTiles, pixelDigest, pushBounded, RateWindow, shortId, type PixelDigest } from './meters.js'
import { LATENCY_SAMPLES_KEPT, newTileState, type FabricPage, type TileState } from './page-state.js'

/** Frames the decoder may hold before delta frames are skipped until the next keyframe. */
export const MAX_DECODE_QUEUE = 16
/** Departed members remembered, so a late frame of theirs does not bring their tile back. */
const DEPARTED_KEPT = 64

interface Tile {
  readonly sender: string
  readonly state: TileState
  readonly figure: El
  readonly canvas: CanvasEl
  readonly ctx: Canvas2D | null
  readonly caption: El
  readonly row: El
  readonly cells: El[]
  readonly drawn: RateWindow
  readonly received: RateWindow
  decoder: VideoDecoderLike | undefined
  /** The wire track the decoder follows; a sender that rejoined sends on a new one. */
  track: number
  waitingForKeyframe: boolean
}

export class Tiles {
  private readonly b: Browser
  private readonly doc: Doc
  private readonly page: FabricPage
  private readonly container: El
  private readonly statsBody: El
  private readonly log: (line: string) => void
  private readonly tiles = new Map<string, Tile>()
  private readonly departed = new Set<string>()
  private self = ''

  constructor (b: Browser, page: FabricPage, container: El, statsBody: El, log: (line: string) => void) {
    this.b = b
    this.doc = b.document
    this.page = page
    this.container = container
    this.statsBody = statsBody
    this.log = log
  }

  /** Adds a tile for each member of `roster` without one and removes those of members gone; `self` gets none. */
  sync (roster: readonly string[], self: string): void {
    this.self = self
    const { add, remove } = diffTiles(this.tiles.keys(), roster, self)
    for (const sender of remove) {
      this.removeTile(sender)
      this.departed.add(sender)
      if (this.departed.size > DEPARTED_KEPT) this.departed.delete(this.departed.values().next().value!)
    }
    for (const sender of add) {
      this.departed.delete(sender)
      this.tileOf(sender)
    }
  }

  /** One decrypted frame of another member: counted, then decoded onto its tile (video only). */
  onFrame (f: ReceivedFrame): void {
    if (f.context !== 0 || f.sender === this.self) return
    // A frame can beat the roster that lists its sender, but not outlive the one that drops it.
    if (this.departed.has(f.sender)) return
    const tile = this.tileOf(f.sender)
    const now = performance.now()
    tile.state.framesReceived++
    tile.received.add(now, f.payload.byteLength)
    pushBounded(this.page.latency.samples, Date.now() - Number(f.timestampUs) / 1000, LATENCY_SAMPLES_KEPT)
    // A decoder that failed is closed before its error callback runs; the callback counts it.
    if (tile.track !== f.track || tile.decoder?.state === 'closed') {
      this.resetDecoder(tile)
      tile.track = f.track
    }
    if (!f.keyframe && (tile.waitingForKeyframe || (tile.decoder?.decodeQueueSize ?? 0) > MAX_DECODE_QUEUE)) {
      tile.state.skipped++
      tile.waitingForKeyframe = true
      return
    }
    if (f.keyframe && (tile.decoder?.decodeQueueSize ?? 0) > MAX_DECODE_QUEUE) this.resetDecoder(tile)
    try {
      const decoder = tile.decoder ?? this.newDecoder(tile)
      decoder.decode(new this.b.EncodedVideoChunk({ type: f.keyframe ? 'key' : 'delta', timestamp: Number(f.timestampUs), data: f.payload }))
      tile.waitingForKeyframe = false
    } catch (err) {
      this.decodeFailed(tile, err)
    }
  }

  /** Refreshes rates, decrypt failures, captions and the stats table (once a second). */
  refresh (nowMs: number, stats: MemberStats | undefined): void {
    for (const tile of this.tiles.values()) {
      const s = tile.state
      s.fps = tile.drawn.perSecond(nowMs)
      s.kbps = tile.received.kbps(nowMs)
      s.decryptFailures = stats?.bySender[tile.sender]?.failures ?? s.decryptFailures
      tile.caption.replaceChildren(this.span(shortId(tile.sender)), this.span(`${s.width}x${s.height} · ${s.fps.toFixed(0)} fps · ${s.kbps.toFixed(0)} kbit/s`))
      const values = [shortId(tile.sender), s.fps.toFixed(1), s.kbps.toFixed(0), String(s.framesDecoded), String(s.decodeErrors), String(s.decryptFailures)]
      values.forEach((v, i) => { tile.cells[i].textContent = v })
    }
  }

  /** The pixels of `sender`'s tile now; undefined without a tile. */
  digest (sender: string): PixelDigest | undefined {
    const tile = this.tiles.get(sender)
    if (tile === undefined) return undefined
    if (tile.ctx === null || tile.canvas.width === 0 || tile.canvas.height === 0) return pixelDigest([])
    return pixelDigest(tile.ctx.getImageData(0, 0, tile.canvas.width, tile.canvas.height).data)
  }

  /** Removes every tile and closes every decoder. */
  clear (): void {
    for (const sender of [...this.tiles.keys()]) this.removeTile(sender)
    this.departed.clear()
  }

  private tileOf (sender: string): Tile {
    const known = this.tiles.get(sender)
    if (known !== undefined) return known
    const doc = this.doc
    const figure = doc.createElement('figure')
    figure.className = 'tile'
    figure.dataset.sender = sender
    figure.title = sender
    const canvas = doc.createElement('canvas') as CanvasEl
    const caption = doc.createElement('figcaption')
    caption.append(this.span(shortId(sender)))
    figure.append(canvas, caption)
    this.container.append(figure)
    const row = doc.createElement('tr')
    row.dataset.sender = sender
    const cells = Array.from({ length: 6 }, () => doc.createElement('td'))
    cells[0].textContent = shortId(sender)
    row.append(...cells)
    this.statsBody.append(row)
    const state = newTileState()
    this.page.tiles[sender] = state
    const tile: Tile = {
      sender, state, figure, canvas, ctx: canvas.getContext('2d'), caption, row, cells,
      drawn: new RateWindow(), received: new RateWindow(), decoder: undefined, track: -1, waitingForKeyframe: true,
    }
    this.tiles.set(sender, tile)
    return tile
  }

  private removeTile (sender: string): void {
    const tile = this.tiles.get(sender)
    if (tile === undefined) return
    this.resetDecoder(tile)
    tile.figure.remove()
    tile.row.remove()
    this.tiles.delete(sender)
    delete this.page.tiles[sender]
  }

  private newDecoder (tile: Tile): VideoDecoderLike {
    const Decoder = this.b.VideoDecoder
    if (Decoder === undefined) throw new Error('this browser lacks WebCodecs VideoDecoder')
    const decoder: VideoDecoderLike = new Decoder({
      output: (frame) => { this.draw(tile, decoder, frame) },
      // Counted whether or not onFrame already dropped this decoder on finding it closed.
      error: (err) => { this.decodeFailed(tile, err, decoder) },
    })
    // No codedWidth/codedHeight: VP8 carries its size in each keyframe, and senders differ.
    decoder.configure({ codec: 'vp8', optimizeForLatency: true })
    tile.decoder = decoder
    return decoder
  }

  private draw (tile: Tile, decoder: VideoDecoderLike, frame: VideoFrameLike): void {
    try {
      // A picture a reset decoder still hands out belongs to the old stream.
      if (tile.decoder !== decoder || !this.tiles.has(tile.sender)) return
      const { displayWidth: w, displayHeight: h } = frame
      if (tile.canvas.width !== w || tile.canvas.height !== h) {
        tile.canvas.width = w
        tile.canvas.height = h
      }
      tile.ctx?.drawImage(frame, 0, 0, w, h)
      const now = performance.now()
      const s = tile.state
      s.width = w
      s.height = h
      s.framesDecoded++
      tile.drawn.add(now)
      const timings = this.page.timings
      if (timings.firstRemoteFrameAt === undefined) {
        timings.firstRemoteFrameAt = now
        if (timings.joinedAt !== undefined) timings.welcomeToFirstFrameMs = now - timings.joinedAt
        this.log(`first remote frame drawn (${shortId(tile.sender)}, ${w}x${h})`)
      }
    } finally {
      frame.close()
    }
  }

  /** Counts a decode error and, when `decoder` (default: the tile's) is still the tile's, resets it. */
  private decodeFailed (tile: Tile, err: unknown, decoder = tile.decoder): void {
    tile.state.decodeErrors++
    this.log(`decoder ${shortId(tile.sender)}: ${err instanceof Error ? err.message : String(err)}; waiting for a keyframe`)
    if (tile.decoder === decoder) this.resetDecoder(tile)
  }

  /** Closes the tile's decoder; the next keyframe starts a new one. */
  private resetDecoder (tile: Tile): void {
    const decoder = tile.decoder
    tile.decoder = undefined
    tile.waitingForKeyframe = true
    if (decoder !== undefined && decoder.state !== 'closed') {
      try { decoder.close() } catch {}
    }
  }

  private span (text: string): El {
    const el = this.doc.createElement('span')
    el.textContent = text
    return el
  }
}
