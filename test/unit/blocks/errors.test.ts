import { describe, expect, expectTypeOf, it } from 'vitest'

import { BlockError, CodecError, XscError } from '../../../blocks/errors.ts'
import { BftError } from '../../../consensus/bft/errors.ts'
import { ConsensusError } from '../../../consensus/errors.ts'
import { MempoolError } from '../../../src/chain/errors.ts'
import { StateError } from '../../../src/state/errors.ts'

// The type assertions here are checked by `tsc --noEmit` (part of `npm test`), the values by vitest.
describe('XscError payloads typed per code', () => {
  it('instanceof plus a code check narrows details to that code\'s payload', () => {
    const caught: unknown = new BftError('EVIDENCE_EXPIRED', 'too old', { height: 7, currentHeight: 9000, maxAgeHeights: 100 })
    if (!(caught instanceof BftError)) throw new Error('not a BftError')
    if (caught.code !== 'EVIDENCE_EXPIRED') throw new Error('wrong code')
    expectTypeOf(caught.details.height).toEqualTypeOf<number>()
    expectTypeOf(caught.details.maxAgeHeights).toEqualTypeOf<number>()
    expectTypeOf(caught.details).toMatchTypeOf<{ height: number; currentHeight: number }>()
    expect(caught.details.height).toBe(7)
  })

  it('a code with no payload takes no details; one with a payload requires it, checked at the throw site', () => {
    expect(new MempoolError('MEMPOOL_FULL', 'full').details).toEqual({})
    // @ts-expect-error WRONG_HEIGHT carries {got, expected} as numbers
    expect(new BlockError('WRONG_HEIGHT', 'x', { got: 'a', expected: 'b' }).code).toBe('WRONG_HEIGHT')
    // @ts-expect-error PARENT_UNKNOWN must name the block and its parent
    expect(new BlockError('PARENT_UNKNOWN', 'x').details).toEqual({})
    // @ts-expect-error a code the domain does not have
    expect(new StateError('NOT_A_CODE', 'x').code).toBe('NOT_A_CODE')
  })

  it('keeps code, message, details and cause as before: the verdict is not an own property', () => {
    const cause = new Error('inner')
    const e = new BlockError('BAD_STATE_ROOT', 'root differs', { got: '0x01', expected: '0x02' }, { cause })
    expect(Object.keys(e).sort()).toEqual(['code', 'details', 'name'])
    expect(e).toMatchObject({ name: 'BlockError', code: 'BAD_STATE_ROOT', message: 'root differs', details: { got: '0x01', expected: '0x02' }, cause })
    expect('cause' in new BlockError('EMPTY_BLOCK', 'x')).toBe(false)
  })

  it('instanceof follows the class chain and rejects non-errors', () => {
    const e = new StateError('UNSUPPORTED', 'x')
    expect(e instanceof StateError && e instanceof XscError && e instanceof Error).toBe(true)
    expect(e instanceof ConsensusError).toBe(false)
    const notErrors: unknown[] = [null, 42, 'UNSUPPORTED', { code: 'UNSUPPORTED', details: {} }]
    expect(notErrors.some((v) => v instanceof XscError || v instanceof StateError)).toBe(false)
  })
})

describe('gossip verdicts on the error', () => {
  it('are chosen per code by the domain', () => {
    expect(new CodecError('NON_CANONICAL', 'x').verdict).toBe('REJECT')
    expect(new BlockError('PARENT_UNKNOWN', 'x', { hash: '0x01', parent: '0x02' }).verdict).toBe('IGNORE')
    expect(new BlockError('WRONG_PARENT', 'x', { got: '0x01', expected: '0x02' }).verdict).toBe('REJECT')
    expect(new ConsensusError('UNKNOWN_BLOCK', 'x', { scheme: 'finality', blockHash: '0x01' }).verdict).toBe('IGNORE')
    expect(new ConsensusError('EQUIVOCATION', 'x', { scheme: 'finality', validator: '0x01', height: 1, first: '0x02', second: '0x03' }).verdict).toBe('IGNORE')
    expect(new StateError('NONCE_TOO_HIGH', 'x', { got: 9, expected: 1 }).verdict).toBe('IGNORE')
    expect(new StateError('BAD_SIGNATURE', 'x').verdict).toBe('REJECT')
  })

  it('default to IGNORE for domains that choose none (our own failures), and the throw site may override', () => {
    expect(new MempoolError('SENDER_QUEUE_FULL', 'x').verdict).toBe('IGNORE')
    expect(new XscError('ANYTHING', 'x').verdict).toBe('IGNORE')
    expect(new StateError('NONCE_TOO_HIGH', 'x', { got: 9, expected: 1 }, { verdict: 'REJECT' }).verdict).toBe('REJECT')
    expect(new CodecError('MALFORMED', 'x', {}, { verdict: 'IGNORE' }).verdict).toBe('IGNORE')
  })
})
