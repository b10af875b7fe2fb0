import type { Address, Receipt } from '../../../../blocks/schema.ts'
import { EXECUTION_STATUS, type ExecutionRecord } from '../../../../src/state/records.ts'

export const EXEC_ID = new Uint8Array(32).fill(0xee)
export const CLIENT = new Uint8Array(32).fill(0xcc)
export const PROPOSER = new Uint8Array(32).fill(0xdd)

export function hostAddr(n: number): Address {
  return new Uint8Array(32).fill(n)
}

export function makeExecution(over: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    client: CLIENT,
    asset: new Uint8Array(32).fill(0xaa),
    fn: 'run',
    input: new Uint8Array(0),
    fuelLimit: 1000n,
    bidPerFuel: 10n,
    replicas: 3,
    quorum: 2,
    private: false,
    assignment: [hostAddr(1), hostAddr(2), hostAddr(3)],
    escrow: 0n,
    startSlot: 10,
    deadlineSlot: 20,
    status: EXECUTION_STATUS.pending,
    origin: { x: 0, y: 0, z: 0 },
    seq: 0n,
    agreed: undefined,
    ...over,
  }
}

export function makeReceipt(host: Address, fuelUsed: bigint, result = 1, over: { outcome?: number; writeSet?: number; writeSetHash?: Uint8Array; executionId?: Uint8Array } = {}): Receipt {
  return {
    body: {
      chainId: 'xsc-test',
      executionId: over.executionId ?? EXEC_ID,
      host,
      outcome: over.outcome ?? 0,
      resultHash: new Uint8Array(32).fill(result),
      fuelUsed,
      writeSetHash: over.writeSetHash ?? new Uint8Array(32).fill(over.writeSet ?? 7),
      output: new Uint8Array([result, result]),
      preStateHash: new Uint8Array(32),
    },
    signature: new Uint8Array(64),
  }
}
