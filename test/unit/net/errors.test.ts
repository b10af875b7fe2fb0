import { describe, expect, it } from 'vitest'

import { CodecError } from '../../../blocks/errors.ts'
import { ConsensusError } from '../../../consensus/errors.ts'
import { ComputeError } from '../../../src/compute/errors.ts'
import { gossipVerdictOf, NetError } from '../../../src/net/errors.ts'
import { StateError } from '../../../src/state/errors.ts'

describe('gossipVerdictOf: the one mapping from an error to libp2p\'s answer', () => {
  it('maps the error\'s verdict: REJECT to reject, IGNORE to ignore', () => {
    expect(gossipVerdictOf(new ConsensusError('BAD_ATTESTATION_SIGNATURE', 'x', { scheme: 'finality', validator: '0x01' }), 'consensus')).toBe('reject')
    expect(gossipVerdictOf(new ConsensusError('EQUIVOCATION', 'x', { scheme: 'finality', validator: '0x01', height: 1, first: '0x02', second: '0x03' }), 'consensus')).toBe('ignore')
    expect(gossipVerdictOf(new CodecError('MALFORMED', 'x'), 'consensus')).toBe('reject')
  })

  it('honours a verdict chosen at the throw site', () => {
    expect(gossipVerdictOf(new StateError('NONCE_TOO_HIGH', 'x', { got: 9, expected: 1 }, { verdict: 'REJECT' }), 'transactions')).toBe('reject')
  })

  it('rejects a block whose state transition fails, even for codes a loose tx is only ignored for', () => {
    const stale = new StateError('NONCE_TOO_LOW', 'x', { got: 0, expected: 1 })
    expect(gossipVerdictOf(stale, 'transactions')).toBe('ignore')
    expect(gossipVerdictOf(stale, 'blocks')).toBe('reject')
  })

  it('ignores our own failures: network, compute, and anything that is not an XscError', () => {
    for (const topic of ['transactions', 'blocks', 'consensus'] as const) {
      expect(gossipVerdictOf(new NetError('TIMEOUT', 'x'), topic)).toBe('ignore')
      expect(gossipVerdictOf(new ComputeError('WORKER_FAILED', 'x'), topic)).toBe('ignore')
      expect(gossipVerdictOf(new TypeError('bug'), topic)).toBe('ignore')
      expect(gossipVerdictOf('thrown string', topic)).toBe('ignore')
    }
  })
})
