import { encode } from '../../blocks/codec.ts'
import { blockHash, computeBodyRoot, txId, txSigningHash } from '../../blocks/ids.ts'
import { Block, type BlockEntry, GenesisConfig, SignedTx, type TxBody } from '../../blocks/schema.ts'
import { BeaconChain, computeBeaconSeed, computeValidatorBeaconCommitment } from '../../consensus/beacon.ts'
import { createRegistry } from '../../consensus/proofScheme.ts'
import { sealBlock } from '../../consensus/sealBlock.ts'
import { buildPlot } from '../../consensus/space.ts'
import { hash, keyPairFromSecret, sign, toHex, utf8 } from '../../src/crypto/index.ts'
import { applyBlock } from '../../src/state/applyBlock.ts'
import { readBeaconMix } from '../../src/state/beaconState.ts'
import { computeBlockTxBytes, computeNextBaseFee } from '../../src/state/fees.ts'
import { computeGenesis } from '../../src/state/genesis.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'
import { MemoryState } from '../../src/state/stateView.ts'

/**
 * Golden vectors: fixed keys, a fixed genesis, signed txs of every kind, and a sealed ledger
 * block, with their canonical hex and ids. Everything here is deterministic (ed25519 signatures
 * are; proofs search from nonce 0), so a change in any byte is a format change.
 */
export function buildChainVectors(): Record<string, string> {
  const key = (n: string) => keyPairFromSecret(hash(utf8(`xsc-vector/${n}`)))
  const validator = key('validator')
  const alice = key('alice')
  const genesis: GenesisConfig = {
    chainId: 'xsc-vectors',
    genesisTime: 1_700_000_000_000n,
    slotMs: 1000,
    tokenSymbol: 'XSC',
    tokenDecimals: 9,
    allocations: [{ to: alice.publicKey, amount: 10n ** 18n }],
    validators: [{ address: validator.publicKey, stake: 1_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(validator.secretKey, 0, DEFAULT_PARAMS.beaconChainLength) }],
    consensus: { ...DEFAULT_CONSENSUS, timeIterations: 100, workBits: 6, spacePlotEntries: 256, spaceLookups: 2 },
    params: DEFAULT_PARAMS,
  }
  const g = computeGenesis(genesis)
  const tx = (nonce: number, payload: TxBody['payload']): SignedTx => {
    const body: TxBody = { chainId: genesis.chainId, from: alice.publicKey, nonce, fee: 100_000n, payload }
    return { body, signature: sign(alice.secretKey, txSigningHash(body)) }
  }
  const coord = { x: 1, y: 2, z: 3 }
  const txs: Record<string, SignedTx> = {
    transfer: tx(0, { type: 'transfer', to: validator.publicKey, amount: 123_456_789n }),
    hostJoin: tx(1, { type: 'host.join', host: { coord, zone: 'eu-1', capacityBytes: 1n << 30n, capabilities: 3, askPerFuel: 2n, askPerByteEpoch: 1n, peerId: '12D3KooW', memoryBytes: 16n << 20n, encryptionKey: undefined } }),
    stake: tx(2, { type: 'stake', amount: 5_000n }),
    deploy: tx(3, { type: 'deploy', assetKind: 1, manifest: { size: 10n, dataHash: hash(utf8('data')), k: 4, m: 2, segmentSize: 1 << 20, shardSize: 3n, chunkSize: 4096, shardHashes: [hash(utf8('s0'))], chunkRoots: [hash(utf8('c0'))] }, deposit: 1000n, bidPerByteEpoch: 3n, origin: coord, zones: ['eu-1'], strategy: 1 }),
    validatorBeacon: tx(5, { type: 'validator.beacon', commitment: hash(utf8('beacon-commitment')) }),
    execute: tx(4, { type: 'execute', asset: hash(utf8('asset')), fn: 'run', input: utf8('hello'), fuelLimit: 1_000_000n, bidPerFuel: 5n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: coord, zones: [], strategy: 2, minMemoryBytes: 1n << 20n }),
  }
  const state = new MemoryState()
  state.apply(g.writes)
  const entries: BlockEntry[] = [{ type: 'tx', tx: txs.transfer! }]
  const slot = 1
  const draft: Block = { header: { chainId: genesis.chainId, height: 1, prevHash: g.hash, kind: 'ledger', slot, timestamp: genesis.genesisTime + 1000n, proposer: validator.publicKey, bodyRoot: computeBodyRoot(entries), stateRoot: new Uint8Array(32), baseFee: computeNextBaseFee(g.block.header, genesis.genesisTime + 1000n, genesis.params, genesis.slotMs), txBytes: computeBlockTxBytes(entries), round: 0, beaconReveal: new BeaconChain(computeBeaconSeed(validator.secretKey, 0), genesis.params.beaconChainLength).reveal(0), proofs: [], signature: new Uint8Array(64) }, entries }
  const { stateRoot } = applyBlock(state, draft, g.block.header.stateRoot, { genesis, height: 1, slot, proposer: validator.publicKey, prevHash: g.hash, beaconMix: readBeaconMix(state), baseFee: draft.header.baseFee })
  const header = sealBlock(
    { registry: createRegistry(genesis.consensus), genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: genesis.validators, parentSlot: 0, secretKey: validator.secretKey, plot: buildPlot(validator.publicKey, genesis.consensus.spacePlotEntries) },
    { ...draft.header, stateRoot },
  )
  const block: Block = { header, entries }
  const out: Record<string, string> = {
    genesisConfig: toHex(encode(GenesisConfig, genesis)),
    genesisBlock: toHex(encode(Block, g.block)),
    genesisHash: toHex(g.hash),
    ledgerBlock: toHex(encode(Block, block)),
    ledgerBlockHash: toHex(blockHash(header)),
  }
  for (const [name, t] of Object.entries(txs)) {
    out[`tx.${name}`] = toHex(encode(SignedTx, t))
    out[`tx.${name}.id`] = toHex(txId(t))
  }
  return out
}
