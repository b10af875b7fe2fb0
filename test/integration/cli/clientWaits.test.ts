import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { SignedTx } from '../../../blocks/schema.ts'
import { type Client, RpcClientError, signAndSend, transfer, waitForTransaction } from '../../../src/client/index.ts'
import { equalBytes } from '../../../src/crypto/index.ts'
import { type Kit, startKitWithClient } from '../../unit/rpc/rpcTestKit.ts'

/**
 * The client behaviours the CLI leans on, over real HTTP against the in-memory backend (which
 * produces blocks only when told, so pending and dropped txs can be arranged exactly):
 * signAndSend takes the nonce after pending txs, and waitForTransaction tells a dropped tx
 * from a pending one. cli.e2e.test.ts runs the same paths against a real node.
 */
let kit: Kit
let client: Client
let close: () => Promise<void>
beforeAll(async () => void ({ kit, client, close } = await startKitWithClient()))
afterAll(() => close())

/** Produces `n` blocks that leave the current mempool pending. */
function produceEmptyBlocks(n: number): void {
  const held = kit.backend.mempool.splice(0)
  for (let i = 0; i < n; i++) kit.backend.produceBlock()
  kit.backend.mempool.push(...held)
}

describe('client waits and nonces', () => {
  it('a second tx sent while the first is pending is re-signed with the nonce the node expects', async () => {
    const base = kit.backend.account(kit.alice.publicKey).nonce
    await transfer(client, { account: kit.alice, to: kit.bob.publicKey, amount: 1n, fee: 1n })
    await transfer(client, { account: kit.alice, to: kit.bob.publicKey, amount: 2n, fee: 1n })
    expect(kit.backend.mempool.map((t) => t.body.nonce)).toEqual([base, base + 1])
    // An explicit nonce is the caller's choice: no retry.
    await expect(transfer(client, { account: kit.alice, to: kit.bob.publicKey, amount: 3n, fee: 1n, nonce: base })).rejects.toMatchObject({ code: 'NONCE_TOO_LOW' })
    kit.backend.produceBlock()
  })

  it('waitForTransaction keeps waiting for a tx that is still pending, and returns once it is included', async () => {
    let signed: SignedTx | undefined
    const id = await signAndSend(client, { account: kit.alice, payload: { type: 'transfer', to: kit.bob.publicKey, amount: 5n }, fee: 1n, onSigned: (tx) => (signed = tx) })
    let polls = 0
    const waiting = waitForTransaction(client, {
      id, tx: signed!, pollMs: 5, dropAfterBlocks: 2,
      onPoll: () => {
        polls++
        // Blocks pass without it (it is probed as ALREADY_KNOWN), then one includes it.
        if (polls < 8) produceEmptyBlocks(1)
        else if (polls === 8) kit.backend.produceBlock()
      },
    })
    const found = await waiting
    expect(equalBytes(found.id, id)).toBe(true)
    expect(polls).toBeGreaterThanOrEqual(8)
  })

  it('waitForTransaction fails with DROPPED once the node no longer holds a tx it had accepted', async () => {
    let signed: SignedTx | undefined
    const id = await signAndSend(client, { account: kit.alice, payload: { type: 'transfer', to: kit.bob.publicKey, amount: 7n }, fee: 1n, onSigned: (tx) => (signed = tx) })
    kit.backend.mempool.splice(0) // the node drops it
    const err = await waitForTransaction(client, { id, tx: signed!, pollMs: 5, dropAfterBlocks: 2, timeoutMs: 10_000, onPoll: () => kit.backend.produceBlock() }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RpcClientError)
    expect(err).toMatchObject({ code: 'DROPPED', details: { blocks: 2 } })
    kit.backend.mempool.splice(0)
  })

  it('without the tx, a wait for a tx that never comes ends in TIMEOUT', async () => {
    const err = await waitForTransaction(client, { id: new Uint8Array(32).fill(9), pollMs: 5, timeoutMs: 50 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'TIMEOUT' })
  })
})
