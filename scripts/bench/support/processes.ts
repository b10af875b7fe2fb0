/**
 * Process management for benchmarks that start nodes: children killed when the bench exits
 * however it exits, process groups stopped gently then for good, stdout lines awaited, free
 * port ranges found, and CPU time read per process group from /proc.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'

// Kills run at exit before the importing script's own exit handlers (this module registers
// first), so children are gone before a script removes their data directories.
const killsAtExit = new Set<() => void>()
process.on('exit', () => {
  for (const kill of killsAtExit) kill()
})

/** Spawns a child that is SIGKILLed when this process exits, if it is still running then. */
export function spawnTracked(command: string, args: string[], opts: SpawnOptions): ChildProcess {
  const child = spawn(command, args, opts)
  killsAtExit.add(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  return child
}

/**
 * A child started as the leader of its own process group, so stopping the group stops every
 * process it started. The group is SIGKILLed when this process exits, if still alive.
 */
export class ProcessGroup {
  #stopped = false
  private constructor(readonly child: ChildProcess) {
    killsAtExit.add(() => this.kill())
  }

  static spawn(command: string, args: string[], opts: Omit<SpawnOptions, 'detached'>): ProcessGroup {
    return new ProcessGroup(spawn(command, args, { ...opts, detached: true }))
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /** Whether any process of the group is still running (zombies waiting to be reaped do not count). */
  get alive(): boolean {
    return this.child.pid !== undefined && groupPids(this.child.pid).length > 0
  }

  /** SIGINT to the leader (which stops its own children), up to `graceMs` for the group to go, then SIGKILL to what is left. */
  async stop(graceMs = 5_000): Promise<void> {
    const pid = this.child.pid
    if (this.#stopped || pid === undefined) return
    this.#stopped = true
    try {
      process.kill(pid, 'SIGINT')
    } catch {
      // already gone
    }
    for (let waited = 0; waited < graceMs && this.alive; waited += 100) await sleep(100)
    this.kill()
  }

  /** SIGKILL to the whole group, at once (safe in an exit handler). */
  kill(): void {
    if (this.child.pid === undefined || !this.alive) return
    try {
      process.kill(-this.child.pid, 'SIGKILL')
    } catch {
      // raced with the last exit
    }
  }
}

/** Fields of /proc/<pid>/stat after "(comm)": state is [0], pgrp [2], utime [11], stime [12]. */
function procStat(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined // exited while we looked
  }
}

/** Pids of the live (not zombie) processes of process group `pgid`, from /proc. */
export function groupPids(pgid: number): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue
    const f = procStat(name)
    if (f !== undefined && Number(f[2]) === pgid && f[0] !== 'Z') pids.push(Number(name))
  }
  return pids
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM, then `report(signal)` and exit code 130.
 * `received()` tells code still running that a signal came in (so it does not retry).
 */
export function stopOnSignals(stop: () => Promise<void>, report: (signal: NodeJS.Signals) => void): { received(): NodeJS.Signals | undefined } {
  let received: NodeJS.Signals | undefined
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      received = sig
      void stop().finally(() => {
        report(sig)
        process.exit(130)
      })
    })
  }
  return { received: () => received }
}

export interface WaitForLineOpts {
  /** rejects with this error when no line matched in time */
  timeoutMs?: number
  onTimeout?: () => Error
  /** the error when the child exits before a line matched */
  onExit: (code: number | null) => Error
  /** sees every line, also after the match (logging) */
  onLine?: (line: string) => void
}

/** Resolves with the first non-undefined value `match` returns for a line of the child's stdout. */
export function waitForLine<T>(child: ChildProcess, match: (line: string) => T | undefined, opts: WaitForLineOpts): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => reject(opts.onTimeout?.() ?? new Error(`no matching line within ${opts.timeoutMs} ms`)), opts.timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(opts.onExit(code))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      opts.onLine?.(line)
      const value = match(line)
      if (value !== undefined) {
        clearTimeout(timer)
        resolve(value)
      }
    })
  })
}

/** Whether nothing listens on 127.0.0.1:`port` now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer()
    s.once('error', () => res(false))
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)))
  })
}

/** The kernel's ephemeral port range (where port-0 listeners such as a node's p2p socket land). */
export function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!]
  } catch {
    // not Linux: assume its default range
  }
  return [32_768, 60_999]
}

/**
 * A random base such that base + every offset is a free port now, all of them **below the
 * ephemeral range**: a devnet's p2p sockets listen on port 0, so a fixed RPC port inside that range
 * can be taken by one of its own nodes between this check and the RPC server's bind (seen:
 * `EADDRINUSE` on a host's RPC port held by a validator's p2p socket).
 */
export async function pickBasePort(offsets: readonly number[]): Promise<number> {
  const [ephemeralLow] = ephemeralPortRange()
  const top = Math.max(...offsets)
  const low = 10_000
  const span = ephemeralLow - top - low
  if (span <= 0) throw new Error(`no port range below the ephemeral range (${ephemeralLow}) fits offsets up to ${top}`)
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * span)
    if ((await Promise.all(offsets.map((o) => portFree(base + o)))).every(Boolean)) return base
  }
  throw new Error(`no free RPC port range found in ${low}–${ephemeralLow}`)
}

/**
 * CPU seconds used so far by the live processes of process group `pgid`, summed per class
 * (`classify` sees each process's argv). Read from /proc at 100 ticks per second.
 */
export function groupCpuSeconds<K extends string>(pgid: number, classify: (argv: string[]) => K, classes: readonly K[]): Record<K, number> {
  const out = Object.fromEntries(classes.map((k) => [k, 0])) as Record<K, number>
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue
    const f = procStat(name)
    if (f === undefined || Number(f[2]) !== pgid) continue
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')
      out[classify(argv)] += (Number(f[11]) + Number(f[12])) / 100
    } catch {
      // exited while we looked
    }
  }
  return out
}
