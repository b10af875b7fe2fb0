/**
 * CPU of one durable sign-guard slot write, off the event loop as `SignGuard.admitAllDurably` does
 * it, two ways on the same file (alternated over `--rounds`, medians): `write` then `fdatasync`
 * (two trips through libuv's thread pool, two callbacks on the main thread; the session 7-13 code)
 * against one `write` on a file opened with O_DSYNC (the write returns once the data is on disk:
 * the same guarantee, one trip). Reports main-thread and whole-process CPU µs per durable write
 * (/proc per thread) and wall µs. Linux only (/proc, O_DSYNC).
 *
 *   npx tsx scripts/bench/signGuardWrite.ts --writes 400 --rounds 5 [--dir /tmp]
 */
import { closeSync, constants, fdatasync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, write, writeSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { writes: { type: 'string', default: '400' }, rounds: { type: 'string', default: '5' }, dir: { type: 'string', default: tmpdir() } } })
const writes = Number(values.writes)
const dir = mkdtempSync(join(values.dir, 'xsc-signguard-write-'))
const SLOT = 256
const file = join(dir, 'sign-state')
const init = openSync(file, 'w')
writeSync(init, new Uint8Array(2 * SLOT))
closeSync(init)

/** Clock ticks (user + system) of this process's main thread and of all its threads. */
function ticks(): { main: number; all: number } {
  let all = 0
  let main = 0
  for (const t of readdirSync('/proc/self/task')) {
    const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8')
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
    const used = Number(rest[11]) + Number(rest[12])
    all += used
    if (t === String(process.pid)) main = used
  }
  return { main, all }
}

const slot = new Uint8Array(SLOT)
const writeThenSync = (fd: number, offset: number): Promise<void> =>
  new Promise((resolve, reject) => write(fd, slot, 0, SLOT, offset, (err) => (err ? reject(err) : fdatasync(fd, (e) => (e ? reject(e) : resolve())))))
const dsyncWrite = (fd: number, offset: number): Promise<void> => new Promise((resolve, reject) => write(fd, slot, 0, SLOT, offset, (err) => (err ? reject(err) : resolve())))

const ways = {
  writeThenFdatasync: { flags: constants.O_RDWR, once: writeThenSync },
  oDsyncWrite: { flags: constants.O_RDWR | constants.O_DSYNC, once: dsyncWrite },
}
const res: Record<string, { mainUs: number[]; allUs: number[]; wallUs: number[] }> = { writeThenFdatasync: { mainUs: [], allUs: [], wallUs: [] }, oDsyncWrite: { mainUs: [], allUs: [], wallUs: [] } }
const TICK_US = 10_000 // USER_HZ 100
for (let r = 0; r < Number(values.rounds); r++) {
  for (const [name, way] of Object.entries(ways)) {
    const fd = openSync(file, way.flags)
    const t0 = ticks()
    const w0 = process.hrtime.bigint()
    for (let i = 0; i < writes; i++) {
      slot[0] = i & 0xff
      await way.once(fd, (i % 2) * SLOT)
    }
    const wall = Number(process.hrtime.bigint() - w0) / 1000
    const t1 = ticks()
    closeSync(fd)
    res[name]!.mainUs.push(((t1.main - t0.main) * TICK_US) / writes)
    res[name]!.allUs.push(((t1.all - t0.all) * TICK_US) / writes)
    res[name]!.wallUs.push(wall / writes)
  }
}
rmSync(dir, { recursive: true, force: true })
const summary = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, { mainCpuUsPerWrite: round(median(v.mainUs), 1), processCpuUsPerWrite: round(median(v.allUs), 1), wallUsPerWrite: round(median(v.wallUs), 1), rounds: v.mainUs.map((x) => round(x, 1)) }]))
console.log(JSON.stringify({ bench: 'signGuardWrite', writes, rounds: Number(values.rounds), ...summary, loadAvg1m: round(loadavg()[0]!, 1) }))
