import { describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { executionKeysSigningHash } from '../../../blocks/ids.ts'
import { type ExecutionKeys, type ExecutionKeysBody } from '../../../blocks/schema.ts'
import { PrivateExecutionError } from '../../../src/compute/errors.ts'
import { sign } from '../../../src/crypto/index.ts'
import { verifyExecutionKeys } from '../../../src/node/executionKeyIntake.ts'
import { EXECUTION_STATUS, ExecutionRecord } from '../../../src/state/records.ts'
import { MemoryState } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { hostAddr, makeExecution } from '../state/market/marketFixtures.ts'

const client = testKey('intake-client')
const stranger = testKey('intake-stranger')
const id = new Uint8Array(32).fill(0x42)

function stateWith(over: Partial<ExecutionRecord> = {}): MemoryState {
  const s = new MemoryState()
  s.apply([{ key: TABLES.execution.key(id), value: encode(ExecutionRecord, makeExecution({ client: client.publicKey, private: true, ...over })) }])
  return s
}

function delivery(over: Partial<ExecutionKeysBody> = {}, signer = client): ExecutionKeys {
  const body: ExecutionKeysBody = { chainId: 'xsc-test', executionId: id, ephemeralKey: new Uint8Array(32).fill(9), keys: [{ host: hostAddr(1), wrapped: new Uint8Array(48) }, { host: hostAddr(2), wrapped: new Uint8Array(48) }], ...over }
  return { body, signature: sign(signer.secretKey, executionKeysSigningHash(body)) }
}

function refusal(f: () => unknown): { code: string; verdict: string } {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(PrivateExecutionError)
    return { code: (e as PrivateExecutionError).code, verdict: (e as PrivateExecutionError).verdict }
  }
  throw new Error('expected a refusal')
}

describe('verifyExecutionKeys', () => {
  it('takes a delivery signed by the client for assigned hosts of a pending private execution', () => {
    expect(verifyExecutionKeys(stateWith(), 'xsc-test', delivery()).private).toBe(true)
  })

  it('ignores deliveries for unknown, public or settled executions (a peer may see another head)', () => {
    expect(refusal(() => verifyExecutionKeys(new MemoryState(), 'xsc-test', delivery()))).toEqual({ code: 'NOT_PRIVATE_PENDING', verdict: 'IGNORE' })
    expect(refusal(() => verifyExecutionKeys(stateWith({ private: false }), 'xsc-test', delivery()))).toEqual({ code: 'NOT_PRIVATE_PENDING', verdict: 'IGNORE' })
    expect(refusal(() => verifyExecutionKeys(stateWith({ status: EXECUTION_STATUS.completed }), 'xsc-test', delivery()))).toEqual({ code: 'NOT_PRIVATE_PENDING', verdict: 'IGNORE' })
  })

  it('rejects deliveries by anyone but the client, for hosts not assigned, repeated, empty, misshapen or for another chain', () => {
    const s = stateWith()
    const rejected = { code: 'BAD_DELIVERY', verdict: 'REJECT' }
    expect(refusal(() => verifyExecutionKeys(s, 'xsc-test', delivery({}, stranger)))).toEqual(rejected)
    expect(refusal(() => verifyExecutionKeys(s, 'xsc-test', delivery({ keys: [{ host: hostAddr(9), wrapped: new Uint8Array(48) }] })))).toEqual(rejected)
    expect(refusal(() => verifyExecutionKeys(s, 'xsc-test', delivery({ keys: [{ host: hostAddr(1), wrapped: new Uint8Array(48) }, { host: hostAddr(1), wrapped: new Uint8Array(48) }] })))).toEqual(rejected)
    expect(refusal(() => verifyExecutionKeys(s, 'xsc-test', delivery({ keys: [] })))).toEqual(rejected)
    expect(refusal(() => verifyExecutionKeys(s, 'xsc-test', delivery({ keys: [{ host: hostAddr(1), wrapped: new Uint8Array(40) }] })))).toEqual(rejected)
    expect(refusal(() => verifyExecutionKeys(s, 'xsc-other', delivery()))).toEqual(rejected)
  })
})
