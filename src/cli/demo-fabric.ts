/**
 * `npm run demo:fabric`: a fabric of five `fabric-node` processes
 * (fixtures/topologies/star.json) whose relay tree heals around a node
 * killed with SIGKILL mid-stream.
 *
 * A member on each node (alice on the home, bob, carol, dave and erin on
 * the others), each publishing a real VP8 clip from fixtures/media at
 * 30 fps. Each node feeds at most two others (`--tree-max-children 2`),
 * so the home feeds two relays and two more hang below them. Once media
 * flows, a relay that feeds another is killed with SIGKILL; the nodes
 * below it move to their standby at once. It prints the tree, frames
 * decrypted per member per sender before and after the kill, each
 * affected member's heal time (kill to its first decrypt of a frame
 * captured after the kill), and every check; exits 1 when one fails (a
 * member that stops receiving, a frame decrypted twice, a member below the
 * killed relay that does not decrypt again within 10 s), 2 on bad
 * arguments. The nodes' logs go to .tmp/demo-fabric/NAME.log.
 */
import '../polyfill.js'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { loadTopology } from '../fixture/fabric-fixture.js'
import {
  CLIP_NAMES, describeTree, disrupt, loadClip, nodesBelow, nowUs, publishClip, relayTree, relaysWithChildren,
  sleep, startHealFabric, stopHealFabric, until, waitFor, waitSettled, type HealFabric, type HealMember,
} from '../fixture/heal-probe.js'
import { REPO_ROOT } from './processes.js'

const USAGE = `usage: npm run demo:fabric
  five fabric-node processes, a member on each publishing a VP8 clip; a relay
  that feeds another is killed with SIGKILL mid-stream and the tree heals.
  Exits 1 when a check fails. Node logs: .tmp/demo-fabric/NAME.log
`

/** Members, and the node of each (star.json: the hub is the home). */
const MEMBERS = [
  { name: 'alice', node: 'hub' },
  { name: 'bob', node: 's1' },
  { name: 'carol', node: 's2' },
  { name: 'dave', node: 's3' },
  { name: 'erin', node: 's4' },
]
/** Each node feeds at most this many others, so two relays sit below two others. */
const TREE = { maxChildren: 2, capacity: 2 }
/** Media before the kill, ms. */
const BEFORE_MS = 3_000
/** A member below the killed relay must decrypt again within this, ms. */
const HEAL_LIMIT_MS = 10_000
/** Media after the last heal, ms. */
const AFTER_MS = 4_000
/** The last stretch in which every surviving member must still be decrypting every surviving sender, ms. */
const FRESH_MS = 2_000
const WAIT_MS = 30_000
const LOG_DIR = join(REPO_ROOT, '.tmp', 'demo-fabric')

interface Check { name: string, ok: boolean, detail: string }

function say (line: string): void {
  process.stdout.write(`${line}\n`)
}

function ms (x: number | undefined): string {
  return x === undefined ? 'never' : `${x.toFixed(0)} ms`
}

