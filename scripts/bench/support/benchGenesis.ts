import type { ChainParams, ConsensusConfig, GenesisConfig } from '../../../blocks/schema.ts'
import { computeValidatorBeaconCommitment } from '../../../consensus/beacon.ts'
import { hash, type KeyPair, keyPairFromSecret, utf8 } from '../../../src/crypto/index.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../../src/state/genesisJson.ts'

/**
 * The in-process benches' chain: one validator (it proposes every block) and `senders` funded
 * accounts, keys derived from `name` so every run signs the same txs.
 */
export function buildBenchGenesis(opts: { name: string; senders: number; amount: bigint; consensus?: Partial<ConsensusConfig>; params?: Partial<ChainParams> }): { genesis: GenesisConfig; key: (n: string) => KeyPair; validator: KeyPair; senders: KeyPair[] } {
  const key = (n: string): KeyPair => keyPairFromSecret(hash(utf8(`${opts.name}/${n}`)))
  const validator = key('validator')
  const senders = Array.from({ length: opts.senders }, (_, i) => key(`sender-${i}`))
  const genesis: GenesisConfig = {
    chainId: 'xsc-bench',
    genesisTime: 1_700_000_000_000n,
    slotMs: 1000,
    tokenSymbol: 'XSC',
    tokenDecimals: 9,
    allocations: senders.map((s) => ({ to: s.publicKey, amount: opts.amount })),
    validators: [{ address: validator.publicKey, stake: 1_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(validator.secretKey, 0, DEFAULT_PARAMS.beaconChainLength) }],
    consensus: { ...DEFAULT_CONSENSUS, ...opts.consensus },
    params: { ...DEFAULT_PARAMS, ...opts.params },
  }
  return { genesis, key, validator, senders }
}
