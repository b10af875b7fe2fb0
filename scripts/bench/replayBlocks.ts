/**
 * What a committed block costs a validator to check and commit, and what it writes, replayed from
 * a devnet's data dir (`--keep` of bench:devnet, or `idleDevnets.ts --work DIR`; stop the devnet
 * first): every block of DIR's chain goes into a fresh store the way a validator takes it (header
 * check as on arrival, `checkBlock`, `commitBlock` with its stored commit). The commit's
 * precommits are verified before the timed part, as a validator has them from the votes. Per
 * block from `--from` on: CPU ms of each stage, database ops and bytes by bucket (and state rows
 * by table prefix), entries by type. Last line: JSON.
 *
 *   npx tsx scripts/bench/replayBlocks.ts DIR/net-0/validator-1/chain [--from 20] [--genesis genesis.json] [--profile FILE] [--per-block]
 *
 * `--per-block` prints each measured block's height, kind, entries and CPU per stage (stderr).
 */
import '../../src/polyfill.ts'

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import type { Block } from '../../blocks/schema.ts'
import type { Commit } from '../../consensus/bft/messages.ts'
import { verifyCommit } from '../../consensus/bft/verifyCommit.ts'
import { computeValidatorSet } from '../../consensus/validatorSet.ts'
import { Chain } from '../../src/chain/chain.ts'
import { ChainStore } from '../../src/chain/chainStore.ts'
import { type BatchOp, Db } from '../../src/chain/db.ts'
import { readGenesisFile } from '../../src/node/genesisFile.ts'
import { round } from './support/stats.ts'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string', default: '20' }, genesis: { type: 'string', default: 'genesis.json' }, profile: { type: 'string' }, 'per-block': { type: 'boolean', default: false } } })
const FROM = Number(values.from)
const genesis = readGenesisFile(values.genesis)
const tmp = mkdtempSync(join(tmpdir(), 'xsc-replay-'))

// The source chain, copied (a store holds its directory's lock).
cpSync(positionals[0]!, join(tmp, 'src'), { recursive: true })
const source = await ChainStore.open(join(tmp, 'src'), genesis)
const blocks: { block: Block; bytes: Uint8Array; commit: Commit }[] = []
for (let h = 1; h <= source.head.height; h++) {
  const hash = (await source.getHashAtHeight(h))!
  blocks.push({ block: (await source.getBlock(hash))!, bytes: (await source.getBlockBytes(hash))!, commit: (await source.getCommit(h))! })
}
await source.close()

const chain = await Chain.open({ dataDir: join(tmp, 'replay'), genesis, signatureWorkers: 0 })
// Database writes, counted by bucket (state rows by table prefix) while `counting`.
const written = new Map<string, { ops: number; bytes: number }>()
let counting = false
const batch = Db.prototype.batch
Db.prototype.batch = function (this: Db, ops: BatchOp[], sync?: boolean) {
  if (counting) {
    for (const o of ops) {
      const name = o.key[0] === 4 ? `state 0x${o.key[1]!.toString(16).padStart(2, '0')}` : `bucket ${o.key[0]}`
      const row = written.get(name) ?? { ops: 0, bytes: 0 }
      row.ops++
      row.bytes += o.key.length + (o.type === 'put' ? o.value.length : 0)
      written.set(name, row)
    }
  }
  return batch.call(this, ops, sync)
}

const session = values.profile === undefined ? undefined : new Session()
const cpuMs = { header: 0, check: 0, commit: 0 }
const entries = new Map<string, number>()
let measured = 0
const cpu = (): number => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}
for (const { block, bytes, commit } of blocks) {
  const measure = block.header.height >= FROM
  if (measure && measured === 0 && session !== undefined) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
    await session.post('Profiler.start')
  }
  // A validator verified these precommits as votes before the commit formed.
  verifyCommit(commit, { chainId: genesis.chainId, validators: computeValidatorSet(chain.validators()), height: block.header.height, blockId: commit.blockId })
  counting = measure
  const t0 = cpu()
  chain.verifyProposalHeader(block.header)
  const t1 = cpu()
  await chain.checkBlock(block, commit.round)
  const t2 = cpu()
  await chain.commitBlock(block, commit, bytes)
  const t3 = cpu()
  counting = false
  if (!measure) continue
  measured++
  cpuMs.header += t1 - t0
  cpuMs.check += t2 - t1
  cpuMs.commit += t3 - t2
  for (const e of block.entries) entries.set(e.type, (entries.get(e.type) ?? 0) + 1)
  if (values['per-block']) console.error(JSON.stringify({ height: block.header.height, kind: block.header.kind, entries: block.entries.length, bytes: bytes.length, headerMs: round(t1 - t0, 2), checkMs: round(t2 - t1, 2), commitMs: round(t3 - t2, 2) }))
}
if (session !== undefined) {
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(values.profile!, JSON.stringify(profile))
}
await chain.close()
rmSync(tmp, { recursive: true, force: true })

const per = (n: number): number => round(n / Math.max(1, measured), 3)
const writesPerBlock = Object.fromEntries([...written].sort().map(([k, v]) => [k, { ops: per(v.ops), bytes: Math.round(v.bytes / Math.max(1, measured)) }]))
console.log(JSON.stringify({
  blocks: measured,
  cpuMsPerBlock: { header: per(cpuMs.header), check: per(cpuMs.check), commit: per(cpuMs.commit), total: per(cpuMs.header + cpuMs.check + cpuMs.commit) },
  entriesPerBlock: Object.fromEntries([...entries].map(([k, v]) => [k, per(v)])),
  emptyBlocks: blocks.filter((b) => b.block.header.height >= FROM && b.block.entries.length === 0).length,
  writeOpsPerBlock: per([...written.values()].reduce((s, v) => s + v.ops, 0)),
  writeBytesPerBlock: Math.round([...written.values()].reduce((s, v) => s + v.bytes, 0) / Math.max(1, measured)),
  writesPerBlock,
  load: round(loadavg()[0]!, 1),
}))
