import { execFileSync, spawnSync } from 'node:child_process'

/**
 * Linux network namespaces as separate machines on one box: a "switch" namespace holding a bridge,
 * and one namespace per machine joined to it by a veth pair, with one private IP each
 * (10.77.0.0/24). Nothing is added to the root namespace: the bridge lives in the switch
 * namespace, so traffic never leaves the namespaces created here. Loopback stays DOWN in every
 * machine namespace, so anything that relied on 127.0.0.1 fails loudly.
 */
export interface Machine { name: string; ns: string; ip: string }
export interface Topology { prefix: string; switchNs: string; machines: Machine[]; destroy(): void }

const SUBNET = '10.77.0'
const PREFIX_ROOT = 'xsc-nt-'

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why the test cannot run here (undefined when it can): root, the ip tool, and a namespace actually created. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'network namespaces need root (run as root, e.g. in the CI container)'
  if (spawnSync('ip', ['-V']).status !== 0) return 'the `ip` tool (iproute2) is not installed'
  const probe = `${PREFIX_ROOT}probe-${process.pid}`
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
  if (made.status !== 0) return `cannot create a network namespace: ${made.stderr.trim()}`
  spawnSync('ip', ['netns', 'del', probe])
  return undefined
}

function listNamespaces(): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? ''
  return out.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.length > 0)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Removes namespaces left by an earlier run that died before its cleanup (their pid is gone). */
export function sweepStaleNamespaces(): void {
  for (const ns of listNamespaces()) {
    const m = new RegExp(`^${PREFIX_ROOT}(\\d+)-`).exec(ns)
    if (m && !isAlive(Number(m[1]))) spawnSync('ip', ['netns', 'del', ns])
  }
}

export function createTopology(names: string[]): Topology {
  if (names.length > 200) throw new Error('at most 200 machines on 10.77.0.0/24')
  const prefix = `${PREFIX_ROOT}${process.pid}-`
  const switchNs = `${prefix}sw`
  const created: string[] = []
  const destroy = (): void => {
    for (const ns of created.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns])
  }
  try {
    ip(['netns', 'add', switchNs])
    created.push(switchNs)
    ip(['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge'])
    ip(['-n', switchNs, 'link', 'set', 'br0', 'up'])
    const machines = names.map((name, i): Machine => {
      const ns = `${prefix}${i}`
      const addr = `${SUBNET}.${10 + i}`
      ip(['netns', 'add', ns])
      created.push(ns)
      // The veth pair is created in the switch namespace; its far end moves into the machine.
      ip(['-n', switchNs, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      ip(['-n', switchNs, 'link', 'set', `p${i}`, 'master', 'br0'])
      ip(['-n', switchNs, 'link', 'set', `p${i}`, 'up'])
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])
      ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
      return { name, ns, ip: addr }
    })
    return { prefix, switchNs, machines, destroy }
  } catch (e) {
    destroy()
    throw e
  }
}
