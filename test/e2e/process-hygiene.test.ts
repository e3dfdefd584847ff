/**
 * A signal to the command an operator started stops the node, however it
 * was started: `npx fabric-node start` (npm exec, then `sh -c`, then node:
 * npm passes no SIGTERM on, so the node must notice its parent is gone) and
 * the bin entry run directly. Real processes; every one is killed in
 * `finally` even when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../src/cli/processes.js'
import { sleep } from '../timing.js'

interface Started { child: ChildProcess, lines: Array<Record<string, unknown>>, stderr: () => string }

/**
 * The environment of an operator's shell: this process's, less what an npm
 * script or `npx -p node@22` put there (npm_config_package would make the
 * inner npx run that package instead of fabric-node).
 */
function shellEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_NO_WARNINGS: '1' }
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v
  return env
}

function start (command: string, args: string[]): Started {
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: shellEnv() })
  const lines: Array<Record<string, unknown>> = []
  let buf = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      try { lines.push(JSON.parse(line) as Record<string, unknown>) } catch {}
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d })
  return { child, lines, stderr: () => err }
}

async function waitFor (s: Started, event: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const found = s.lines.find((l) => l.event === event)
    if (found !== undefined) return found
    if (Date.now() > until) throw new Error(`no ${event} within ${timeoutMs} ms; stderr: ${s.stderr().slice(-2000)}`)
    await sleep(50)
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function gone (pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs
  while (alive(pid)) {
    if (Date.now() > until) return false
    await sleep(50)
  }
  return true
}

/** Kills what a test started, the node first (it may have been orphaned). */
function cleanUp (s: Started, nodePid: number | undefined): void {
  if (nodePid !== undefined && alive(nodePid)) process.kill(nodePid, 'SIGKILL')
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
}

/** Every live descendant of `pid` (from /proc: Linux). */
function descendants (pid: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Field 4 of stat is the parent; the command (field 2) may hold spaces, so read after its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {}
  }
  const out: number[] = []
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child)
        walk(child)
      }
    }
  }
  walk(pid)
  return out
}

describe('signals reach the node', () => {
  it('SIGTERM to `npx fabric-node start` stops the node it started, which says so', async () => {
    const s = start('npx', ['--no-install', 'fabric-node', 'start', '--ephemeral', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0'])
    let nodePid: number | undefined
    try {
      const ready = await waitFor(s, 'ready', 60_000)
      nodePid = ready.pid as number
      expect(nodePid).not.toBe(s.child.pid)
      s.child.kill('SIGTERM')
      const stopped = await waitFor(s, 'stopped', 10_000)
      expect(stopped.signal).toBe('parent-exit')
      expect(await gone(nodePid, 10_000), 'the node process exited').toBe(true)
    } finally {
      cleanUp(s, nodePid)
    }
  })

  it('SIGTERM to the bin entry run directly stops the node cleanly', async () => {
    const s = start(process.execPath, [join(REPO_ROOT, 'bin/fabric-node.js'), 'start', '--ephemeral', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--admin', '127.0.0.1:0'])
    let nodePid: number | undefined
    try {
      const ready = await waitFor(s, 'ready', 60_000)
      nodePid = ready.pid as number
      expect(nodePid).toBe(s.child.pid)
      s.child.kill('SIGTERM')
      expect((await waitFor(s, 'stopped', 10_000)).signal).toBe('SIGTERM')
      expect(await gone(nodePid, 10_000), 'the node process exited').toBe(true)
    } finally {
      cleanUp(s, nodePid)
    }
  })

  it('SIGINT to the demo process alone (not its group, unlike Ctrl-C) leaves none of its processes behind', async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'fabric-demo-int-'))
    const demo = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/demo.ts'), '--work-dir', workDir], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' },
    })
    let out = ''
    demo.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    let children: number[] = []
    try {
      const until = Date.now() + 60_000
      while (!out.includes('bob and carol joined')) {
        if (Date.now() > until || demo.exitCode !== null) throw new Error(`the demo did not get going: ${out.slice(-2000)}`)
        await sleep(100)
      }
      children = descendants(demo.pid!)
      // The node and alice, bob and carol at least, each a node process.
      expect(children.length).toBeGreaterThanOrEqual(4)
      demo.kill('SIGINT')
      for (const pid of children) expect(await gone(pid, 10_000), `process ${pid} of the demo exited`).toBe(true)
    } finally {
      for (const pid of [demo.pid!, ...children]) if (alive(pid)) process.kill(pid, 'SIGKILL')
      await rm(workDir, { recursive: true, force: true })
    }
  }, 90_000)
})
