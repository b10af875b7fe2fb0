import { ChainParams, type ConsensusConfig, type GenesisConfig } from '../../blocks/schema.ts'
import { fromHex, toHex } from '../crypto/index.ts'
import { GenesisError } from './errors.ts'
import { FEE_PARAM_DEFAULTS } from './fees.ts'
import { MARKET_PARAM_DEFAULTS } from './market/marketParams.ts'

/**
 * genesis.json is for people: amounts and big integers as decimal strings, keys as 0x-hex.
 * `parseGenesisJson` turns it into the typed config (and names the first bad field);
 * `formatGenesisJson` is its inverse.
 */
export interface GenesisJson {
  chainId: string
  genesisTime: string
  slotMs: number
  token: { symbol: string; decimals: number }
  allocations: { address: string; amount: string }[]
  /** beaconCommitment: 0x-hex tip of the validator's beacon hash chain; absent or zero registers none. */
  validators: { address: string; stake: string; peerId?: string; beaconCommitment?: string }[]
  consensus: ConsensusConfig
  params: Omit<ChainParams, BigintParam> & { [K in BigintParam]: string }
}

/** The ChainParams fields that are bigints (u64/u128), written as decimal strings in genesis.json. */
const BIGINT_PARAMS = ['minStake', 'maxFuelLimit', 'minFeePerByte', 'minBaseFee', 'maxBaseFee', 'existentialDeposit', 'hostBondBase', 'hostBondPerGiB'] as const
type BigintParam = (typeof BIGINT_PARAMS)[number]

function bad(field: string, why: string): never {
  throw new GenesisError('BAD_GENESIS', `genesis.json: ${field} ${why}`, { field })
}

function bigintField(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) bad(field, 'must be a decimal string')
  return BigInt(v)
}

function intField(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(field, 'must be a non-negative integer')
  return v
}

function keyField(v: unknown, field: string): Uint8Array {
  try {
    return fromHex(v as string, 32)
  } catch {
    return bad(field, 'must be a 32-byte 0x-hex key')
  }
}

const PARAM_BIGINTS = new Set<string>(BIGINT_PARAMS)

export function parseGenesisJson(json: unknown): GenesisConfig {
  if (typeof json !== 'object' || json === null) bad('(root)', 'must be an object')
  const j = json as Partial<GenesisJson>
  if (typeof j.chainId !== 'string') bad('chainId', 'must be a string')
  if (typeof j.token !== 'object' || j.token === null) bad('token', 'must be an object')
  if (!Array.isArray(j.allocations)) bad('allocations', 'must be an array')
  if (!Array.isArray(j.validators) || j.validators.length === 0) bad('validators', 'must be a non-empty array')
  if (typeof j.consensus !== 'object' || j.consensus === null) bad('consensus', 'must be an object')
  if (typeof j.params !== 'object' || j.params === null) bad('params', 'must be an object')
  const c = j.consensus
  const consensus: ConsensusConfig = {
    schemes: Array.isArray(c.schemes) && c.schemes.every((s) => typeof s === 'string') ? c.schemes : bad('consensus.schemes', 'must be a list of scheme names'),
    driftMs: intField(c.driftMs, 'consensus.driftMs'),
    timeIterations: intField(c.timeIterations, 'consensus.timeIterations'),
    timeCheckpoints: intField(c.timeCheckpoints, 'consensus.timeCheckpoints'),
    workBits: intField(c.workBits, 'consensus.workBits'),
    spacePlotEntries: intField(c.spacePlotEntries, 'consensus.spacePlotEntries'),
    spaceLookups: intField(c.spaceLookups, 'consensus.spaceLookups'),
  }
  const params = {} as Record<string, number | bigint>
  // Every parameter is stated: a genesis written before a parameter existed is refused by name,
  // never completed from this build's defaults (two builds would then run different chains).
  const known = ChainParams.shape.kind === 'struct' ? Object.keys(ChainParams.shape.fields) : []
  for (const k of known) if (!Object.hasOwn(j.params, k)) bad(`params.${k}`, 'is missing (a genesis file from before this parameter existed: regenerate it, or add the parameter)')
  for (const [k, v] of Object.entries(j.params)) {
    if (!known.includes(k)) bad(`params.${k}`, 'is not a chain parameter')
    params[k] = PARAM_BIGINTS.has(k) ? bigintField(v, `params.${k}`) : intField(v, `params.${k}`)
  }
  return {
    chainId: j.chainId,
    genesisTime: bigintField(j.genesisTime, 'genesisTime'),
    slotMs: intField(j.slotMs, 'slotMs'),
    tokenSymbol: typeof j.token.symbol === 'string' ? j.token.symbol : bad('token.symbol', 'must be a string'),
    tokenDecimals: intField(j.token.decimals, 'token.decimals'),
    allocations: j.allocations.map((a, i) => ({ to: keyField(a?.address, `allocations[${i}].address`), amount: bigintField(a?.amount, `allocations[${i}].amount`) })),
    validators: j.validators.map((v, i) => ({
      address: keyField(v?.address, `validators[${i}].address`),
      stake: bigintField(v?.stake, `validators[${i}].stake`),
      peerId: typeof v?.peerId === 'string' ? v.peerId : '',
      beaconCommitment: v?.beaconCommitment === undefined ? new Uint8Array(32) : keyField(v.beaconCommitment, `validators[${i}].beaconCommitment`),
    })),
    consensus,
    params: params as unknown as ChainParams,
  }
}

