import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { txSigningHash } from '../../blocks/ids.ts'
import type { ChainParams, GenesisConfig, Hash, SignedTx, TxBody, TxPayload } from '../../blocks/schema.ts'
import { BeaconChain, computeBeaconSeed, computeValidatorBeaconCommitment } from '../../consensus/beacon.ts'
import { type Commit, signVote, VOTE_STEP } from '../../consensus/bft/messages.ts'
import { hash, type KeyPair, keyPairFromSecret, sign, toHex, utf8 } from '../../src/crypto/index.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'

/** Deterministic test keys: key(n) is the same on every run and machine. */
export function testKey(name: string): KeyPair {
  return keyPairFromSecret(hash(utf8(`xsc-test/${name}`)))
}

export function tempDir(prefix = 'xsc-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface TestGenesisOpts {
  validators?: KeyPair[]
  funded?: { key: KeyPair; amount: bigint }[]
  schemes?: string[]
  genesisTime?: bigint
  slotMs?: number
  /** Overrides of the chain parameters; by default fees are off (FREE_FEE_PARAMS) so tests of other things need not price their txs. */
  params?: Partial<ChainParams>
}

export function testGenesis(opts: TestGenesisOpts = {}): GenesisConfig {
  const validators = opts.validators ?? [testKey('validator-0')]
  // A short beacon chain keeps genesis and a proposer's first block cheap; exhaustion only stops a validator's reveals.
  const params = { ...DEFAULT_PARAMS, ...FREE_FEE_PARAMS, beaconChainLength: 1024, ...opts.params }
  return {
    chainId: 'xsc-test',
    genesisTime: opts.genesisTime ?? 1_700_000_000_000n,
    slotMs: opts.slotMs ?? 1000,
    tokenSymbol: 'XSC',
    tokenDecimals: 9,
    allocations: (opts.funded ?? []).map((f) => ({ to: f.key.publicKey, amount: f.amount })),
    validators: validators.map((v) => ({ address: v.publicKey, stake: 1_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(v.secretKey, 0, params.beaconChainLength) })),
    consensus: { ...DEFAULT_CONSENSUS, schemes: opts.schemes ?? DEFAULT_CONSENSUS.schemes, timeIterations: 200, workBits: 4, spacePlotEntries: 1024 },
    params,
  }
}

/** The `index`-th beacon reveal (0-based) of a test validator's genesis chain (testGenesis registers its commitment). */
export function testBeaconReveal(key: KeyPair, genesis: GenesisConfig, index = 0): Uint8Array {
  const id = `${toHex(key.secretKey)}/${genesis.params.beaconChainLength}`
  let chain = beaconChains.get(id)
  if (chain === undefined) {
    chain = new BeaconChain(computeBeaconSeed(key.secretKey, 0), genesis.params.beaconChainLength)
    beaconChains.set(id, chain)
  }
  return chain.reveal(index)
}
const beaconChains = new Map<string, BeaconChain>()

export function signTx(key: KeyPair, nonce: number, payload: TxPayload, opts: { fee?: bigint; chainId?: string } = {}): SignedTx {
  const body: TxBody = { chainId: opts.chainId ?? 'xsc-test', from: key.publicKey, nonce, fee: opts.fee ?? 1n, payload }
  return { body, signature: sign(key.secretKey, txSigningHash(body)) }
}

export function transfer(key: KeyPair, nonce: number, to: Uint8Array, amount: bigint, fee = 1n): SignedTx {
  return signTx(key, nonce, { type: 'transfer', to, amount }, { fee })
}

/** Nonces handed out per sender, for tests that sign several txs without asking the chain. */
export class NonceCounter {
  readonly #next = new Map<string, number>()

  next(key: KeyPair): number {
    const id = toHex(key.publicKey)
    const n = this.#next.get(id) ?? 0
    this.#next.set(id, n + 1)
    return n
  }

  /** Takes back the last nonce handed to `key` (its tx was dropped, so the nonce is free again). */
  release(key: KeyPair): void {
    const id = toHex(key.publicKey)
    this.#next.set(id, (this.#next.get(id) ?? 1) - 1)
  }

  clear(): void {
    this.#next.clear()
  }
}

/** The precommit of the lone validator `key` for `blockId` at `height` (round 0), as a Commit: a quorum of a one-validator genesis. */
export function soleValidatorCommit(genesis: GenesisConfig, key: KeyPair, blockId: Hash, height: number): Commit {
  const vote = signVote({ chainId: genesis.chainId, step: VOTE_STEP.precommit, height, round: 0, blockId, validator: key.publicKey }, key.secretKey)
  return { chainId: genesis.chainId, height, round: 0, blockId, signatures: [{ validator: key.publicKey, signature: vote.signature }] }
}
