import { describe, expect, it, vi } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { computeResultHash, computeWriteSetHash } from '../../../blocks/executionHashes.ts'
import { receiptSigningHash } from '../../../blocks/ids.ts'
import { OUTCOME, ReceiptBody } from '../../../blocks/schema.ts'
import { concatBytes, hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { testKey } from '../../support/chainFixtures.ts'

// The real hashParts, counted: a host signs its receipt's body and its own pool takes the same
// body object a moment later (hostRole #sendReceipt → ReceiptPool.add).
const calls = vi.hoisted(() => ({ hashParts: 0 }))
vi.mock('../../../src/crypto/hash.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/crypto/hash.ts')>()
  return { ...original, hashParts: (...a: Parameters<typeof original.hashParts>) => { calls.hashParts++; return original.hashParts(...a) } }
})

const output = utf8('out')
const body: ReceiptBody = { chainId: 'xsc-test', executionId: hash(utf8('e')), host: testKey('h').publicKey, outcome: OUTCOME.ok, resultHash: computeResultHash(OUTCOME.ok, output), fuelUsed: 10n, writeSetHash: computeWriteSetHash([]), output, preStateHash: hash(utf8('pre')) }

describe('receipt signing hash', () => {
  it('is computed once per body object, and is hash(domain ‖ canonical body)', () => {
    const before = calls.hashParts
    const h = toHex(receiptSigningHash(body))
    expect(toHex(receiptSigningHash(body))).toBe(h)
    expect(calls.hashParts - before).toBe(1)
    expect(h).toBe(toHex(hash(concatBytes(utf8('XSC/receipt/v1'), encode(ReceiptBody, body)))))
  })

  it('another body with other fields gets its own', () => {
    const h = toHex(receiptSigningHash(body))
    expect(toHex(receiptSigningHash({ ...body, fuelUsed: 11n }))).not.toBe(h)
    expect(toHex(receiptSigningHash({ ...body }))).toBe(h)
  })
})
