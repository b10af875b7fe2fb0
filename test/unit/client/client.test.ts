import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

import { describe, expect, it } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { txSigningHash } from '../../../blocks/ids.ts'
import { SignedTx } from '../../../blocks/schema.ts'
import { fromRpcErrorObject } from '../../../src/client/errors.ts'
import {
  buildTransfer, createClient, encodeSignedTx, getBalance, getBlock, getHosts, http, RpcClientError, signTx, type Transport,
} from '../../../src/client/index.ts'
import { generateKeyPair, toHex, verify } from '../../../src/crypto/index.ts'
import type { Json } from '../../../src/rpc/wire.ts'

/** Records the wire params and answers with a canned wire result (unit stand-in; the real transports are tested over HTTP/WS in test/integration/rpc). */
function recordingTransport(answer: Json): Transport & { calls: { method: string; params: Json[] }[] } {
  const calls: { method: string; params: Json[] }[] = []
  return { type: 'http', url: 'http://x', calls, request: async (method, params) => (calls.push({ method, params }), answer), close: async () => {} }
}

describe('transaction builders and signing', () => {
  it('signTx signs txSigningHash(body) with the sender key, and the encoding decodes back', () => {
    const k = generateKeyPair()
    const body = buildTransfer({ chainId: 'xsc-dev', from: k.publicKey, nonce: 3, fee: 2n, to: generateKeyPair().publicKey, amount: 10n ** 30n })
    const tx = signTx(body, k.secretKey)
    expect(verify(k.publicKey, txSigningHash(body), tx.signature)).toBe(true)
    expect(verify(k.publicKey, txSigningHash({ ...body, nonce: 4 }), tx.signature)).toBe(false)
    expect(decode(SignedTx, encodeSignedTx(tx))).toEqual(tx)
  })
})

describe('createClient formatting', () => {
  it('formats domain params to wire JSON, trims absent trailing optionals, and parses results to domain values', async () => {
    const t = recordingTransport('340282366920938463463374607431768211455')
    const c = createClient({ transport: t })
    const addr = generateKeyPair().publicKey
    expect(await getBalance(c, { address: addr })).toBe((1n << 128n) - 1n)
    expect(t.calls[0]).toEqual({ method: 'xsc_getBalance', params: [toHex(addr)] })

    const hosts = recordingTransport([])
    await getHosts(createClient({ transport: hosts }), { limit: 5 })
    expect(hosts.calls[0]?.params).toEqual([null, 5])
    await getHosts(createClient({ transport: hosts }))
    expect(hosts.calls[1]?.params).toEqual([])
  })

  it('a null block result is null; a malformed result is BAD_RESPONSE', async () => {
    expect(await getBlock(createClient({ transport: recordingTransport(null) }), { height: 1 })).toBeNull()
    const err = await getBalance(createClient({ transport: recordingTransport(12) }), { address: new Uint8Array(32) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RpcClientError)
    expect((err as RpcClientError).code).toBe('BAD_RESPONSE')
  })

  it('error objects become RpcClientError named by their documented code', () => {
    const e = fromRpcErrorObject({ code: -32012, message: 'poor', data: { reason: 'INSUFFICIENT_FUNDS', balance: '5' } })
    expect(e.code).toBe('INSUFFICIENT_FUNDS')
    expect(e.details).toEqual({ rpcCode: -32012, data: { reason: 'INSUFFICIENT_FUNDS', balance: '5' } })
    expect(fromRpcErrorObject({ code: 1234, message: 'x' }).code).toBe('UNKNOWN_RPC_CODE')
    expect(fromRpcErrorObject('nope').code).toBe('BAD_RESPONSE')
  })
})

describe('http transport failures', () => {
  it('an unreachable node is TRANSPORT_FAILED, a non-JSON answer is BAD_RESPONSE', async () => {
    const server = createServer((_req, res) => res.end('<html>'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    const port = (server.address() as AddressInfo).port
    try {
      const bad = await getBalance(createClient({ transport: http(`http://127.0.0.1:${port}`) }), { address: new Uint8Array(32) }).catch((e: unknown) => e)
      expect((bad as RpcClientError).code).toBe('BAD_RESPONSE')
    } finally {
      await new Promise<void>((r) => server.close(() => r()))
    }
    const down = await getBalance(createClient({ transport: http(`http://127.0.0.1:${port}`) }), { address: new Uint8Array(32) }).catch((e: unknown) => e)
    expect((down as RpcClientError).code).toBe('TRANSPORT_FAILED')
  })
})
