/**
 * Liveness entry cost (docs/storage.md "Liveness"): bytes of a full liveness entry and the CPU of
 * applying it (every heartbeat's signature checked, index rows moved), and of closing an epoch
 * with 10,000 tracked hosts of which 1% are missing. Last line: one JSON object.
 *
 *   npx tsx scripts/bench/liveness.ts [-- --hosts 10000 --missing 100]
 */
import { parseArgs } from 'node:util'

import { encode } from '../../blocks/codec.ts'
import { BlockEntry, type Heartbeat, LIMITS, type LivenessEntry } from '../../blocks/schema.ts'
import { compareBytes, hash, keyPairFromSecret, sign, u32be, utf8 } from '../../src/crypto/index.ts'
import type { ApplyContext } from '../../src/state/applyContext.ts'
import { DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'
import { HOST_STATUS } from '../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../src/state/stateView.ts'
import { computeHeartbeatSigningHash } from '../../src/state/storage/livenessRules.ts'
import { applyLiveness, settleLivenessEpoch, trackHostLiveness } from '../../src/state/storage/livenessState.ts'
import { TABLES } from '../../src/state/tables.ts'

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '10000' }, missing: { type: 'string', default: '100' } } })
const hostCount = Number(values.hosts)
const missing = Number(values.missing)
const L = DEFAULT_PARAMS.livenessEpochSlots
const genesis = { chainId: 'xsc-bench', params: DEFAULT_PARAMS } as unknown as ApplyContext['genesis']
const validator = keyPairFromSecret(hash(utf8('bench-validator')))
const ctxAt = (slot: number, height: number): ApplyContext => ({ genesis, height, slot, proposer: validator.publicKey, prevHash: new Uint8Array(32), beaconMix: hash(u32be(slot)), baseFee: 0n })
const cpu = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const state = new MemoryState()
const keys = Array.from({ length: hostCount }, (_, i) => keyPairFromSecret(hash(utf8(`bench-host-${i}`))))
{
  const s = new StateOverlay(state)
  s.write(TABLES.validator.at(validator.publicKey), { stake: 1n, peerId: '' })
  const host = { params: { coord: { x: 0, y: 0, z: 0 }, zone: 'z', capacityBytes: 1n << 40n, capabilities: 1, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: 'p', memoryBytes: 1n, encryptionKey: undefined }, reputation: 8000, status: HOST_STATUS.active, usedBytes: 0n, joinedHeight: 0, failedAudits: 0, bond: 0n, passedChecks: 0 }
  for (const k of keys) {
    s.write(TABLES.host.at(k.publicKey), host)
    trackHostLiveness(s, k.publicKey, ctxAt(0, 1))
  }
  settleLivenessEpoch(s, ctxAt(0, 1), 'ledger')
  state.apply(s.writeSet())
}
// Epoch 1 opens at slot L; its mix is the one hosts sign over.
let height = 2
const step = (slot: number, entry?: LivenessEntry): { cpuMs: number; wallMs: number } => {
  const ctx = ctxAt(slot, height++)
  const s = new StateOverlay(state)
  const c0 = cpu()
  const t0 = performance.now()
  if (entry) applyLiveness(s, entry, ctx)
  settleLivenessEpoch(s, ctx, 'ledger')
  const out = { cpuMs: cpu() - c0, wallMs: performance.now() - t0 }
  state.apply(s.writeSet())
  return out
}
step(L)
const mix = TABLES.livenessEpoch.codec.decode(state.get(TABLES.livenessEpoch.key())!).mix
const beats: Heartbeat[] = keys.slice(missing).map((k) => ({ host: k.publicKey, signature: sign(k.secretKey, computeHeartbeatSigningHash(genesis.chainId, 1, mix, k.publicKey)) }))
beats.sort((a, b) => compareBytes(a.host, b.host))
const perBlock: { cpuMs: number; wallMs: number }[] = []
let slot = L + 1
let entryBytes = 0
for (let i = 0; i < beats.length; i += LIMITS.heartbeatsPerBlock) {
  const entry: LivenessEntry = { type: 'liveness', epoch: 1, heartbeats: beats.slice(i, i + LIMITS.heartbeatsPerBlock) }
  entryBytes = Math.max(entryBytes, encode(BlockEntry, entry).length)
  perBlock.push(step(slot++, entry))
}
while (slot < 2 * L) step(slot++)
const close = step(2 * L)
const full = perBlock[0]!
console.log(JSON.stringify({
  hosts: hostCount,
  heartbeatsPerBlock: LIMITS.heartbeatsPerBlock,
  livenessEntryBytes: entryBytes,
  bytesPerHeartbeat: Math.round((entryBytes / LIMITS.heartbeatsPerBlock) * 10) / 10,
  applyFullEntryCpuMs: Math.round(full.cpuMs),
  applyFullEntryWallMs: Math.round(full.wallMs),
  verifyUsPerHeartbeat: Math.round((full.cpuMs * 1000) / LIMITS.heartbeatsPerBlock),
  blocksForAllHosts: perBlock.length,
  missingHosts: missing,
  closeEpochCpuMs: Math.round(close.cpuMs * 10) / 10,
  closeEpochWallMs: Math.round(close.wallMs * 10) / 10,
}))
