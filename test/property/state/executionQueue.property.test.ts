import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { receiptSigningHash } from '../../../blocks/ids.ts'
import { ASSET_KIND, COMPLETION_STATUS, type CompletionEntry, type KvWrite, OUTCOME, type ReceiptBody } from '../../../blocks/schema.ts'
import { buildCompletions } from '../../../src/chain/produceBlock/buildCompletions.ts'
import { ReceiptPool } from '../../../src/chain/receiptPool.ts'
import { type ComputePool, computeResultHash, computeWriteSetHash, type ExecutionResult } from '../../../src/compute/index.ts'
import { hash, sign, toHex, utf8, ZERO_HASH } from '../../../src/crypto/index.ts'
import { ExecutionThreads } from '../../../src/node/executionThreads.ts'
import { applyCompletion } from '../../../src/state/applyCompletion.ts'
import type { ApplyContext } from '../../../src/state/applyContext.ts'
import { enqueueExecution, pendingExecutionsOf } from '../../../src/state/executionQueue.ts'
import { ASSET_STATUS, EXECUTION_STATUS } from '../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { testGenesis, testKey } from '../../support/chainFixtures.ts'

/**
 * Random interleavings of executions of one asset (the counter: each adds its step), hosts that
 * see the chain late, blocks at random moments and heads that miss their deadline: whatever the
 * order, the agreed executions take effect in queue order, each reading what the one before left.
 * Real queue rules, receipt pool, block production, completion and host threading; the WASM
 * runtime is stood in by the counter's semantics in JS (the devnet test runs the real fixture).
 */
const COUNT = utf8('count')
const hosts = [0, 1, 2].map((i) => testKey(`queue-prop-host-${i}`))
const genesis = testGenesis()
const proposer = testKey('queue-prop-validator').publicKey
const asset = hash(utf8('queue-prop-asset'))

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
const readU32 = (b: Uint8Array | undefined): number => (b === undefined ? 0 : new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true))

/** The counter fixture's semantics: count += step; output the new count. */
const counterPool = {
  size: 1,
  deploy: async () => {},
  close: async () => {},
  execute: async (job) => {
    const count = readU32(job.state(COUNT)) + readU32(job.input)
    const output = u32(count)
    const writeSet: KvWrite[] = [{ key: COUNT, value: output }]
    return { outcome: OUTCOME.ok, reason: '', output, fuelUsed: 10n, logs: [], writeSet, resultHash: computeResultHash(OUTCOME.ok, output), writeSetHash: computeWriteSetHash(writeSet) } satisfies ExecutionResult
  },
} satisfies ComputePool

function copyOf(state: MemoryState): MemoryState {
  const out = new MemoryState()
  out.apply(state.scan(new Uint8Array(0)))
  return out
}

type Op =
  | { kind: 'submit'; step: number; hostMask: number; quorumOf: number; deadlineSlots: number }
  | { kind: 'sync'; host: number }
  | { kind: 'block' }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('submit' as const), step: fc.integer({ min: 1, max: 9 }), hostMask: fc.integer({ min: 1, max: 7 }), quorumOf: fc.integer({ min: 1, max: 3 }), deadlineSlots: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('sync' as const), host: fc.integer({ min: 0, max: 2 }) }),
  fc.constant({ kind: 'block' as const }),
  fc.constant({ kind: 'block' as const }),
)

