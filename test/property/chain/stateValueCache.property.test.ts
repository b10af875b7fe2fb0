import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { Chain } from '../../../src/chain/chain.ts'
import { Bucket, bucketKey, Db } from '../../../src/chain/db.ts'
import { StateValueStore } from '../../../src/chain/stateStore.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { applyBlock } from '../../../src/state/applyBlock.ts'
import { readBeaconMix } from '../../../src/state/beaconState.ts'
import { computeGenesis } from '../../../src/state/genesis.ts'
import { StateTreeError } from '../../../src/state/stateTree/index.ts'
import { MemoryState } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const validator = testKey('prop-svc-validator')
const funded = Array.from({ length: 4 }, (_, i) => testKey(`prop-svc-funded-${i}`))
// Recipients include accounts that do not exist yet (created by their first credit).
const recipients = [...funded, ...Array.from({ length: 4 }, (_, i) => testKey(`prop-svc-new-${i}`))]
const genesis = testGenesis({ validators: [validator], funded: funded.map((key) => ({ key, amount: 10_000n })), schemes: ['stake'] })
const T0 = Number(genesis.genesisTime)

const transferArb = fc.record({ from: fc.nat(funded.length - 1), to: fc.nat(recipients.length - 1), amount: fc.bigInt(0n, 3_000n) })
/** Blocks of random transfers, and after which block the cached node restarts (cold caches). */
const runArb = fc.record({ blocks: fc.array(fc.array(transferArb, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), restartAfter: fc.nat(5) })

describe('accounts served from disk', () => {
  it('random blocks over a one-entry value cache (and a tiny tree cache) give the same admissions, blocks, state roots and values as state held wholly in memory', async () => {
    await fc.assert(
      fc.asyncProperty(runArb, async ({ blocks, restartAfter }) => {
        const tiny = tempDir()
        const roomy = tempDir()
        const opts = { genesis, validatorKey: validator, signatureWorkers: 0 }
        let cached = await Chain.open({ ...opts, dataDir: tiny.dir, valueCacheEntries: 1, treeCacheNodes: 2 })
        const whole = await Chain.open({ ...opts, dataDir: roomy.dir })
        // The reference: every value in a MemoryState, the blocks replayed through the pure transition.
        const g = computeGenesis(genesis)
        const reference = new MemoryState()
        reference.apply(g.writes)
        const nonces = new Map<number, number>()
        try {
          for (const [b, txs] of blocks.entries()) {
            for (const t of txs) {
              const nonce = nonces.get(t.from) ?? 0
              const tx = transfer(funded[t.from]!, nonce, recipients[t.to]!.publicKey, t.amount)
              const outcome = async (chain: Chain) => chain.submitTx(tx).then(() => 'admitted', (e: unknown) => (e as { code?: string }).code ?? String(e))
              const [a, w] = [await outcome(cached), await outcome(whole)]
              expect(a).toBe(w)
              if (a === 'admitted') nonces.set(t.from, nonce + 1)
            }
            const slot = b + 1
            const made = (await cached.produceBlock(slot, T0 + slot * genesis.slotMs))!
            const twin = (await whole.produceBlock(slot, T0 + slot * genesis.slotMs))!
            expect(toHex(made.hash)).toBe(toHex(twin.hash))
            const h = made.block.header
            const replay = applyBlock(reference, made.block, reference.root, { genesis, height: h.height, slot: h.slot, proposer: h.proposer, prevHash: h.prevHash, beaconMix: readBeaconMix(reference), baseFee: h.baseFee, signaturesChecked: true })
            reference.apply(replay.writes)
            expect(toHex(reference.root)).toBe(toHex(h.stateRoot))
            if (b === restartAfter) {
              await cached.close()
              cached = await Chain.open({ ...opts, dataDir: tiny.dir, valueCacheEntries: 1, treeCacheNodes: 2 })
            }
          }
          // Every value, read back through the one-entry cache, is the reference's.
          for (const w of reference.scan(new Uint8Array(0))) {
            const got = await cached.store.readLoaded([w.key], () => cached.store.state.get(w.key))
            expect(got && toHex(got), toHex(w.key)).toBe(toHex(w.value!))
          }
        } finally {
          await cached.close()
          await whole.close()
          tiny.cleanup()
          roomy.cleanup()
        }
      }),
      { numRuns: 15 },
    )
  }, 120_000)
})

type CacheOp = { op: 'commit'; key: number; value: number | undefined } | { op: 'load'; keys: number[] } | { op: 'trim' } | { op: 'get'; key: number }
const keyOf = (n: number) => TABLES.account.key(testKey(`prop-svc-key-${n}`).publicKey)
const cacheOpArb: fc.Arbitrary<CacheOp> = fc.oneof(
  fc.record({ op: fc.constant('commit' as const), key: fc.nat(7), value: fc.option(fc.nat(255), { nil: undefined }) }),
  fc.record({ op: fc.constant('load' as const), keys: fc.array(fc.nat(7), { maxLength: 4 }) }),
  fc.record({ op: fc.constant('trim' as const) }),
  fc.record({ op: fc.constant('get' as const), key: fc.nat(7) }),
)

describe('StateValueStore', () => {
  it('under random commits, loads and evictions a read is the committed value or NOT_LOADED, never a stale or absent one', async () => {
    const tmp = tempDir()
    const db = await Db.open(tmp.dir)
    try {
      let run = 0
      await fc.assert(
        fc.asyncProperty(fc.array(cacheOpArb, { maxLength: 40 }), fc.integer({ min: 1, max: 3 }), async (ops, bound) => {
          // Each run starts on an empty bucket: the keys of earlier runs are deleted.
          await db.batch(Array.from({ length: 8 }, (_, n) => ({ type: 'del' as const, key: bucketKey(Bucket.state, keyOf(n)) })))
          run++
          const values = new StateValueStore(db, bound)
          const truth = new Map<number, number>()
          for (const o of ops) {
            if (o.op === 'commit') {
              // As ChainStore commits: the batch lands, then the cache takes the writes, then it is trimmed.
              const value = o.value === undefined ? undefined : new Uint8Array([o.value, run & 0xff])
              await db.batch([value === undefined ? { type: 'del', key: bucketKey(Bucket.state, keyOf(o.key)) } : { type: 'put', key: bucketKey(Bucket.state, keyOf(o.key)), value }])
              values.apply([{ key: keyOf(o.key), value }])
              values.trim()
              if (o.value === undefined) truth.delete(o.key)
              else truth.set(o.key, o.value)
            } else if (o.op === 'load') await values.load(o.keys.map(keyOf))
            else if (o.op === 'trim') values.trim()
            else {
              let got: Uint8Array | undefined | 'NOT_LOADED'
              try {
                got = values.get(keyOf(o.key))
              } catch (e) {
                if (!(e instanceof StateTreeError) || e.code !== 'NOT_LOADED') throw e
                got = 'NOT_LOADED'
              }
              if (got !== 'NOT_LOADED') expect(got?.[0]).toBe(truth.get(o.key))
            }
          }
        }),
        { numRuns: 200 },
      )
    } finally {
      await db.close()
      tmp.cleanup()
    }
  })
})