async function run (hfRef: { hf?: HealFabric }): Promise<Check[]> {
  const topology = await loadTopology(join(REPO_ROOT, 'fixtures', 'topologies', 'star.json'))
  const clips = await Promise.all(MEMBERS.map(async (_m, i) => await loadClip(CLIP_NAMES[i % CLIP_NAMES.length]!)))
  say(`- starting ${topology.nodes.length} fabric-node processes (fixtures/topologies/star.json) with --tree-max-children ${TREE.maxChildren}`)
  const hf = await startHealFabric({
    topology,
    tree: TREE,
    stream: 'demo-fabric',
    members: MEMBERS,
    waitMs: WAIT_MS,
    log: (l) => { say(`- ${l}`) },
    started: (h) => { hfRef.hf = h },
  })
  const { fabric, home, members } = hf
  for (const [i, m] of members.entries()) m.publisher = publishClip(m.member, clips[i]!)
  say(`- each member publishes a VP8 clip at ${clips[0]!.fps} fps: ${members.map((m, i) => `${m.name} ${CLIP_NAMES[i % CLIP_NAMES.length]}.ivf`).join(', ')}`)
  const id = (m: HealMember): string => m.member.identity
  await until(() => members.every((r) => members.every((s) => s === r || r.recorder.count(id(s)) > 10)), WAIT_MS, 'every member decrypting every other')
  await until(() => relayTree(home).size === topology.nodes.length - 1, WAIT_MS, 'every relay placed in the tree')
  if (!await waitSettled(hf, members, WAIT_MS)) throw new Error('the relay tree did not settle')
  say(`- the home (${home.name}) placed every relay; the tree:\n${describeTree(fabric, home).replace(/^/gm, '    ')}`)
  await sleep(BEFORE_MS)

  const victim = relaysWithChildren(fabric, home, hf.dead)[0]
  if (victim === undefined) throw new Error('no relay feeds another; nothing to kill')
  const below = nodesBelow(fabric, home, victim, hf.dead)
  const killedMember = hf.memberOn(victim)!
  const affected = below.map((n) => hf.memberOn(n)!)
  const survivors = members.filter((m) => m !== killedMember)
  say(`- kill -9 ${victim.name} (pid ${victim.process!.pid}, ${killedMember.name}'s node), which feeds ${below.map((n) => n.name).join(', ')} (${affected.map((m) => m.name).join(', ')})`)
  const t0 = disrupt(hf, victim, 'SIGKILL')
  const counts0 = new Map(members.map((r) => [r, new Map(members.map((s) => [s, r.recorder.count(id(s))]))]))
  // Heal: every surviving member decrypts a frame captured after the kill from every other surviving member.
  const pairs = survivors.flatMap((r) => survivors.filter((s) => s !== r).map((s) => ({ r, s })))
  await waitFor(() => pairs.every(({ r, s }) => r.recorder.healAfter(id(s), t0) !== undefined), HEAL_LIMIT_MS)
  const healOf = (r: HealMember, s: HealMember): number | undefined => {
    const h = r.recorder.healAfter(id(s), t0)
    return h !== undefined && h <= HEAL_LIMIT_MS ? h : undefined
  }
  // The home's re-placements after the kill (bounded: the checks below judge the media).
  if (await waitSettled(hf, [], 5_000)) say(`- healed; the tree now:\n${describeTree(fabric, home, hf.dead).replace(/^/gm, '    ')}`)
  await sleep(AFTER_MS)
  const stoppedAt = nowUs()
  await Promise.all(members.map(async (m) => await m.publisher?.stop()))
  await sleep(1_000)

  // Frames decrypted per member per sender.
  say('\nframes decrypted (before the kill / after it), per member and sender:')
  say(`  ${'member'.padEnd(16)}${members.map((s) => s.name.padStart(14)).join('')}`)
  for (const r of members) {
    const cells = members.map((s) => {
      if (s === r) return '-'.padStart(14)
      const before = counts0.get(r)!.get(s)!
      return `${before} / ${r.recorder.count(id(s)) - before}`.padStart(14)
    })
    const where = r === killedMember ? ' (killed)' : affected.includes(r) ? ' (below)' : ''
    say(`  ${`${r.name}@${r.node.name}${where}`.padEnd(16)}${cells.join('')}`)
  }
  say(`\nheal times after kill -9 ${victim.name} (kill to the first decrypt of a frame captured after it; lost: frames sent meanwhile never decrypted):`)
  for (const r of affected) {
    const parts = survivors.filter((s) => s !== r).map((s) => {
      const h = healOf(r, s)
      const lost = r.recorder.missing(id(s), s.publisher!.sent, t0, t0 + (h ?? HEAL_LIMIT_MS) * 1000).length
      return `from ${s.name} ${ms(h)} (lost ${lost})`
    })
    const worst = survivors.filter((s) => s !== r).map((s) => healOf(r, s))
    const all = worst.every((h) => h !== undefined) ? Math.max(...(worst as number[])) : undefined
    say(`  ${r.name}@${r.node.name}: ${ms(all)}; ${parts.join(', ')}`)
  }
  // The other way: what a member below the killed relay sends must find its way up again too.
  for (const a of affected) {
    say(`  others decrypting ${a.name} again: ${survivors.filter((r) => r !== a && !affected.includes(r)).map((r) => `${r.name} ${ms(healOf(r, a))}`).join(', ')}`)
  }

  const checks: Check[] = []
  checks.push({ name: 'every member decrypted every other member before the kill', ok: members.every((r) => members.every((s) => s === r || counts0.get(r)!.get(s)! > 10)), detail: '' })
  const unhealed = affected.flatMap((r) => survivors.filter((s) => s !== r && healOf(r, s) === undefined).map((s) => `${r.name} from ${s.name}`))
  checks.push({ name: `every member below ${victim.name} decrypts every surviving sender again within ${HEAL_LIMIT_MS / 1000} s`, ok: unhealed.length === 0, detail: unhealed.length === 0 ? `worst ${ms(Math.max(0, ...affected.flatMap((r) => survivors.filter((s) => s !== r).map((s) => healOf(r, s)!))))}` : `not: ${unhealed.join(', ')}` })
  const upUnhealed = pairs.filter(({ r, s }) => !affected.includes(r) && healOf(r, s) === undefined).map(({ r, s }) => `${r.name} from ${s.name}`)
  checks.push({ name: `every other surviving member decrypts every surviving sender again within ${HEAL_LIMIT_MS / 1000} s`, ok: upUnhealed.length === 0, detail: upUnhealed.join(', ') })
  const stale = pairs.filter(({ r, s }) => stoppedAt - (r.recorder.lastAt(id(s)) ?? 0) > FRESH_MS * 1000).map(({ r, s }) => `${r.name} from ${s.name}`)
  checks.push({ name: `no surviving member stops receiving (each decrypts each surviving sender in the last ${FRESH_MS / 1000} s)`, ok: stale.length === 0, detail: stale.join(', ') })
  const dups = members.map((m) => [m.name, m.recorder.totalDuplicates()] as const).filter(([, d]) => d > 0)
  const refused = members.reduce((n, m) => n + Object.values(m.member.stats().bySender).reduce((k, s) => k + s.duplicates, 0), 0)
  checks.push({ name: 'no frame decrypted twice', ok: dups.length === 0, detail: dups.length === 0 ? `${refused} resent copies refused by the replay window` : dups.map(([n, d]) => `${n} ${d}`).join(', ') })
  const broken = survivors.filter((m) => m.publisher!.error !== undefined).map((m) => `${m.name}: ${m.publisher!.error!.message}`)
  checks.push({ name: 'every surviving member published to the end', ok: broken.length === 0, detail: broken.join('; ') })
  return checks
}

