import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { executionKeysSigningHash } from '../../../blocks/ids.ts'
import { BlockEntry, COMPLETION_STATUS, type ExecutionKeys, OUTCOME } from '../../../blocks/schema.ts'
import { executePrivate, EXECUTION_STATUS, getBlock, getChainStatus, getExecution, getHost, RpcClientError, waitForExecution, waitForPrivateExecution } from '../../../src/client/index.ts'
import { wrapExecutionKey } from '../../../src/compute/privateExecutionCipher.ts'
import { hash, sign } from '../../../src/crypto/index.ts'
import { type ComputeNetwork, startComputeNetwork } from '../../support/computeNetwork.ts'
import { waitFor } from '../../support/nodeProcess.ts'

let net: ComputeNetwork
beforeAll(async () => {
  net = await startComputeNetwork({ name: 'private', validators: 2, hosts: 6, slotMs: 1000, hostCaps: 'storage,compute,private' })
}, 120_000)
afterAll(async () => {
  await net?.close()
})

/** Every file under `dir` (skipping ones renamed away while we walk). */
function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    try {
      if (statSync(p).isDirectory()) out.push(...filesUnder(p))
      else out.push(p)
    } catch {
      // vanished (a temp file renamed): nothing to read
    }
  }
  return out
}

const contains = (hay: Uint8Array, needle: Uint8Array): boolean => Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(Buffer.from(needle)) >= 0

describe('private executions (real node processes)', () => {
  it('input and output appear in no block and no data directory; the client alone reads the output', async () => {
    await net.waitForHosts(6)
    const rpc = net.rpc()
    const asset = await net.deployFixture('fixtures/wasm/sha256.wasm')
    // Random bytes: incompressible, so a copy stored anywhere (even in a compressed LevelDB block) would show verbatim.
    const input = new Uint8Array(randomBytes(256))
    const expected = hash(input)
    const { id, key } = await executePrivate(rpc, { account: net.client, asset, fn: 'run', input, fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 60 })
    const done = await waitForPrivateExecution(rpc, { id, key, account: net.client, timeoutMs: 150_000 })
    expect(done.completion.entry.status).toBe(COMPLETION_STATUS.agreed)
    expect(done.completion.entry.outcome).toBe(OUTCOME.ok)
    expect(done.plaintextOutput).toEqual(expected)
    expect(done.completion.entry.output).not.toEqual(expected)
    expect(done.completion.entry.receipts.length).toBeGreaterThanOrEqual(2)

    // Blocks, read over RPC and re-encoded to their wire bytes: ciphertext only.
    const head = (await getChainStatus(rpc)).head.height
    let sawCiphertext = false
    let storedInput: Uint8Array | undefined
    for (let h = 0; h <= head; h++) {
      const block = await getBlock(rpc, { height: h, includeEntries: true })
      for (const entry of block?.entries ?? []) {
        const bytes = encode(BlockEntry, entry)
        expect(contains(bytes, input.subarray(0, 32))).toBe(false)
        expect(contains(bytes, input.subarray(200, 232))).toBe(false)
        expect(contains(bytes, expected)).toBe(false)
        sawCiphertext ||= contains(bytes, done.completion.entry.output)
        if (entry.type === 'execution' && entry.tx.body.payload.type === 'execute' && entry.tx.body.payload.private) storedInput ??= entry.tx.body.payload.input
      }
    }
    expect(sawCiphertext).toBe(true) // the search does find what is there
    expect(storedInput?.length).toBe(input.length + 60)

    // Every node's data directory (hosts and validators: chain stores, shard stores, mempools).
    let files = 0
    let sawStoredCiphertext = false
    for (const file of filesUnder(net.dir)) {
      let bytes: Uint8Array
      try {
        bytes = readFileSync(file)
      } catch {
        continue
      }
      files++
      for (let off = 0; off + 32 <= input.length; off += 32) expect(contains(bytes, input.subarray(off, off + 32)), `${file} holds plaintext input`).toBe(false)
      expect(contains(bytes, expected), `${file} holds plaintext output`).toBe(false)
      sawStoredCiphertext ||= contains(bytes, storedInput!.subarray(64, 96))
    }
    expect(files).toBeGreaterThan(10)
    // The same scan finds the ciphertext input the chain stores keep: it would find plaintext too.
    expect(sawStoredCiphertext).toBe(true)
  }, 300_000)

  it('a delivery not signed by the client is refused with a typed error; undelivered keys expire with a full refund and no host blamed', async () => {
    const rpc = net.rpc()
    const asset = await net.deployFixture('fixtures/wasm/sha256.wasm')
    const { id, key } = await executePrivate(rpc, { account: net.client, asset, fn: 'run', input: new Uint8Array([1, 2, 3]), fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 5 })
    const ex = await waitFor(() => getExecution(rpc, { id }), 60_000, 'the execution block')
    const recipients = await Promise.all(ex.record.assignment.map(async (host) => ({ host, encryptionKey: (await getHost(rpc, { address: host }))?.record.params.encryptionKey })))
    expect(recipients.every((r) => r.encryptionKey !== undefined)).toBe(true)
    const { ephemeralKey, keys } = wrapExecutionKey(key, id, recipients)
    const body = { chainId: net.genesis.chainId, executionId: id, ephemeralKey, keys }
    const forged: ExecutionKeys = { body, signature: sign(net.hostKeys[5]!.secretKey, executionKeysSigningHash(body)) }
    const refusal = await rpc.request('xsc_deliverExecutionKeys', [forged]).then(() => undefined, (e: unknown) => e)
    expect(refusal).toBeInstanceOf(RpcClientError)
    expect((refusal as RpcClientError).details).toMatchObject({ data: { reason: 'BAD_DELIVERY' } })
    // The client never delivers: no host can run it; at the deadline it fails, all escrow back, no reputation moves.
    // (5 slots: the forged delivery above is refused in well under one; each slot more is 1 s of npm test.)
    const done = await waitForExecution(rpc, { id, timeoutMs: 120_000 })
    expect(done.record.status).toBe(EXECUTION_STATUS.failed)
    expect(done.completion.entry.status).toBe(COMPLETION_STATUS.failed)
    expect(done.completion.entry.receipts).toEqual([])
    expect(done.completion.entry.refund).toBe(done.record.escrow)
    expect(done.completion.entry.reputation).toEqual([])
  }, 200_000)
})
