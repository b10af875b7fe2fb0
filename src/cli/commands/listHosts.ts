import { CAPABILITY } from '../../../blocks/schema.ts'
import { getHosts, type Client } from '../../client/index.ts'
import type { HostSummary } from '../../rpc/backend.ts'
import { HOST_STATUS } from '../../state/records.ts'

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

/** Hosts the router could pick for a request: active, with the capabilities, asking at most the bid. */
export function filterEligibleHosts(hosts: HostSummary[], want: { capabilities: number; bid: bigint; ask: 'fuel' | 'byteEpoch'; minFreeBytes?: bigint }): HostSummary[] {
  return hosts.filter(({ record }) => {
    const p = record.params
    const ask = want.ask === 'fuel' ? p.askPerFuel : p.askPerByteEpoch
    const free = p.capacityBytes - record.usedBytes
    return record.status === HOST_STATUS.active && (p.capabilities & want.capabilities) === want.capabilities && ask <= want.bid && free >= (want.minFreeBytes ?? 0n)
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