async function main (): Promise<number> {
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { help: { type: 'boolean', short: 'h' } } })
    if (values.help === true) {
      process.stdout.write(USAGE)
      return 0
    }
  } catch (err) {
    process.stderr.write(`demo:fabric: ${(err as Error).message}\n${USAGE}`)
    return 2
  }
  const ref: { hf?: HealFabric } = {}
  const interrupted = async (): Promise<void> => {
    await stopHealFabric(ref.hf)
    process.exit(130)
  }
  process.once('SIGINT', () => { void interrupted() })
  process.once('SIGTERM', () => { void interrupted() })
  let checks: Check[]
  try {
    checks = await run(ref)
  } catch (err) {
    process.stderr.write(`demo:fabric: broke off: ${err instanceof Error ? err.message : String(err)}\n`)
    checks = [{ name: 'the demo ran to the end', ok: false, detail: err instanceof Error ? err.message : String(err) }]
  } finally {
    const hf = ref.hf
    await stopHealFabric(hf)
    if (hf !== undefined) {
      await rm(LOG_DIR, { recursive: true, force: true })
      await mkdir(LOG_DIR, { recursive: true })
      await Promise.all(hf.fabric.nodes.map(async (n) => { await writeFile(join(LOG_DIR, `${n.name}.log`), n.process?.stderr() ?? '') }))
    }
  }
  say('\nchecks:')
  for (const c of checks) say(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail === '' ? '' : ` (${c.detail})`}`)
  const failed = checks.filter((c) => !c.ok).length
  say(`node logs (JSON lines): ${relative(process.cwd(), LOG_DIR) || LOG_DIR}/NAME.log`)
  say(`\n${checks.length - failed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

process.exit(await main())
