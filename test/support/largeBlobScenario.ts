import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'

import { getHosts } from '../../src/client/index.ts'
import { toHex } from '../../src/crypto/index.ts'
import { writeKeyFile } from '../../src/node/keyFile.ts'
import { createIncrementalHash } from '../../src/storage/incrementalHash.ts'
import { type ComputeNetwork, startComputeNetwork } from './computeNetwork.ts'
import { waitFor } from './nodeProcess.ts'

const MiB = 1 << 20

/** Peak resident memory (VmHWM) of a live process, in MiB; 0 once it is gone. */
export function peakRssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? 0 : Math.round(Number(kb) / 1024)
  } catch {
    return 0
  }
}

/** Current resident memory (VmRSS) of a live process, in MiB; 0 once it is gone. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? 0 : Math.round(Number(kb) / 1024)
  } catch {
    return 0
  }
}

/** Resets a process's VmHWM to its current RSS (Linux: `5` into /proc/<pid>/clear_refs), so a later peakRssMiB covers only what follows. */
export function resetPeakRss(pid: number | undefined): void {
  if (pid !== undefined) writeFileSync(`/proc/${pid}/clear_refs`, '5')
}

/** Runs `xsc …` as its own process (so its memory is its own) and records its peak RSS until it exits. */
export async function runCliProcess(argv: string[], timeoutMs: number): Promise<{ code: number; json: Record<string, unknown>; stderr: string; peakRssMiB: number }> {
  const child = spawn(process.execPath, ['bin/xsc.js', ...argv, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  let peak = 0
  const poll = setInterval(() => (peak = Math.max(peak, peakRssMiB(child.pid))), 100)
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)))
  clearInterval(poll)
  clearTimeout(killer)
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(stdout) as Record<string, unknown>
  } catch {
    // not JSON: kept in stderr for the assertion message
  }
  return { code, json, stderr: stderr || stdout, peakRssMiB: peak }
}

/** Writes `mib` MiB of random bytes to `file` one MiB at a time; returns their sha256 (src/crypto `hash`). */
export async function writeRandomFile(file: string, mib: number): Promise<string> {
  const h = createIncrementalHash()
  const f = await open(file, 'w')
  try {
    for (let i = 0; i < mib; i++) {
      const part = randomBytes(MiB)
      h.update(part)
      await f.write(part)
    }
  } finally {
    await f.close()
  }
  return toHex(h.digest())
}

