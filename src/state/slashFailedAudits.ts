import type { AuditEntry } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import type { ApplyContext } from './applyContext.ts'
import { slashHostBond } from './applyEvidence.ts'
import { HOST_STATUS, type HostRecord } from './records.ts'
import type { StateOverlay } from './stateView.ts'

/** Hosts that gave their shards up themselves: a repair away from them is no failure. */
const LEFT = new Set<number>([HOST_STATUS.left, HOST_STATUS.draining])

/**
 * Failed audits beyond the threshold cost bond: each repair moving a shard away from a host that
 * had not left (the shard failed `auditFailThreshold` audits in a row, or the host was
 * disqualified for failing) burns `hostSlashShareBps` of that host's bond, once per shard
 * repaired. `hostsBefore` are the host records at the block's start (the audit's input).
 */
export function slashFailedAudits(state: StateOverlay, entry: AuditEntry, hostsBefore: ReadonlyMap<string, HostRecord>, ctx: ApplyContext): void {
  for (const repair of entry.repairs) {
    const host = hostsBefore.get(toHex(repair.from))
    if (host === undefined || LEFT.has(host.status)) continue
    slashHostBond(state, repair.from, ctx.genesis.params.hostSlashShareBps, 0)
  }
}