export function formatGenesisJson(g: GenesisConfig): GenesisJson {
  const params: Record<string, number | string> = {}
  for (const [k, v] of Object.entries(g.params)) params[k] = typeof v === 'bigint' ? v.toString() : v
  return {
    chainId: g.chainId,
    genesisTime: g.genesisTime.toString(),
    slotMs: g.slotMs,
    token: { symbol: g.tokenSymbol, decimals: g.tokenDecimals },
    allocations: g.allocations.map((a) => ({ address: toHex(a.to), amount: a.amount.toString() })),
    validators: g.validators.map((v) => ({ address: toHex(v.address), stake: v.stake.toString(), peerId: v.peerId, beaconCommitment: toHex(v.beaconCommitment) })),
    consensus: g.consensus,
    params: params as GenesisJson['params'],
  }
}

/** Protocol defaults `xsc genesis init` starts from (devnet-sized consensus parameters). */
export const DEFAULT_PARAMS: ChainParams = {
  // Market and reputation values have one home (docs/economics.md); the rest are storage, compute and limits.
  ...MARKET_PARAM_DEFAULTS,
  dataShards: 4,
  parityShards: 2,
  // Audit proofs carry one chunk and its path: 256 bytes keeps a result under 1 KiB (docs/storage.md).
  chunkSize: 256,
  segmentSize: 4 * 1024 * 1024,
  auditEpochSlots: 20,
  auditFailThreshold: 2,
  rentGraceEpochs: 3,
  minStake: 1_000n,
  maxFuelLimit: 10_000_000_000n,
  maxReplicas: 7,
  maxModuleBytes: 16 * 1024 * 1024,
  placementBandHosts: 16,
  vettingPasses: 8,
  unvettedShareBp: 500,
  ...FEE_PARAM_DEFAULTS,
  // Bonds and slashing (docs/economics.md "Bonds and slashing"): devnet-sized, 1200 heights ≈ 10 min at 500 ms slots.
  slashShareBps: 500,
  unbondingHeights: 1200,
  hostBondBase: 1_000n,
  hostBondPerGiB: 100n,
  hostSlashShareBps: 1000,
  auditSamplesPerBlock: 512,
  minStorageEpochs: 2,
  storageAckBlocks: 120,
  // 65,536 reveals: with 4 validators at 500 ms slots ~36 h of blocks before a re-commit (docs/validators.md).
  beaconChainLength: 1 << 16,
  // Liveness (docs/storage.md "Liveness"): 40 slots (20 s at 500 ms), so that with 100 equal validators an epoch's
  // proposers hold more than 1/3 of the stake (an epoch counts only then); suspended after 2 missed epochs.
  livenessEpochSlots: 40,
  livenessMissThreshold: 2,
  livenessQuorumBlocks: 20,
}

export const DEFAULT_CONSENSUS: ConsensusConfig = {
  schemes: ['stake', 'time', 'work', 'space'],
  driftMs: 2_000,
  // 100 steps (~0.1 ms), not 2,000 (~1.5 ms that every node spent verifying every block): under BFT the chain
  // only lower-bounds parent-to-child time by the proposer's hash speed, which at any cost a verifier can pay is
  // far below a slot; the slot rule and the votes order blocks (docs/consensus.md "time", "What T buys").
  timeIterations: 100,
  timeCheckpoints: 4,
  workBits: 8,
  spacePlotEntries: 4096,
  spaceLookups: 4,
}
