// The node's real RPC backend for bench:rpc: a classic-level chain store in a temp dir holding
// blocks of signed transfers, read through NodeRpcBackend exactly as `xsc node` serves it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { txSigningHash } from '../../blocks/ids.ts'
import type { GenesisConfig, TxBody } from '../../blocks/schema.ts'
import { computeValidatorBeaconCommitment } from '../../consensus/beacon.ts'
import { Chain } from '../../src/chain/chain.ts'
import { hash, keyPairFromSecret, sign, utf8 } from '../../src/crypto/index.ts'
import { BlobStore } from '../../src/node/blobStore.ts'
import { ChainEvents } from '../../src/node/chainEvents.ts'
import { NodeRpcBackend } from '../../src/node/rpcBackend.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'
import type { BenchBackend } from './rpc.ts'

export async function createBenchBackend(): Promise<BenchBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'xsc-bench-rpc-'))
  const key = (n: string) => keyPairFromSecret(hash(utf8(`xsc-bench-rpc/${n}`)))
  const validator = key('validator')
  const senders = Array.from({ length: 100 }, (_, i) => key(`sender-${i}`))
  const genesis: GenesisConfig = {
    chainId: 'xsc-bench',
    genesisTime: 1_700_000_000_000n,
    slotMs: 1000,
    tokenSymbol: 'XSC',
    tokenDecimals: 9,
    allocations: senders.map((s) => ({ to: s.publicKey, amount: 10n ** 20n })),
    validators: [{ address: validator.publicKey, stake: 1_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(validator.secretKey, 0, DEFAULT_PARAMS.beaconChainLength) }],
    consensus: { ...DEFAULT_CONSENSUS, schemes: ['stake'] },
    // Fees off and no block byte cap: this bench measures import, not pricing (bench:spam does).
  params: { ...DEFAULT_PARAMS, ...FREE_FEE_PARAMS, targetBlockTxBytes: 1 << 24 },
  }
  const chain = await Chain.open({ dataDir: join(dir, 'chain'), genesis, validatorKey: validator, signatureWorkers: 0 })
  const receivers = Array.from({ length: 900 }, (_, i) => key(`receiver-${i}`).publicKey)
  const nonces = new Array<number>(senders.length).fill(0)
  for (let height = 1; height <= 200; height++) {
    for (let i = 0; i < 50; i++) {
      const s = (height * 50 + i) % senders.length
      const body: TxBody = { chainId: genesis.chainId, from: senders[s]!.publicKey, nonce: nonces[s]!++, fee: 1n, payload: { type: 'transfer', to: receivers[(height * 50 + i) % receivers.length]!, amount: 1000n } }
      chain.mempool.add({ body, signature: sign(senders[s]!.secretKey, txSigningHash(body)) }, chain.store.state, { signatureChecked: true })
    }
    await chain.produceBlock(height, Number(genesis.genesisTime) + height * genesis.slotMs)
  }
  const backend = new NodeRpcBackend({ chain, events: new ChainEvents(chain), blobs: new BlobStore(join(dir, 'blobs')) })
  return {
    backend,
    addresses: [...senders.map((s) => s.publicKey), ...receivers],
    maxHeight: chain.head.height,
    close: async () => {
      await chain.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
