import { describe, expect, it } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { SignedTx } from '../../../blocks/schema.ts'
import { fromRpcErrorObject } from '../../../src/client/errors.ts'
import { createClient, FEE_REUSE_MS, transfer, type Transport } from '../../../src/client/index.ts'
import { fromHex, generateKeyPair, toHex } from '../../../src/crypto/index.ts'
import type { Json } from '../../../src/rpc/wire.ts'

/** Answers xsc_feeEstimate with the current `feePerByte`; refuses a tx whose fee is below `minFee` FEE_TOO_LOW (a base fee that rose). */
function feeNode(feePerByte: { value: bigint }, minFee: { value: bigint }): Transport & { calls: string[]; fees: bigint[] } {
  const calls: string[] = []
  const fees: bigint[] = []
  return {
    type: 'http', url: 'http://x', calls, fees, close: async () => {},
    request: async (method, params): Promise<Json> => {
      calls.push(method)
      if (method === 'xsc_feeEstimate') {
        const f = feePerByte.value
        return { size: 200, baseFee: '1', minFeePerByte: '1', feePerByte: f.toString(), required: '400', fee: (200n * f).toString(), height: 5 }
      }
      const tx = decode(SignedTx, fromHex(params[0] as string))
      fees.push(tx.body.fee)
      if (tx.body.fee < minFee.value) {
        // The node's FEE_TOO_LOW as the wire carries it (code -32017).
        throw fromRpcErrorObject({ code: -32017, message: 'fee too low', data: { reason: 'FEE_TOO_LOW', required: minFee.value.toString() } })
      }
      return toHex(new Uint8Array(32).fill(tx.body.nonce))
    },
  }
}

describe('signAndSend reuses the suggested fee', () => {
  const account = generateKeyPair()
  const to = generateKeyPair().publicKey
  const send = (c: ReturnType<typeof createClient>, nonce: number) => transfer(c, { account, to, amount: 1n, nonce, chainId: 'xsc-dev' })

  it('asks for an estimate once for sends within FEE_REUSE_MS, and again after', async () => {
    const t = feeNode({ value: 3n }, { value: 0n })
    const c = createClient({ transport: t })
    for (let n = 0; n < 5; n++) await send(c, n)
    expect(t.calls.filter((m) => m === 'xsc_feeEstimate')).toHaveLength(1)
    expect(t.calls.filter((m) => m === 'xsc_sendTransaction')).toHaveLength(5)
    // Another client asks for its own.
    await send(createClient({ transport: t }), 5)
    expect(t.calls.filter((m) => m === 'xsc_feeEstimate')).toHaveLength(2)
    // Sends that start together share one question.
    const c2 = createClient({ transport: t })
    await Promise.all([7, 8, 9].map((n) => send(c2, n)))
    expect(t.calls.filter((m) => m === 'xsc_feeEstimate')).toHaveLength(3)
    await new Promise((r) => setTimeout(r, FEE_REUSE_MS + 20))
    await send(c, 6)
    expect(t.calls.filter((m) => m === 'xsc_feeEstimate')).toHaveLength(4)
  })

  it('a failed question is not kept: the next send asks again', async () => {
    let fail = true
    const t = feeNode({ value: 3n }, { value: 0n })
    const inner = t.request
    const c = createClient({ transport: { ...t, request: async (m, p) => (m === 'xsc_feeEstimate' && fail ? ((fail = false), Promise.reject(new Error('down'))) : inner(m, p)) } })
    await expect(send(c, 0)).rejects.toThrow('down')
    await send(c, 0)
    expect(t.calls).toEqual(['xsc_feeEstimate', 'xsc_sendTransaction'])
  })

  it('a send refused FEE_TOO_LOW on a reused suggestion is priced afresh and sent again; on a fresh one the refusal stands', async () => {
    const fpb = { value: 3n }
    const min = { value: 0n }
    const t = feeNode(fpb, min)
    const c = createClient({ transport: t })
    await send(c, 0)
    const first = t.fees[0]!
    // The base fee rose past the reused suggestion: refused, re-estimated, sent at the new price.
    fpb.value = 9n
    min.value = first + 1n
    await send(c, 1)
    expect(t.fees.slice(1)).toEqual([first, 3n * first])
    expect(t.calls.filter((m) => m === 'xsc_feeEstimate')).toHaveLength(2)
    // A fresh suggestion that is still too low is the node's answer: no loop.
    const t2 = feeNode({ value: 3n }, { value: 10n ** 9n })
    await expect(send(createClient({ transport: t2 }), 0)).rejects.toMatchObject({ code: 'FEE_TOO_LOW' })
    expect(t2.calls).toEqual(['xsc_feeEstimate', 'xsc_sendTransaction'])
  })
})
