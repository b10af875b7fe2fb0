// The node's real RPC backend for bench:rpc: a classic-level chain store in a temp dir holding
// blocks of signed transfers, read through NodeRpcBackend exactly as `xsc node` serves it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { txSigningHash } from '../../blocks/ids.ts'
import type { TxBody } from '../../blocks/schema.ts'
import { Chain } from '../../src/chain/chain.ts'
import { sign } from '../../src/crypto/index.ts'
import { BlobStore } from '../../src/node/blobStore.ts'
import { ChainEvents } from '../../src/node/chainEvents.ts'
import { NodeRpcBackend } from '../../src/node/rpcBackend.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { TABLES } from '../../src/state/tables.ts'
import type { BenchBackend } from './rpc.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'

export async function createBenchBackend(): Promise<BenchBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'xsc-bench-rpc-'))
  // Fees off and no block byte cap: this bench measures import, not pricing (bench:spam does).
  const { genesis, key, validator, senders } = buildBenchGenesis({ name: 'xsc-bench-rpc', senders: 100, amount: 10n ** 20n, consensus: { schemes: ['stake'] }, params: { ...FREE_FEE_PARAMS, targetBlockTxBytes: 1 << 24 } })
  const chain = await Chain.open({ dataDir: join(dir, 'chain'), genesis, validatorKey: validator, signatureWorkers: 0 })
  const receivers = Array.from({ length: 900 }, (_, i) => key(`receiver-${i}`).publicKey)
  const nonces = new Array<number>(senders.length).fill(0)
  // Accounts are served from disk: what the direct mempool adds read is loaded first.
  await chain.store.values.load(receivers.map((r) => TABLES.account.key(r)))
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
