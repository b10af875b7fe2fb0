import { CAPABILITY } from '../../../blocks/schema.ts'
import { type Client, computeStoragePrice, computeUtilizationBp, getHosts, HOST_STATUS } from '../../client/index.ts'
import type { HostSummary } from '../../rpc/backend.ts'

const PAGE = 1000

/** Every host the node knows, paging through xsc_getHosts (up to `max`). */
export async function listHosts(client: Client, max = 100_000): Promise<HostSummary[]> {
  const out: HostSummary[] = []
  for (let offset = 0; offset < max; offset += PAGE) {
    const page = await getHosts(client, { offset, limit: PAGE })
    out.push(...page)
    if (page.length < PAGE) break
  }
  return out
}

/** Storage utilization the router prices with: used / capacity over active storage hosts (src/router HostIndex). */
export function computeNetworkUtilizationBp(hosts: HostSummary[]): number {
  let used = 0n
  let capacity = 0n
  for (const { record } of hosts) {
    if (record.status !== HOST_STATUS.active || (record.params.capabilities & CAPABILITY.storage) === 0) continue
    capacity += record.params.capacityBytes
    used += record.usedBytes < record.params.capacityBytes ? record.usedBytes : record.params.capacityBytes
  }
  return computeUtilizationBp(used, capacity)
}

/**
 * Hosts the router could pick for a request: active, with the capabilities and the free space,
 * priced within the bid. Compute is priced at the ask; storage at the ask raised by network
 * utilization (`computeStoragePrice`, docs/economics.md), as the router filters.
 */
export function filterEligibleHosts(hosts: HostSummary[], want: { capabilities: number; bid: bigint; ask: 'fuel' | 'byteEpoch'; minFreeBytes?: bigint; storageUtilizationSlopeBp?: number }): HostSummary[] {
  const utilBp = want.ask === 'byteEpoch' ? computeNetworkUtilizationBp(hosts) : 0
  return hosts.filter(({ record }) => {
    const p = record.params
    const price = want.ask === 'fuel' ? p.askPerFuel : computeStoragePrice(p.askPerByteEpoch, utilBp, { storageUtilizationSlopeBp: want.storageUtilizationSlopeBp ?? 0 })
    const free = p.capacityBytes > record.usedBytes ? p.capacityBytes - record.usedBytes : 0n
    return record.status === HOST_STATUS.active && (p.capabilities & want.capabilities) === want.capabilities && price <= want.bid && free >= (want.minFreeBytes ?? 0n)
  })
}

/** "storage,compute" ↔ capability bits. */
export function formatCapabilities(bits: number): string {
  return Object.entries(CAPABILITY).filter(([, b]) => (bits & b) !== 0).map(([n]) => n).join(',') || 'none'
}

/** The name of a numeric code in a `{ name: code }` table, or the number. */
export function nameOf(table: Record<string, number>, value: number): string {
  return Object.entries(table).find(([, v]) => v === value)?.[0] ?? String(value)
}
