// Regenerates the repo's genesis.json from the well-known devnet keys (scripts/devnetKeys.ts).
// usage: tsx scripts/make-devnet-genesis.ts [validators=4] [out=genesis.json]
import { computeValidatorBeaconCommitment } from '../consensus/beacon.ts'
import { writeGenesisFile } from '../src/node/genesisFile.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../src/state/genesisJson.ts'
import { devnetKey } from './devnetKeys.ts'

const validators = Number(process.argv[2] ?? 4)
const out = process.argv[3] ?? 'genesis.json'
writeGenesisFile(out, {
  chainId: 'xsc-devnet',
  genesisTime: 1_767_225_600_000n, // 2026-01-01T00:00:00Z
  slotMs: 500,
  tokenSymbol: 'XSC',
  tokenDecimals: 9,
  allocations: [
    ...Array.from({ length: 4 }, (_, i) => ({ to: devnetKey('account', i).publicKey, amount: 1_000_000_000_000_000n })),
    ...Array.from({ length: 16 }, (_, i) => ({ to: devnetKey('host', i).publicKey, amount: 1_000_000_000_000n })),
    ...Array.from({ length: validators }, (_, i) => ({ to: devnetKey('validator', i).publicKey, amount: 1_000_000_000_000n })),
  ],
  validators: Array.from({ length: validators }, (_, i) => {
    const key = devnetKey('validator', i)
    // The node derives the same chain from its key (consensus/beacon.ts computeBeaconSeed).
    return { address: key.publicKey, stake: 1_000_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(key.secretKey, 0, DEFAULT_PARAMS.beaconChainLength) }
  }),
  consensus: DEFAULT_CONSENSUS,
  params: DEFAULT_PARAMS,
})
console.log(`wrote ${out} with ${validators} validators`)
