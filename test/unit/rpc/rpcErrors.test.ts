import { describe, expect, it } from 'vitest'

import { CodecError, XscError } from '../../../blocks/errors.ts'
import { RPC_CODES, RpcError, toRpcErrorObject } from '../../../src/rpc/errors.ts'

describe('mapping domain errors to JSON-RPC errors', () => {
  it('backend codes map to their documented application code and keep details as JSON', () => {
    const e = toRpcErrorObject(new XscError('INSUFFICIENT_FUNDS', 'too poor', { balance: 5n, needed: 6n, who: new Uint8Array([1, 2]), nested: { a: 1 } }))
    expect(e).toEqual({ code: -32012, message: 'too poor', data: { reason: 'INSUFFICIENT_FUNDS', balance: '5', needed: '6', who: '0x0102' } })
  })

  it('other domains\' codes for the same refusal map too, keeping their exact code as reason', () => {
    expect(toRpcErrorObject(new XscError('NONCE_GAP', 'gap'))).toMatchObject({ code: RPC_CODES.NONCE_TOO_HIGH, data: { reason: 'NONCE_GAP' } })
    expect(toRpcErrorObject(new XscError('SENDER_QUEUE_FULL', 'q'))).toMatchObject({ code: RPC_CODES.MEMPOOL_FULL })
    expect(toRpcErrorObject(new XscError('STAKE_TOO_LOW', 's'))).toMatchObject({ code: RPC_CODES.INVALID_TX, data: { reason: 'STAKE_TOO_LOW' } })
    expect(toRpcErrorObject(new CodecError('NON_CANONICAL', 'x'))).toMatchObject({ code: RPC_CODES.INVALID_TX, data: { reason: 'NON_CANONICAL' } })
    expect(toRpcErrorObject(new XscError('SOMETHING_NEW', 'n'))).toMatchObject({ code: RPC_CODES.REJECTED, data: { reason: 'SOMETHING_NEW' } })
  })

  it('anything that is not an XscError is -32603 with no message, details or stack', () => {
    const e = new Error('/secret/path')
    expect(toRpcErrorObject(e)).toEqual({ code: -32603, message: 'Internal error' })
    expect(toRpcErrorObject('string thrown')).toEqual({ code: -32603, message: 'Internal error' })
    expect(toRpcErrorObject(new RpcError('TIMEOUT', 'slow'))).toEqual({ code: -32044, message: 'slow', data: { reason: 'TIMEOUT' } })
  })

  it('details never carry a stack, a cause or long strings', () => {
    const e = toRpcErrorObject(new XscError('INVALID_TX', 'bad', { stack: 'at x', cause: 'y', long: 'z'.repeat(1000) }))
    expect(e.data).toEqual({ reason: 'INVALID_TX', long: 'z'.repeat(256) })
  })
})
