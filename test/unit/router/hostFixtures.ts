import { CAPABILITY, type Coord } from '../../../blocks/schema.ts'
import type { HostIndexParams } from '../../../src/router/index.ts'
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
  memoryBytes?: bigint
  bond?: bigint
  /** Default 100: vetted under every test's vettingPasses. */
  passedChecks?: number
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
      memoryBytes: s.memoryBytes ?? 16n << 20n, encryptionKey: undefined,
    },
    reputation: s.reputation ?? 10_000,
    status: s.status ?? HOST_STATUS.active,
    usedBytes: s.usedBytes ?? 0n,
    joinedHeight: 0,
    failedAudits: 0,
    bond: s.bond ?? 1000n,
    passedChecks: s.passedChecks ?? 100,
  }
}

/** Router parameters for tests: a band of `placementBandHosts`, vetting after 10 checks, 5% unvetted share. */
export function indexParams(gridSize: number, over: Partial<HostIndexParams> = {}): HostIndexParams {
  return { gridSize, storageUtilizationSlopeBp: 10_000, placementBandHosts: 16, vettingPasses: 10, unvettedShareBp: 500, ...over }
}

/** `n` distinct 32-byte seeds. */
export function seeds(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const s = new Uint8Array(32)
    new DataView(s.buffer).setUint32(0, i * 2654435761)
    s[31] = i & 0xff
    return s
  })
}
