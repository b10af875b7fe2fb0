import { CAPABILITY, type Coord } from '../../../blocks/schema.ts'
import { HOST_STATUS, type HostRecord } from '../../../src/state/records.ts'

/** A host address whose first byte is `n` (so address order is n order). */
export function addr(n: number, fill = 0): Uint8Array {
  const a = new Uint8Array(32).fill(fill)
  a[0] = n
  return a
}

export interface HostSpec {
  coord?: Coord
  zone?: string
  capacityBytes?: bigint
  usedBytes?: bigint
  capabilities?: number
  askPerFuel?: bigint
  askPerByteEpoch?: bigint
  reputation?: number
  status?: number
}

export function makeHost(s: HostSpec = {}): HostRecord {
  return {
    params: {
      coord: s.coord ?? { x: 0, y: 0, z: 0 },
      zone: s.zone ?? 'z0',
      capacityBytes: s.capacityBytes ?? 1000n,
      capabilities: s.capabilities ?? CAPABILITY.storage | CAPABILITY.compute,
      askPerFuel: s.askPerFuel ?? 0n,
      askPerByteEpoch: s.askPerByteEpoch ?? 0n,
      peerId: 'peer',
    },
    reputation: s.reputation ?? 10_000,
    status: s.status ?? HOST_STATUS.active,
    usedBytes: s.usedBytes ?? 0n,
    joinedHeight: 0,
    failedAudits: 0,
  }
}
