import { createWriteStream } from 'node:fs'
import { join } from 'node:path'

import { BenchError } from './benchError.ts'
import { DevnetLog } from './devnetLog.ts'
import { groupCpuSeconds, pickBasePort, ProcessGroup, waitForLine } from './processes.ts'

export interface DevnetUrls {
  validators: string[]
  hosts: string[]
  /** The devnet's own deploy → execute → complete demo printed fib(20) = 6765, agreed. */
  demoOk: boolean
}

export interface LaunchDevnetOpts {
  repoRoot: string
  workDir: string
  validators: number
  hosts: number
  /** numbers this start's data dir and log file */
  attempt: number
  logLevel: string
  /** genesis file for scripts/devnet.ts (default: the repo's genesis.json) */
  genesisFile?: string
  /** how long the devnet may take to come up (default 120 s) */
  readyTimeoutMs?: number
}

export interface LaunchedDevnet {
  /** scripts/devnet.ts and every node it started */
  group: ProcessGroup
  /** the nodes' stderr and the devnet's stdout lines */
  log: DevnetLog
  /** resolves when the devnet printed "producing blocks" (after its demo round trip) */
  ready: Promise<DevnetUrls>
}

/**
 * Starts scripts/devnet.ts (no --exit) in its own process group, on a free RPC port range:
 * validator i on base+i, host i on base+100+i (its shard HTTP server on base+200+i). Returns at once, with the group to stop.
 */
export async function launchDevnet(o: LaunchDevnetOpts): Promise<LaunchedDevnet> {
  const offsets = [...Array.from({ length: o.validators }, (_, i) => i), ...Array.from({ length: o.hosts }, (_, i) => 100 + i), ...Array.from({ length: o.hosts }, (_, i) => 200 + i)]
  let base: number
  try {
    base = await pickBasePort(offsets)
  } catch (err) {
    throw new BenchError((err as Error).message)
  }
  const log = new DevnetLog(join(o.workDir, `devnet-${o.attempt}.log`))
  const args = ['--import', 'tsx', 'scripts/devnet.ts', '--data', join(o.workDir, `net-${o.attempt}`), '--rpc-port', String(base), '--hosts', String(o.hosts), ...(o.genesisFile ? ['--genesis', o.genesisFile] : [])]
  const group = ProcessGroup.spawn(process.execPath, args, { cwd: o.repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XSC_LOG_LEVEL: o.logLevel } })
  const logStream = createWriteStream(log.file)
  group.child.stderr!.pipe(logStream)
  const urls: DevnetUrls = { validators: [], hosts: [], demoOk: false }
  const ready = waitForLine(group.child, (line) => {
    const m = /^(validator|host)-(\d+): RPC (\S+)/.exec(line)
    if (m) (m[1] === 'validator' ? urls.validators : urls.hosts)[Number(m[2])] = m[3]!
    if (line.startsWith('executed fib(20) = 6765 (status agreed')) urls.demoOk = true
    return line.startsWith('producing blocks') ? urls : undefined
  }, {
    timeoutMs: o.readyTimeoutMs ?? 120_000,
    onTimeout: () => new BenchError(`the devnet was not up within ${(o.readyTimeoutMs ?? 120_000) / 1000} s; log tail:\n${log.tail(20)}`),
    onExit: (code) => new BenchError(`the devnet exited with ${code} before it was up; log tail:\n${log.tail(20)}`),
    onLine: (line) => logStream.write(`[devnet] ${line}\n`),
  })
  return { group, log, ready }
}

export type DevnetRole = 'validators' | 'hosts' | 'driver'
const ROLES: readonly DevnetRole[] = ['validators', 'hosts', 'driver']

/** CPU seconds used so far by the devnet's processes, by role (a host runs with --host, a validator with --key). */
export function devnetCpuByRole(devnet: LaunchedDevnet | undefined): Record<DevnetRole, number> {
  const pid = devnet?.group.pid
  if (pid === undefined) return { validators: 0, hosts: 0, driver: 0 }
  return groupCpuSeconds(pid, (argv) => (argv.includes('--host') ? 'hosts' : argv.includes('--key') ? 'validators' : 'driver'), ROLES)
}
