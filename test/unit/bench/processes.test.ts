import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

import { describe, expect, test } from 'vitest'

import { ephemeralPortRange, pickBasePort, portFree, ProcessGroup, spawnTracked, waitForLine } from '../../../scripts/bench/support/processes.ts'

// Running = present in /proc and not a zombie (a killed grandchild may wait a while to be reaped).
const isRunning = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

// A killed process leaves /proc once the kernel has run its exit, which on a loaded machine can
// lag the kill by a scheduler slice or two: poll instead of looking once.
const stopsRunning = async (pid: number, withinMs = 5_000): Promise<boolean> => {
  for (const t0 = Date.now(); Date.now() - t0 < withinMs; await sleep(20)) if (!isRunning(pid)) return true
  return false
}

// A leader that prints its child's pid, then waits; `ignoreInt` makes it deaf to SIGINT.
const leader = (ignoreInt: boolean): string => `
  const { spawn } = require('node:child_process')
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  ${ignoreInt ? "process.on('SIGINT', () => {})" : ''}
  console.log('child ' + child.pid)
  setInterval(() => {}, 1000)
`

describe('bench process management', () => {
  test('stopping a group also stops a grandchild the leader left behind on SIGINT', async () => {
    const group = ProcessGroup.spawn(process.execPath, ['-e', leader(false)], { stdio: ['ignore', 'pipe', 'ignore'] })
    const childPid = await waitForLine(group.child, (l) => (l.startsWith('child ') ? Number(l.slice(6)) : undefined), { timeoutMs: 10_000, onExit: (c) => new Error(`leader exited with ${c}`) })
    expect(group.alive).toBe(true)
    await group.stop(500)
    await sleep(100)
    expect(group.alive).toBe(false)
    expect(isRunning(childPid)).toBe(false)
  })

  test('a leader that ignores SIGINT is killed with its group after the grace period', async () => {
    const group = ProcessGroup.spawn(process.execPath, ['-e', leader(true)], { stdio: ['ignore', 'pipe', 'ignore'] })
    const childPid = await waitForLine(group.child, (l) => (l.startsWith('child ') ? Number(l.slice(6)) : undefined), { timeoutMs: 10_000, onExit: (c) => new Error(`leader exited with ${c}`) })
    const t0 = Date.now()
    await group.stop(500)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400)
    await sleep(100)
    expect(group.alive).toBe(false)
    expect(isRunning(group.pid!)).toBe(false)
    expect(isRunning(childPid)).toBe(false)
  })

  test('waitForLine rejects with the caller error when the child exits before a match', async () => {
    const child = spawnTracked(process.execPath, ['-e', "console.log('hello'); process.exit(3)"], { stdio: ['ignore', 'pipe', 'ignore'] })
    const seen: string[] = []
    await expect(waitForLine(child, (l) => (l === 'ready' ? l : undefined), { onExit: (c) => new Error(`exited with ${c}`), onLine: (l) => seen.push(l) })).rejects.toThrow('exited with 3')
    expect(seen).toEqual(['hello'])
  })

  test('tracked children and groups are killed when the bench process exits', async () => {
    const script = `
      import { ProcessGroup, spawnTracked } from ${JSON.stringify(new URL('../../../scripts/bench/support/processes.ts', import.meta.url).href)}
      const c = spawnTracked(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
      const g = ProcessGroup.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
      console.log(c.pid + ' ' + g.pid)
      setTimeout(() => process.exit(0), 300)
    `
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
    const pids = out.stdout.trim().split(' ').map(Number)
    expect(pids).toHaveLength(2)
    for (const pid of pids) expect(await stopsRunning(pid)).toBe(true)
  })

  test('a picked base port has every requested offset free', async () => {
    const base = await pickBasePort([0, 1, 100])
    for (const o of [0, 1, 100]) expect(await portFree(base + o)).toBe(true)
    // below the kernel's ephemeral range, where the devnet's own port-0 listeners cannot take it
    expect(base + 100).toBeLessThan(ephemeralPortRange()[0])
  })
})
