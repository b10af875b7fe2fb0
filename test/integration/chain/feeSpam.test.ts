import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { TxPayload } from '../../../blocks/schema.ts'
import { buildTx, type Client, computeFeeAt, createClient, estimateFee, getBalance, getBlock, getChainStatus, getNonce, getTransaction, http, RpcClientError, sendTransaction, signTx, transfer } from '../../../src/client/index.ts'
import type { KeyPair } from '../../../src/crypto/index.ts'
import { writeGenesisFile } from '../../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { FEE_PARAM_DEFAULTS } from '../../../src/state/fees.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { type NodeProcess, startNodeProcess, waitFor } from '../../support/nodeProcess.ts'

/**
 * Spam against fees on a real node process (issue 11): txs from fresh keys are refused whatever
 * they offer (zero fee: FEE_TOO_LOW; a priced fee: nothing to pay it with), zero-value transfers
 * cannot create accounts below the existential deposit, and spam that pays the minimum fills
 * blocks, raises the base fee, and burns; an honest transfer at the client's default fee still lands.
 */
const validator = testKey('spam-validator')
const honest = testKey('spam-honest')
const spammers = Array.from({ length: 3 }, (_, i) => testKey(`spam-spammer-${i}`))
const MIN_BASE_FEE = 1n
// A small target (about a dozen transfers) so a few hundred txs overfill blocks.
const params = { ...FEE_PARAM_DEFAULTS, minFeePerByte: 1n, minBaseFee: MIN_BASE_FEE, targetBlockTxBytes: 2_000, existentialDeposit: 1_000n }
const tmp = tempDir('xsc-fee-spam-')
let node: NodeProcess
let client: Client
let chainId: string

beforeAll(async () => {
  const genesis = testGenesis({ validators: [validator], funded: [honest, ...spammers].map((key) => ({ key, amount: 10n ** 12n })), slotMs: 250, genesisTime: BigInt(Date.now()), schemes: ['stake'], params })
  writeGenesisFile(join(tmp.dir, 'genesis.json'), genesis)
  writeKeyFile(join(tmp.dir, 'validator.json'), validator)
  node = await startNodeProcess(['--data', join(tmp.dir, 'data'), '--genesis', join(tmp.dir, 'genesis.json'), '--key', join(tmp.dir, 'validator.json'), '--rpc', '127.0.0.1:0'])
  client = createClient({ transport: http(node.rpc) })
  chainId = (await getChainStatus(client)).chainId
}, 90_000)

afterAll(async () => {
  await client?.close()
  await node?.stop()
  tmp.cleanup()
})

function signed(key: KeyPair, nonce: number, payload: TxPayload, fee: bigint) {
  return signTx(buildTx({ chainId, from: key.publicKey, nonce, fee, payload }), key.secretKey)
}

async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
    return undefined
  } catch (err) {
    return err instanceof RpcClientError && 'data' in err.details ? String(err.details.data.reason) : String(err)
  }
}

describe('fees against spam (real node process)', () => {
  it('zero-fee txs from fresh keys are FEE_TOO_LOW (naming the required fee); priced ones from fresh keys are INSUFFICIENT_FUNDS; zero-value account creation is refused', async () => {
    const estimate = await estimateFee(client)
    for (let i = 0; i < 20; i++) {
      const fresh = testKey(`spam-fresh-${i}`)
      const payload: TxPayload = { type: 'transfer', to: testKey(`spam-sink-${i}`).publicKey, amount: 0n }
      try {
        await sendTransaction(client, { tx: signed(fresh, 0, payload, 0n) })
        expect.unreachable()
      } catch (err) {
        expect(err).toBeInstanceOf(RpcClientError)
        const details = (err as RpcClientError).details
        expect('data' in details && details.data.reason).toBe('FEE_TOO_LOW')
        expect(BigInt(String((details as { data: Record<string, unknown> }).data.required))).toBeGreaterThan(0n)
      }
      const fee = computeFeeAt({ chainId, from: fresh.publicKey, nonce: 0, payload }, estimate.feePerByte)
      expect(await refusal(sendTransaction(client, { tx: signed(fresh, 0, payload, fee) }))).toBe('INSUFFICIENT_FUNDS')
    }
    // A funded sender cannot create a fresh account with a zero-value transfer either.
    const sink = testKey('spam-zero-sink').publicKey
    const nonce = await getNonce(client, { address: spammers[0]!.publicKey })
    const payload: TxPayload = { type: 'transfer', to: sink, amount: 0n }
    expect(await refusal(sendTransaction(client, { tx: signed(spammers[0]!, nonce, payload, computeFeeAt({ chainId, from: spammers[0]!.publicKey, nonce, payload }, estimate.feePerByte)) }))).toBe('BELOW_EXISTENTIAL_DEPOSIT')
    expect(await getBalance(client, { address: sink })).toBe(0n)
  }, 60_000)

  it('spam at the minimum fee fills blocks, raises the base fee and burns; an honest transfer at the default fee lands meanwhile', async () => {
    const startHeight = (await getChainStatus(client)).head.height
    const before = await Promise.all(spammers.map((s) => getBalance(client, { address: s.publicKey })))
    let required = (await estimateFee(client)).baseFee + params.minFeePerByte
    let accepted = 0
    await Promise.all(spammers.map(async (s) => {
      const first = await getNonce(client, { address: s.publicKey })
      for (let n = first, retried = false; n < first + 120;) {
        // Zero-value self-transfers at exactly the least fee the node takes now; re-priced when it rises.
        const payload: TxPayload = { type: 'transfer', to: s.publicKey, amount: 0n }
        const fee = computeFeeAt({ chainId, from: s.publicKey, nonce: n, payload }, required)
        const reason = await refusal(sendTransaction(client, { tx: signed(s, n, payload, fee) }))
        if (reason === undefined) {
          accepted++
          n++
          retried = false
        } else if (reason === 'FEE_TOO_LOW' && !retried) {
          const e = await estimateFee(client)
          required = e.baseFee + e.minFeePerByte
          retried = true
        } else break
      }
    }))
    expect(accepted).toBeGreaterThan(100)
    let fee = 0n
    const id = await transfer(client, { account: honest, to: spammers[0]!.publicKey, amount: 5n, onSigned: (tx) => (fee = tx.body.fee) })
    expect(fee).toBeGreaterThan(0n)
    await waitFor(() => getTransaction(client, { id }), 30_000, 'the honest transfer to land')
    // The base fee rose above its floor in some block after the spam started.
    const peak = await waitFor(async () => {
      const head = (await getChainStatus(client)).head.height
      let max = 0n
      for (let h = startHeight + 1; h <= head; h++) {
        const b = await getBlock(client, { height: h })
        if (b && b.header.baseFee > max) max = b.header.baseFee
      }
      return max > MIN_BASE_FEE ? max : undefined
    }, 30_000, 'the base fee to rise')
    expect(peak).toBeGreaterThan(MIN_BASE_FEE)
    // The spammers paid: their balances fell though their transfers moved nothing.
    const after = await Promise.all(spammers.map((s) => getBalance(client, { address: s.publicKey })))
    expect(after.reduce((a, b) => a + b, 0n)).toBeLessThan(before.reduce((a, b) => a + b, 0n))
  }, 90_000)
})