async function run(ops: Op[]): Promise<void> {
  const committed = new MemoryState()
  const setup = new StateOverlay(committed)
  setup.write(TABLES.asset.at(asset), {
    owner: proposer, kind: ASSET_KIND.module,
    manifest: { size: 1n, dataHash: ZERO_HASH, k: 1, m: 0, segmentSize: 1, shardSize: 1n, chunkSize: 1, shardHashes: [ZERO_HASH], chunkRoots: [ZERO_HASH] },
    placement: [hosts[0]!.publicKey], shardFailures: [0], deposit: 0n, bidPerByteEpoch: 0n, createdHeight: 0, status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined,
  })
  committed.apply(setup.writeSet())
  const pool = new ReceiptPool(genesis.chainId)
  const views = hosts.map(() => copyOf(committed))
  // Receipts are sent inside a pass's hold (one message per pass), and every hold is released.
  const holds = hosts.map(() => 0)
  const threads = hosts.map((key, h) => new ExecutionThreads({
    state: () => views[h]!,
    pool: counterPool,
    address: key.publicKey,
    loadModule: async () => new Uint8Array(0),
    holdReceipts: () => {
      holds[h]!++
      let released = false
      return () => {
        if (!released) holds[h]!--
        released = true
      }
    },
    sendReceipt: async (executionId, preStateHash, r) => {
      expect(holds[h]).toBeGreaterThan(0)
      const body: ReceiptBody = { chainId: genesis.chainId, executionId, host: key.publicKey, outcome: r.outcome, resultHash: r.resultHash, fuelUsed: r.fuelUsed, writeSetHash: r.writeSetHash, output: r.output, preStateHash }
      try {
        pool.add({ body, signature: sign(key.secretKey, receiptSigningHash(body)) }, r.writeSet, committed)
      } catch {
        // settled meanwhile: as on the network, a late receipt is dropped
      }
    },
    onError: (_a, err) => {
      throw err
    },
  }))
  const steps = new Map<string, { seq: bigint; step: number }>()
  const settled: CompletionEntry[] = []
  let slot = 0
  let height = 0
  let n = 0

  const sync = async (h: number): Promise<void> => {
    views[h] = copyOf(committed)
    threads[h]!.poke(asset)
    await threads[h]!.idle()
    expect(holds[h]).toBe(0)
  }
  const block = (): void => {
    slot++
    height++
    const ctx: ApplyContext = { genesis, height, slot, proposer, prevHash: ZERO_HASH, beaconMix: ZERO_HASH, baseFee: 0n }
    const entries = buildCompletions(new StateOverlay(committed), ctx, pool, 1000)
    // Validators apply what the proposer built, through the same rules.
    const next = new StateOverlay(committed)
    for (const e of entries) applyCompletion(next, e, ctx)
    committed.apply(next.writeSet())
    pool.prune(committed)
    settled.push(...entries)
  }

  for (const o of ops) {
    if (o.kind === 'submit') {
      const id = hash(utf8(`execution-${n++}`))
      const assignment = hosts.filter((_, i) => (o.hostMask >> i) & 1).map((k) => k.publicKey)
      const s = new StateOverlay(committed)
      const seq = enqueueExecution(s, asset, id, slot)
      s.write(TABLES.execution.at(id), {
        client: proposer, asset, fn: 'run', input: u32(o.step), fuelLimit: 100n, bidPerFuel: 1n, replicas: assignment.length, quorum: Math.min(o.quorumOf, assignment.length),
        private: false, assignment, escrow: 10n ** 9n, startSlot: slot, deadlineSlot: slot + o.deadlineSlots, status: EXECUTION_STATUS.pending, origin: { x: 0, y: 0, z: 0 }, seq, agreed: undefined,
      })
      committed.apply(s.writeSet())
      steps.set(toHex(id), { seq, step: o.step })
    } else if (o.kind === 'sync') await sync(o.host)
    else block()
  }
  // Liveness: once every host catches up, the queue drains.
  for (let i = 0; i < 4 * steps.size + 4 && pendingExecutionsOf(committed, asset).length > 0; i++) {
    for (let h = 0; h < hosts.length; h++) await sync(h)
    block()
  }
  expect(pendingExecutionsOf(committed, asset)).toEqual([])
  expect(settled).toHaveLength(steps.size)

  // Settled in queue order, each agreed one reading what the agreed ones before it left.
  const seqs = settled.map((e) => steps.get(toHex(e.executionId))!.seq)
  expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
  let count = 0
  for (const e of settled) {
    const ex = committed.get(TABLES.execution.key(e.executionId))!
    if (e.status !== COMPLETION_STATUS.agreed) continue
    count += steps.get(toHex(e.executionId))!.step
    expect(readU32(e.output)).toBe(count)
    expect(ex).toBeDefined()
  }
  expect(readU32(committed.get(TABLES.assetKv.key(asset, COUNT)))).toBe(count)
}

describe('linearizable executions of one asset', () => {
  it('any interleaving of submissions, late hosts and blocks gives the sequential result', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), run), { numRuns: 100 })
  }, 120_000)

  it('a head that fails at its deadline leaves the next execution to re-run: the speculative receipt (it assumed the head wrote) settles nothing', async () => {
    await run([
      { kind: 'submit', step: 5, hostMask: 1, quorumOf: 1, deadlineSlots: 1 },
      { kind: 'submit', step: 2, hostMask: 2, quorumOf: 1, deadlineSlots: 1 },
      { kind: 'sync', host: 1 },
      { kind: 'block' }, { kind: 'block' }, { kind: 'block' },
    ])
  })

  it('with every host in sync, all of them agree: the counter ends at the sum of the steps', async () => {
    await run([
      ...[3, 1, 4, 1, 5].map((step) => ({ kind: 'submit' as const, step, hostMask: 7, quorumOf: 2, deadlineSlots: 5 })),
      { kind: 'sync', host: 0 }, { kind: 'sync', host: 1 }, { kind: 'sync', host: 2 }, { kind: 'block' },
    ])
  })
})
