import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { createClient, getBlock, http, RpcClientError, verifyBlockCommit } from '../../../src/client/index.ts'
import { MIN_PRUNE_KEEP_BLOCKS, XscNode } from '../../../src/node/node.ts'
import { signTx, tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'

const tmp = tempDir('xsc-prune-')
const nodes: XscNode[] = []
afterAll(async () => {
  for (const n of nodes) await n.stop()
  tmp.cleanup()
})

describe('xsc node --prune (a real node with its RPC)', () => {
  it('refuses to keep fewer than the minimum of blocks', async () => {
    const key = testKey('prune-validator')
    const genesis = testGenesis({ validators: [key], slotMs: 25, genesisTime: BigInt(Date.now()), schemes: ['stake'] })
    await expect(XscNode.start({ dataDir: join(tmp.dir, 'few'), genesis, validatorKey: key, logLevel: 'silent', p2p: { enabled: false }, rpc: { port: 0 }, pruneKeepBlocks: 10 })).rejects.toMatchObject({ code: 'BAD_CONFIG' })
  })

  it('serves old blocks as headers flagged pruned, still proves their finality, and says a pruned tx is history it no longer has', async () => {
    const key = testKey('prune-validator')
    const payer = testKey('prune-payer')
    const genesis = testGenesis({ validators: [key], slotMs: 25, genesisTime: BigInt(Date.now()), schemes: ['stake'], funded: [{ key: payer, amount: 10_000_000n }] })
    const node = await XscNode.start({ dataDir: join(tmp.dir, 'pruning'), genesis, validatorKey: key, logLevel: 'silent', p2p: { enabled: false }, rpc: { port: 0 }, pruneKeepBlocks: MIN_PRUNE_KEEP_BLOCKS })
    nodes.push(node)
    const txId = await node.chain.submitTx(signTx(payer, 0, { type: 'transfer', to: testKey('prune-payee').publicKey, amount: 5_000n }))
    await waitFor(async () => node.chain.store.prunedBelow > 8, 120_000, 'old bodies to be pruned')
    const client = createClient({ transport: http(node.rpc.url) })
    try {
      const old = (await getBlock(client, { height: 2, includeEntries: true }))!
      expect(old.pruned).toBe(true)
      expect(old.entries).toBeUndefined()
      // A light client still checks that height's finality from the header and its commit.
      const verified = (await verifyBlockCommit(client, { height: 2 }))!
      expect(verified.hash).toEqual(old.hash)
      const err = await client.request('xsc_getTransaction', [txId]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RpcClientError)
      expect((err as RpcClientError).code).toBe('HISTORY_UNAVAILABLE')
      // The recent blocks keep their bodies.
      const head = node.chain.head.height
      expect((await getBlock(client, { height: head - 5, includeEntries: true }))?.pruned).toBeUndefined()
      expect(head - node.chain.store.prunedBelow).toBeGreaterThanOrEqual(MIN_PRUNE_KEEP_BLOCKS - 1)
    } finally {
      await client.close()
    }
  }, 150_000)
})
