import { encode } from '../../blocks/codec.ts'
import { blockHash, computeBodyRoot } from '../../blocks/ids.ts'
import { type Block, type BlockHeader, GenesisConfig } from '../../blocks/schema.ts'
import { computeGenesisMix, NO_REVEAL } from '../../consensus/beacon.ts'
import { equalBytes, isValidPublicKey, toHex, ZERO_HASH } from '../crypto/index.ts'
import { MAX_AMOUNT } from './accounts.ts'
import { writeBeaconCommitment } from './beaconState.ts'
import { StateError } from './errors.ts'
import { verifyFeeParams } from './fees.ts'
import { verifyMarketParams } from './market/index.ts'
import { EMPTY_TREE_ROOT, type TreeNodeWrite } from './stateTree/treeNode.ts'
import { computeStateRoot, StateOverlay, type StateWrite } from './stateView.ts'
import { TABLES } from './tables.ts'

/** The largest fuel limit any execution may ask for, whatever genesis says. */
export const MAX_FUEL_LIMIT = 1n << 46n

const EMPTY_STATE = { get: () => undefined, scan: () => [], treeNodes: { node: () => undefined } }

export interface GenesisResult {
  block: Block
  hash: Uint8Array
  writes: StateWrite[]
  /** The state tree nodes of the genesis state (the chain store persists them). */
  treeNodes: TreeNodeWrite[]
}

/** The genesis state and block, derived only from the config: every node gets the same bytes. */
export function computeGenesis(config: GenesisConfig): GenesisResult {
  verifyMarketParams(config.params)
  verifyFeeParams(config.params)
  // The runtime packs fuel and call depth into one i64 (docs/compute.md): fuel limits stay below 2^46.
  if (config.params.maxFuelLimit > MAX_FUEL_LIMIT) throw new StateError('INVALID_TX', `genesis maxFuelLimit exceeds the protocol cap 2^46`, { field: 'params.maxFuelLimit' })
  const state = new StateOverlay(EMPTY_STATE)
  let total = 0n
  const seen = new Set<string>()
  for (const { to, amount } of config.allocations) {
    const id = toHex(to)
    if (seen.has(id)) throw new StateError('INVALID_TX', `genesis allocates to ${id} twice`)
    seen.add(id)
    total += amount
    state.write(TABLES.account.at(to), { balance: amount, nonce: 0 })
  }
  for (const v of config.validators) {
    if (!isValidPublicKey(v.address)) throw new StateError('INVALID_KEY', `genesis validator ${toHex(v.address)} is not a valid key`)
    if (v.stake < config.params.minStake) throw new StateError('STAKE_TOO_LOW', `genesis validator ${toHex(v.address)} stakes less than minStake`)
    total += v.stake
    state.write(TABLES.validator.at(v.address), { stake: v.stake, peerId: v.peerId })
    // A zero commitment registers no chain: that validator reveals nothing until it commits by tx.
    if (!equalBytes(v.beaconCommitment, NO_REVEAL)) writeBeaconCommitment(state, v.address, v.beaconCommitment)
  }
  if (config.params.livenessEpochSlots < 1 || config.params.livenessMissThreshold < 1) throw new StateError('INVALID_TX', 'genesis livenessEpochSlots and livenessMissThreshold must be at least 1', { field: 'params.livenessEpochSlots' })
  if (config.params.beaconChainLength < 1) throw new StateError('INVALID_TX', 'genesis beaconChainLength must be at least 1', { field: 'params.beaconChainLength' })
  state.write(TABLES.beaconMix.at(), computeGenesisMix(config.chainId))
  if (total > MAX_AMOUNT) throw new StateError('OVERFLOW', 'genesis supply overflows u128')
  state.write(TABLES.supply.at(), { total, burned: 0n })
  const writes = state.writeSet()
  const root = computeStateRoot(EMPTY_STATE.treeNodes, EMPTY_TREE_ROOT, writes)
  const entries = [{ type: 'genesis' as const, config: encode(GenesisConfig, config) }]
  const header: BlockHeader = {
    chainId: config.chainId,
    height: 0,
    prevHash: ZERO_HASH,
    kind: 'genesis',
    slot: 0,
    timestamp: config.genesisTime,
    proposer: ZERO_HASH,
    bodyRoot: computeBodyRoot(entries),
    stateRoot: root.stateRoot,
    baseFee: config.params.minBaseFee,
    txBytes: 0,
    round: 0,
    beaconReveal: NO_REVEAL,
    proofs: [],
    signature: new Uint8Array(64),
  }
  const block = { header, entries }
  return { block, hash: blockHash(header), writes, treeNodes: root.treeNodes }
}