export async function hashFile(file: string): Promise<string> {
  const h = createIncrementalHash()
  for await (const part of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(part as Buffer)
  return toHex(h.digest())
}

export interface LargeBlobResult {
  mib: number
  deploySeconds: number
  handoffSeconds: number
  /** `xsc get` (the default: the CLI reads the hosts' shard HTTP servers). */
  getSeconds: number
  /** `xsc get --via-node` (the validator reads the hosts and serves GET /assets/<id>), after the default read. */
  getViaNodeSeconds: number
  peakRssMiB: { validator: number; hosts: number[]; deployCli: number; getCli: number; getViaNodeCli: number }
  /** The validator serving `xsc get --via-node`: its RSS just before, and its peak during the read (VmHWM reset before it). */
  read: { validatorRssBeforeMiB: number; validatorPeakMiB: number }
}

/**
 * A blob of `mib` MiB on real processes (one validator, six hosts): `xsc deploy` (encrypted),
 * the hand-off of its six shards, `xsc get` back to a file with identical bytes; the peak RSS of
 * every process involved is measured for the caller to bound.
 */
export async function runLargeBlobScenario(name: string, mib: number, log: (line: string) => void = () => {}): Promise<LargeBlobResult> {
  const shardMiB = Math.ceil(mib / 4) + 8
  const secondsPerGiB = 600
  let net: ComputeNetwork | undefined
  try {
    net = await startComputeNetwork({
      name,
      validators: 1,
      hosts: 6,
      slotMs: 2000,
      // The ack deadline must outlast the hand-off of the whole blob on a loaded machine.
      params: { storageAckBlocks: 300 + Math.ceil((mib / 1024) * secondsPerGiB / 2) },
      hostArgs: ['--capacity', String(BigInt(shardMiB * 2) * BigInt(MiB))],
    })
    const keyFile = join(net.dir, 'owner.json')
    writeKeyFile(keyFile, net.client)
    await waitFor(async () => (await getHosts(net!.rpc(), { limit: 100 })).length >= 6, 240_000, 'six hosts to join')
    const rpc = net.validators[0]!.rpc
    const file = join(net.dir, 'large.bin')
    const expected = await writeRandomFile(file, mib)
    log(`wrote ${mib} MiB`)

    const timeoutS = 300 + Math.ceil((mib / 1024) * secondsPerGiB)
    let t = performance.now()
    const deployed = await runCliProcess(['deploy', file, '--key', keyFile, '--kind', 'blob', '--bid', '10', '--wait', '--timeout', String(timeoutS), '--rpc', rpc], timeoutS * 1000)
    if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`)
    const deploySeconds = (performance.now() - t) / 1000
    const assetId = deployed.json.assetId as string
    log(`deployed ${assetId} in ${deploySeconds.toFixed(1)} s (${(mib / deploySeconds).toFixed(1)} MiB/s of blob: the client's manifest pass, then the upload), CLI peak RSS ${deployed.peakRssMiB} MiB`)

    t = performance.now()
    const shardsOn = async (i: number): Promise<number> => {
      const text = await fetch(`${net!.hosts[i]!.rpc}/metrics`, { headers: { connection: 'close' } }).then((r) => r.text(), () => '')
      return Number(/^xsc_host_shards(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0)
    }
    await waitFor(async () => (await Promise.all(net!.hosts.map((_, i) => shardsOn(i)))).reduce((a, b) => a + b, 0) >= 6, timeoutS * 1000, 'six shards handed to the hosts')
    const handoffSeconds = (performance.now() - t) / 1000
    log(`hand-off done in ${handoffSeconds.toFixed(1)} s (${(1.5 * mib / handoffSeconds).toFixed(1)} MiB/s of shard bytes, coding included); peak RSS so far: validator ${peakRssMiB(net.validators[0]!.child.pid)} MiB, hosts ${net.hosts.map((h) => peakRssMiB(h?.child.pid)).join(', ')} MiB`)

    // `xsc get` as a user runs it: straight from the hosts' shard HTTP servers (the default).
    t = performance.now()
    const out = join(net.dir, 'large.out')
    const got = await runCliProcess(['get', assetId, '--out', out, '--key', keyFile, '--rpc', rpc], timeoutS * 1000)
    if (got.code !== 0) throw new Error(`get failed: ${got.stderr}`)
    const getSeconds = (performance.now() - t) / 1000
    if (got.json.via !== 'hosts') throw new Error(`get read ${String(got.json.via)}, not from the hosts`)
    log(`read back from the hosts in ${getSeconds.toFixed(1)} s (${(mib * 1.048576 / getSeconds).toFixed(1)} MB/s), CLI peak RSS ${got.peakRssMiB} MiB`)
    const actual = await hashFile(out)
    if (actual !== expected) throw new Error(`read back ${actual}, wrote ${expected}`)
    rmSync(out)

    // Through the validator (--via-node): everything before (upload, hand-off) is in its VmHWM, so measure this read alone.
    const validatorPid = net.validators[0]!.child.pid
    const peakBeforeRead = peakRssMiB(validatorPid)
    resetPeakRss(validatorPid)
    const validatorRssBeforeMiB = rssMiB(validatorPid)
    t = performance.now()
    const viaNode = await runCliProcess(['get', assetId, '--out', out, '--key', keyFile, '--via-node', '--rpc', rpc], timeoutS * 1000)
    if (viaNode.code !== 0) throw new Error(`get --via-node failed: ${viaNode.stderr}`)
    const getViaNodeSeconds = (performance.now() - t) / 1000
    const validatorPeakMiB = peakRssMiB(validatorPid)
    log(`read back through the validator in ${getViaNodeSeconds.toFixed(1)} s; validator RSS ${validatorRssBeforeMiB} MiB before, peak ${validatorPeakMiB} MiB during the read`)
    const viaNodeHash = await hashFile(out)
    if (viaNodeHash !== expected) throw new Error(`read back through the validator ${viaNodeHash}, wrote ${expected}`)
    return {
      mib,
      deploySeconds,
      handoffSeconds,
      getSeconds,
      getViaNodeSeconds,
      read: { validatorRssBeforeMiB, validatorPeakMiB },
      peakRssMiB: { validator: Math.max(peakBeforeRead, peakRssMiB(validatorPid)), hosts: net.hosts.map((h) => peakRssMiB(h?.child.pid)), deployCli: deployed.peakRssMiB, getCli: got.peakRssMiB, getViaNodeCli: viaNode.peakRssMiB },
    }
  } finally {
    await net?.close()
  }
}
