import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { entryHash, noteTxBytes, txByteLength, txId, txSigningHash } from '../../../blocks/ids.ts'
import { BlockEntry, SignedTx } from '../../../blocks/schema.ts'
import { generateKeyPair, hash, leafHash, toHex } from '../../../src/crypto/index.ts'
import { signedTx } from '../../support/arbitraries.ts'
import { transfer } from '../../support/chainFixtures.ts'

// blocks/ids.ts memoizes a tx's id, length and entry hash, and lets a decoded copy of a tx
// (its proposal or commit copy) reuse its twin's when the two are equal field by field.
describe('tx ids of copies', () => {
  it('a tx entry hashes as its full canonical encoding does (any tx)', () => {
    fc.assert(fc.property(signedTx, (tx) => {
      const entry: BlockEntry = { type: 'tx', tx }
      expect(toHex(entryHash(entry))).toBe(toHex(leafHash(encode(BlockEntry, entry))))
      expect(toHex(txId(tx))).toBe(toHex(hash(encode(SignedTx, tx))))
      expect(txByteLength(tx)).toBe(encode(SignedTx, tx).length)
    }), { numRuns: 200 })
  })

  it('a decoded copy gets the same id as its twin', () => {
    const tx = transfer(generateKeyPair(), 3, generateKeyPair().publicKey, 10n)
    const id = toHex(txId(tx))
    const copy = decode(SignedTx, encode(SignedTx, tx))
    expect(toHex(txId(copy))).toBe(id)
    expect(toHex(entryHash({ type: 'tx', tx: copy }))).toBe(toHex(leafHash(encode(BlockEntry, { type: 'tx', tx }))))
  })

  it('attack: a tx carrying a held tx\'s signature on another body gets its own id, not its twin\'s', () => {
    const key = generateKeyPair()
    const to = generateKeyPair().publicKey
    const held = transfer(key, 0, to, 10n)
    txId(held)
    const variants: SignedTx[] = [
      { ...held, body: { ...held.body, nonce: 1 } },
      { ...held, body: { ...held.body, fee: held.body.fee + 1n } },
      { ...held, body: { ...held.body, payload: { type: 'transfer', to, amount: 11n } } },
      { ...held, body: { ...held.body, payload: { type: 'transfer', to: generateKeyPair().publicKey, amount: 10n } } },
      { ...held, body: { ...held.body, chainId: 'xsc-other' } },
    ]
    for (const forged of variants) {
      expect(toHex(txId(forged))).toBe(toHex(hash(encode(SignedTx, forged))))
      expect(toHex(txId(forged))).not.toBe(toHex(txId(held)))
      expect(toHex(entryHash({ type: 'tx', tx: forged }))).toBe(toHex(leafHash(encode(BlockEntry, { type: 'tx', tx: forged }))))
    }
  })
})

// A tx decoded from canonical bytes (RPC, tx batches) takes its id, length and signing hash from
// those bytes (noteTxBytes) instead of encoding itself twice more.
describe('tx ids from noted canonical bytes', () => {
  it('give the id, length, entry hash and signing hash a fresh encoding gives (any tx)', () => {
    fc.assert(fc.property(signedTx, (tx) => {
      const bytes = encode(SignedTx, tx)
      const copy = decode(SignedTx, bytes)
      noteTxBytes(copy, bytes)
      // Another decoded copy, never memoized: its body's signing hash is computed by encoding.
      const fresh = decode(SignedTx, bytes)
      expect(toHex(txSigningHash(copy.body))).toBe(toHex(txSigningHash(fresh.body)))
      expect(toHex(txId(copy))).toBe(toHex(hash(bytes)))
      expect(txByteLength(copy)).toBe(bytes.length)
      expect(toHex(entryHash({ type: 'tx', tx: copy }))).toBe(toHex(leafHash(encode(BlockEntry, { type: 'tx', tx: fresh }))))
    }), { numRuns: 200 })
  })

  it('are what the id is computed from: no encode (bytes of another tx of the right shape show through)', () => {
    const key = generateKeyPair()
    const to = generateKeyPair().publicKey
    const a = encode(SignedTx, transfer(key, 0, to, 10n))
    const b = decode(SignedTx, encode(SignedTx, transfer(key, 1, to, 10n)))
    noteTxBytes(b, a)
    expect(toHex(txId(b))).toBe(toHex(hash(a)))
  })

  it('of a copy of a tx met before give its twin\'s hashes without hashing again; attack: another body under the twin\'s signature gets its own', () => {
    const key = generateKeyPair()
    const to = generateKeyPair().publicKey
    const held = transfer(key, 4, to, 10n)
    const heldBytes = encode(SignedTx, held)
    noteTxBytes(held, heldBytes)
    const copy = decode(SignedTx, heldBytes)
    noteTxBytes(copy, heldBytes.slice())
    expect(txId(copy)).toBe(txId(held)) // the twin's memo itself
    expect(txSigningHash(copy.body)).toBe(txSigningHash(held.body))
    const forged: SignedTx = { ...held, body: { ...held.body, payload: { type: 'transfer', to, amount: 11n } } }
    const forgedBytes = encode(SignedTx, forged)
    const forgedCopy = decode(SignedTx, forgedBytes)
    noteTxBytes(forgedCopy, forgedBytes)
    expect(toHex(txId(forgedCopy))).toBe(toHex(hash(forgedBytes)))
    expect(toHex(txSigningHash(forgedCopy.body))).toBe(toHex(txSigningHash(decode(SignedTx, forgedBytes).body)))
    expect(toHex(txSigningHash(forgedCopy.body))).not.toBe(toHex(txSigningHash(held.body)))
  })

  it('are ignored when they are not shaped as a signed tx (the tx is encoded as before)', () => {
    const tx = decode(SignedTx, encode(SignedTx, transfer(generateKeyPair(), 2, generateKeyPair().publicKey, 7n)))
    noteTxBytes(tx, new Uint8Array(100).fill(0x92))
    expect(toHex(txId(tx))).toBe(toHex(hash(encode(SignedTx, tx))))
  })
})
