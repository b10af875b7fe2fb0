import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { blockHash, txId } from '../../../blocks/ids.ts'
import { Block, SignedTx } from '../../../blocks/schema.ts'
import { buildChainVectors } from '../../../scripts/vectors/buildChainVectors.ts'
import { fromHex, toHex } from '../../../src/crypto/index.ts'

const golden = JSON.parse(readFileSync('fixtures/vectors/chain.json', 'utf8')) as Record<string, string>

describe('golden vectors (fixtures/vectors/chain.json)', () => {
  it('today\'s code produces exactly the committed bytes and ids', () => {
    expect(buildChainVectors()).toEqual(golden)
  })

  it('the committed bytes decode, re-encode identically, and hash to the committed ids', () => {
    for (const name of Object.keys(golden).filter((k) => k.startsWith('tx.') && !k.endsWith('.id'))) {
      const tx = decode(SignedTx, fromHex(golden[name]!))
      expect(toHex(encode(SignedTx, tx))).toBe(golden[name])
      expect(toHex(txId(tx))).toBe(golden[`${name}.id`])
    }
    for (const [bytes, id] of [['genesisBlock', 'genesisHash'], ['ledgerBlock', 'ledgerBlockHash']] as const) {
      const block = decode(Block, fromHex(golden[bytes]!))
      expect(toHex(encode(Block, block))).toBe(golden[bytes])
      expect(toHex(blockHash(block.header))).toBe(golden[id])
    }
  })
})
