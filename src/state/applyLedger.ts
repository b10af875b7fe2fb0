import { CAPABILITY, type HostParams, type SignedTx } from '../../blocks/schema.ts'
import { NO_REVEAL } from '../../consensus/beacon.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { bumpNonce, burnSupply, credit, debit } from './accounts.ts'
import { applyAssetDelete, applyAssetExtend } from './applyAssetLifecycle.ts'
import type { ApplyContext } from './applyContext.ts'
import { writeBeaconCommitment } from './beaconState.ts'
import { checkAccountCreation, checkTxAgainstState, verifyTxSignature } from './checkTx.ts'
import { StateError } from './errors.ts'
import { computeFeeSplit } from './fees.ts'
import { BOND_KIND, HOST_STATUS, HostRecord } from './records.ts'
import type { StateOverlay } from './stateView.ts'
import { trackHostLiveness } from './storage/livenessState.ts'
import { queueRepairsOfHost } from './storage/repairQueue.ts'
import { TABLES } from './tables.ts'
import { beginUnbonding, computeHostBond, readBondAccount } from './unbonding.ts'

/**
 * Applies one ledger tx: checks, fee to the proposer, nonce, effect. On error the caller's
 * overlay is untouched (the tx runs in a child overlay that is merged only on success).
 */
export function applyLedgerTx(state: StateOverlay, tx: SignedTx, ctx: ApplyContext): void {
  const s = beginTx(state, tx, ctx)
  const { from, payload } = tx.body
  switch (payload.type) {
    case 'transfer':
      checkAccountCreation(s, payload.to, payload.amount, ctx.genesis.params)
      debit(s, from, payload.amount)
      credit(s, payload.to, payload.amount)
      break
    case 'stake': {
      if (payload.amount === 0n) throw new StateError('INVALID_TX', 'stake amount must be positive')
      if (readBondAccount(s, from).slashedAtHeight !== undefined) throw new StateError('SLASHED', `${toHex(from)} was slashed for equivocation and may not stake again`)
      debit(s, from, payload.amount)
      const v = s.read(TABLES.validator.at(from)) ?? { stake: 0n, peerId: '' }
      const stake = v.stake + payload.amount
      if (stake < ctx.genesis.params.minStake) throw new StateError('STAKE_TOO_LOW', `stake ${stake} is below minStake ${ctx.genesis.params.minStake}`)
      s.write(TABLES.validator.at(from), { ...v, stake })
      break
    }
    case 'unstake': {
      const v = s.read(TABLES.validator.at(from))
      if (v === undefined) throw new StateError('UNKNOWN_VALIDATOR', `${toHex(from)} is not a validator`)
      if (payload.amount === 0n || payload.amount > v.stake) throw new StateError('INVALID_TX', `cannot unstake ${payload.amount} of ${v.stake}`)
      const stake = v.stake - payload.amount
      if (stake !== 0n && stake < ctx.genesis.params.minStake) throw new StateError('STAKE_TOO_LOW', 'remaining stake would be below minStake; unstake all or less')
      s.write(TABLES.validator.at(from), stake === 0n ? undefined : { ...v, stake })
      // Not credited now: it stays slashable for the unbonding period, then a later block releases it.
      beginUnbonding(s, { owner: from, kind: BOND_KIND.validatorStake, amount: payload.amount }, ctx.height, ctx.genesis.params)
      break
    }
    case 'validator.beacon': {
      if (s.read(TABLES.validator.at(from)) === undefined) throw new StateError('UNKNOWN_VALIDATOR', `${toHex(from)} is not a validator`)
      if (equalBytes(payload.commitment, NO_REVEAL)) throw new StateError('INVALID_TX', 'a beacon commitment cannot be zero', { field: 'commitment' })
      writeBeaconCommitment(s, from, payload.commitment)
      break
    }
    case 'host.join': {
      const existing = s.read(TABLES.host.at(from))
      if (existing !== undefined && existing.status !== HOST_STATUS.left) throw new StateError('HOST_EXISTS', `${toHex(from)} is already a host`)
      checkHostParams(payload.host, ctx)
      const bond = computeHostBond(payload.host.capacityBytes, ctx.genesis.params)
      debit(s, from, bond)
      s.write(TABLES.host.at(from), {
        params: payload.host,
        reputation: existing?.reputation ?? ctx.genesis.params.reputationInitialBp,
        status: HOST_STATUS.active,
        usedBytes: 0n,
        joinedHeight: ctx.height,
        failedAudits: 0,
        bond,
        // Vetting survives a leave and re-join, as reputation does.
        passedChecks: existing?.passedChecks ?? 0,
      })
      trackHostLiveness(s, from, ctx)
      break
    }
    case 'host.update': {
      const existing = requireHost(s, from)
      checkHostParams(payload.host, ctx)
      if (payload.host.capacityBytes < existing.usedBytes) throw new StateError('INVALID_TX', 'capacity below the bytes already stored')
      // More declared capacity needs more bond; less keeps the bond until the host leaves.
      const needed = computeHostBond(payload.host.capacityBytes, ctx.genesis.params)
      const topUp = needed > existing.bond ? needed - existing.bond : 0n
      debit(s, from, topUp)
      s.write(TABLES.host.at(from), { ...existing, params: payload.host, bond: existing.bond + topUp })
      break
    }
    case 'host.leave': {
      const existing = requireHost(s, from)
      // A host holding shards drains first: audits move its shards away, then it is `left`.
      const status = existing.usedBytes === 0n ? HOST_STATUS.left : HOST_STATUS.draining
      // The bond comes back after the unbonding period; until then failed audits of shards it still holds slash it there.
      if (existing.bond > 0n) beginUnbonding(s, { owner: from, kind: BOND_KIND.hostBond, amount: existing.bond }, ctx.height, ctx.genesis.params)
      s.write(TABLES.host.at(from), { ...existing, status, bond: 0n })
      // Its shards move now, not when their assets happen to be sampled.
      if (status === HOST_STATUS.draining) queueRepairsOfHost(s, from)
      break
    }
    case 'asset.extend':
      applyAssetExtend(s, from, payload)
      break
    case 'asset.delete':
      applyAssetDelete(s, from, payload)
      break
    case 'deploy':
    case 'execute':
      throw new StateError('WRONG_ENTRY_KIND', `${payload.type} txs go in ${payload.type === 'deploy' ? 'deployment' : 'execution'} blocks`)
  }
  s.mergeInto(state)
}

