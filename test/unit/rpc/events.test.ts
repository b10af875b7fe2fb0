import { describe, expect, it } from 'vitest'
import { txId } from '../../../blocks/ids.ts'
import type { Block, BlockEntry, SignedTx, TxPayload } from '../../../blocks/schema.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'
import type { RpcEvent, StoredBlock } from '../../../src/rpc/backend.ts'
import { computeBlockEvents, createEventHub } from '../../../src/rpc/events.ts'
import { RpcBackendError } from '../../../src/rpc/backend.ts'
import { sampleHost } from './rpcTestKit.ts'

const addr = (s: string): Uint8Array => hash(utf8(s))
const tx = (from: Uint8Array, payload: TxPayload): SignedTx => ({ body: { chainId: 'xsc-test', from, nonce: 0, fee: 0n, payload }, signature: new Uint8Array(64) })

function stored(height: number, entries: BlockEntry[]): StoredBlock {
  const block: Block = {
    header: { chainId: 'xsc-test', height, prevHash: new Uint8Array(32), kind: 'ledger', slot: height, timestamp: 0n, proposer: addr('p'), bodyRoot: new Uint8Array(32), stateRoot: new Uint8Array(32), proofs: [], signature: new Uint8Array(64) },
    entries,
  }
  return { block, hash: addr(`block ${height}`) }
}

describe('computeBlockEvents', () => {
  it('derives new head, host txs, scheduled executions, receipts, completion and reputation from the block', () => {
    const host = sampleHost(addr('h1'))
    const exec = tx(addr('client'), { type: 'execute', asset: addr('a'), fn: 'f', input: new Uint8Array(), fuelLimit: 1n, bidPerFuel: 1n, replicas: 1, quorum: 1, private: false, deadlineSlots: 1, origin: { x: 0, y: 0, z: 0 } })
    const execId = addr('exec')
    const b = stored(7, [
      { type: 'tx', tx: tx(addr('h1'), { type: 'host.join', host: host.record.params }) },
      { type: 'tx', tx: tx(addr('x'), { type: 'transfer', to: addr('y'), amount: 1n }) },
      { type: 'tx', tx: tx(addr('h2'), { type: 'host.leave' }) },
    ])
    const events = computeBlockEvents(b)
    expect(events.map((e) => `${e.topic}:${'kind' in e ? e.kind : ''}`)).toEqual(['newHeads:', 'hostEvents:joined', 'hostEvents:left'])

    const c = stored(8, [{ type: 'execution', tx: exec, assignment: [addr('h1')], escrow: 5n }])
    expect(computeBlockEvents(c)[1]).toEqual({ topic: 'execution', height: 8, executionId: txId(exec), stage: 'scheduled', host: undefined })

    const receipt = { body: { chainId: 'xsc-test', executionId: execId, host: addr('h1'), outcome: 0, resultHash: addr('r'), fuelUsed: 3n, writeSetHash: addr('w'), output: new Uint8Array() }, signature: new Uint8Array(64) }
    const d = stored(9, [{
      type: 'completion', executionId: execId, status: 1, outcome: 0, resultHash: addr('r'), fuelUsed: 3n, output: new Uint8Array(), writeSet: [], receipts: [receipt], payouts: [], refund: 0n, burn: 0n,
      reputation: [{ host: addr('h1'), before: 5000, after: 4500, cause: 4 }],
    }])
    const de = computeBlockEvents(d)
    expect(de.map((e) => (e.topic === 'execution' ? e.stage : e.topic))).toEqual(['newHeads', 'receipt', 'failed', 'hostEvents'])
    expect(de[3]).toMatchObject({ host: addr('h1'), kind: 'reputation', reputation: { height: 9, cause: 4, before: 5000, after: 4500, subject: execId } })
  })
})

describe('createEventHub', () => {
  it('numbers events per height, delivers them live and replays matching ones from a height', async () => {
    const hub = createEventHub()
    const live: RpcEvent[] = []
    hub.listen((e) => live.push(e))
    for (let h = 0; h < 5; h++) {
      hub.publish(computeBlockEvents(stored(h, [])))
      hub.publish([{ topic: 'execution', height: h, executionId: addr('e'), stage: 'receipt', host: undefined }])
    }
    expect(live.filter((e) => e.height === 3).map((e) => e.index)).toEqual([0, 1])
    const replay = await hub.replay({ topic: 'execution', executionId: addr('e') }, 2)
    expect(replay.map((e) => [e.height, e.index])).toEqual([[2, 1], [3, 1], [4, 1]])
    expect(await hub.replay({ topic: 'execution', executionId: addr('other') }, 0)).toEqual([])
  })

  it('keeps only the last historyBlocks blocks and refuses older replays with HISTORY_UNAVAILABLE', async () => {
    const hub = createEventHub({ historyBlocks: 10 })
    for (let h = 0; h < 10_000; h++) hub.publish(computeBlockEvents(stored(h, [])))
    const heads = await hub.replay({ topic: 'newHeads' }, 9990)
    expect(heads.map((e) => e.height)).toEqual([9990, 9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999])
    const err = await hub.replay({ topic: 'newHeads' }, 5).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RpcBackendError)
    expect((err as RpcBackendError).code).toBe('HISTORY_UNAVAILABLE')
  })
})
