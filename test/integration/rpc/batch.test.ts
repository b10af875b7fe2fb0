import { afterEach, describe, expect, it } from 'vitest'

import type { Hash, SignedTx } from '../../../blocks/schema.ts'
import { buildTransfer, createClient, getNonce, http, sendTransactions, signTx } from '../../../src/client/index.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { type RpcServer, startRpcServer } from '../../../src/rpc/server.ts'
import { MemoryBackend } from '../../unit/rpc/memoryBackend.ts'

/** The first admission waits (as a node's does while it loads the sender's account from disk); later ones do not. */
class SlowFirstAdmission extends MemoryBackend {
  #first = true
  override async submitTx(tx: SignedTx): Promise<Hash> {
    if (this.#first) {
      this.#first = false
      await new Promise((r) => setTimeout(r, 50))
    }
    return super.submitTx(tx)
  }
}

const alice = generateKeyPair()
let server: RpcServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('JSON-RPC batches from the typed client', () => {
  it('sendTransactions admits one sender\'s consecutive nonces in one batch in order, and each refused tx gets its own typed error', async () => {
    const backend = new SlowFirstAdmission({ allocations: [{ address: alice.publicKey, balance: 10n ** 21n }] })
    server = await startRpcServer({ maxBatch: 4 }, { backend })
    const client = createClient({ transport: http(server.url, { maxBatch: 4 }) })
    const to = generateKeyPair().publicKey
    const tx = (nonce: number, chainId = backend.chainId): SignedTx => signTx(buildTransfer({ chainId, from: alice.publicKey, nonce, to, amount: 1n }), alice.secretKey)
    // Ten txs: three POSTs of at most 4 (the cap), in order; nonce 6 is for another chain.
    const txs = Array.from({ length: 10 }, (_, n) => (n === 6 ? tx(n, 'other') : tx(n)))
    const answers = await sendTransactions(client, { txs })
    expect(answers.map((a) => (a.ok ? 'ok' : a.error.code))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'WRONG_CHAIN', 'NONCE_TOO_HIGH', 'NONCE_TOO_HIGH', 'NONCE_TOO_HIGH'])
    expect(backend.mempool.map((t) => t.body.nonce)).toEqual([0, 1, 2, 3, 4, 5])
    expect(await getNonce(client, { address: alice.publicKey })).toBe(0)
  })

  it('a batch over the node\'s cap is refused as a whole with BATCH_TOO_LARGE', async () => {
    server = await startRpcServer({ maxBatch: 2 }, { backend: new MemoryBackend({ allocations: [] }) })
    const client = createClient({ transport: http(server.url, { maxBatch: 3 }) })
    const err = await client.requestBatch('xsc_getNonce', [[alice.publicKey], [alice.publicKey], [alice.publicKey]]).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'BATCH_TOO_LARGE' })
    const ok = await createClient({ transport: http(server.url, { maxBatch: 2 }) }).requestBatch('xsc_getNonce', [[alice.publicKey], [alice.publicKey], [alice.publicKey]])
    expect(ok).toEqual([{ ok: true, value: 0 }, { ok: true, value: 0 }, { ok: true, value: 0 }])
  })
})
