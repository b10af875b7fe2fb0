import { describe, expect, it } from 'vitest'

import { BlockError } from '../../../blocks/errors.ts'
import type { BlockHeader } from '../../../blocks/schema.ts'
import { validateBlockParent } from '../../../blocks/validateBlock.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'
import { errorCodeOf } from '../../support/errorCode.ts'

const PARENT_HASH = hash(utf8('parent'))

function header(height: number, slot: number, timestamp: bigint): BlockHeader {
  return {
    chainId: 'xsc-test', height, prevHash: PARENT_HASH, kind: 'ledger', slot, timestamp, proposer: new Uint8Array(32), bodyRoot: new Uint8Array(32),
    stateRoot: new Uint8Array(32), baseFee: 1n, txBytes: 0, round: 0, beaconReveal: new Uint8Array(32), proofs: [], signature: new Uint8Array(64),
  }
}

describe('validateBlockParent: time order', () => {
  const parent = header(7, 20, 10_100n)

  it('accepts a block in the parent\'s slot whose timestamp is after the parent\'s (proposed on commit)', () => {
    expect(errorCodeOf(BlockError, () => validateBlockParent({ ...header(8, 20, 10_101n) }, parent, PARENT_HASH))).toBeUndefined()
    expect(errorCodeOf(BlockError, () => validateBlockParent({ ...header(8, 21, 10_600n) }, parent, PARENT_HASH))).toBeUndefined()
  })

  it('rejects a timestamp equal to or before the parent\'s, whatever the slot says', () => {
    expect(errorCodeOf(BlockError, () => validateBlockParent(header(8, 20, 10_100n), parent, PARENT_HASH))).toBe('TIMESTAMP_NOT_AFTER_PARENT')
    expect(errorCodeOf(BlockError, () => validateBlockParent(header(8, 19, 9_999n), parent, PARENT_HASH))).toBe('TIMESTAMP_NOT_AFTER_PARENT')
    expect(BlockError.verdicts.TIMESTAMP_NOT_AFTER_PARENT).toBe('REJECT')
  })

  it('still checks linkage and height first', () => {
    expect(errorCodeOf(BlockError, () => validateBlockParent(header(9, 21, 10_600n), parent, PARENT_HASH))).toBe('WRONG_HEIGHT')
    expect(errorCodeOf(BlockError, () => validateBlockParent(header(8, 21, 10_600n), parent, hash(utf8('other'))))).toBe('WRONG_PARENT')
  })
})