/**
 * What every tx does first, whatever block carries it: stateless checks, fee, nonce and balance;
 * the fee's base part burned and the rest (the tip) to the proposer; the nonce bump. Returns a
 * child overlay the caller merges on success.
 */
export function beginTx(state: StateOverlay, tx: SignedTx, ctx: ApplyContext): StateOverlay {
  verifyTxSignature(tx, ctx.genesis.chainId, { signatureChecked: ctx.signaturesChecked === true })
  checkTxAgainstState(state, tx, ctx.genesis.params, { baseFee: ctx.baseFee })
  const s = state.child()
  const { burn, tip } = computeFeeSplit(tx, ctx.baseFee)
  debit(s, tx.body.from, tx.body.fee)
  credit(s, ctx.proposer, tip)
  burnSupply(s, burn)
  bumpNonce(s, tx.body.from)
  return s
}

function requireHost(s: StateOverlay, from: Uint8Array): HostRecord {
  const existing = s.read(TABLES.host.at(from))
  if (existing === undefined || existing.status === HOST_STATUS.left) throw new StateError('UNKNOWN_HOST', `${toHex(from)} is not a host`)
  if (existing.status === HOST_STATUS.disqualified) throw new StateError('INVALID_TX', 'host is disqualified')
  return existing
}

function checkHostParams(h: HostParams, ctx: ApplyContext): void {
  const g = ctx.genesis.params.gridSize
  if (h.coord.x >= g || h.coord.y >= g || h.coord.z >= g) throw new StateError('INVALID_TX', `host coordinates must be below the grid size ${g}`)
  if (h.zone.length === 0) throw new StateError('INVALID_TX', 'host zone must not be empty')
  if (h.capabilities === 0) throw new StateError('INVALID_TX', 'host must offer at least one capability')
  // Clients wrap private executions' keys to this key: a private-capable host without one could be assigned work it can never run.
  if ((h.capabilities & CAPABILITY.private) !== 0 && h.encryptionKey === undefined) throw new StateError('INVALID_TX', 'a host offering private executions must publish an encryption key')
}
