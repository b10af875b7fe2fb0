import { afterEach, describe, expect, it } from 'vitest'

import { txId } from '../../../blocks/ids.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { StateError } from '../../../src/state/errors.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const validator = testKey('validator-0')
const alice = testKey('alice')
const bob = testKey('bob')
const genesis = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 1_000_000n }] })
const T0 = Number(genesis.genesisTime)

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

async function openChain(dir: string): Promise<Chain> {
  const chain = await Chain.open({ dataDir: dir, genesis, validatorKey: validator, signatureWorkers: 1 })
  cleanups.push(() => chain.close())
  return chain
}

describe('chain', () => {
  it('includes transfers in sealed blocks, pays fees to the proposer, and survives a restart', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const chain = await openChain(tmp.dir)
    for (let n = 0; n < 3; n++) await chain.submitTx(transfer(alice, n, bob.publicKey, 100n, 2n))
    const b1 = await chain.produceBlock(1, T0 + 1000)
    expect(b1?.block.entries).toHaveLength(3)
    expect(b1?.block.header.proofs.map((p) => p.scheme)).toEqual(['stake', 'time', 'work', 'space'])
    expect(readAccount(chain.store.state, bob.publicKey).balance).toBe(300n)
    expect(readAccount(chain.store.state, alice.publicKey)).toEqual({ balance: 1_000_000n - 306n, nonce: 3 })
    expect(readAccount(chain.store.state, validator.publicKey).balance).toBe(6n)
    const headHash = toHex(chain.head.hash)
    await chain.close()
    cleanups.pop()

    const again = await openChain(tmp.dir)
    expect(toHex(again.head.hash)).toBe(headHash)
    // Accounts are served from disk: read after a restart, they load first.
    expect((await again.readAccount(bob.publicKey)).balance).toBe(300n)
    const located = await again.store.getTx((await import('../../../blocks/ids.ts')).txId(b1!.block.entries[0]!.type === 'tx' ? b1!.block.entries[0]!.tx : (undefined as never)))
    expect(located?.location.height).toBe(1)
  })

  it('rejects a replayed nonce, a wrong chain id and a bad signature with typed errors', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const chain = await openChain(tmp.dir)
    await chain.submitTx(transfer(alice, 0, bob.publicKey, 1n))
    await chain.produceBlock(1, T0 + 1000)
    const code = async (f: () => Promise<unknown>) => {
      try {
        await f()
      } catch (e) {
        expect(e).toBeInstanceOf(StateError)
        return (e as StateError).code
      }
    }
    expect(await code(() => chain.submitTx(transfer(alice, 0, bob.publicKey, 1n)))).toBe('NONCE_TOO_LOW')
    const forged = transfer(alice, 1, bob.publicKey, 1n)
    forged.signature[0]! ^= 1
    expect(await code(() => chain.submitTx(forged))).toBe('BAD_SIGNATURE')
    expect(await code(() => chain.submitTx(transfer(bob, 0, alice.publicKey, 1n)))).toBe('INSUFFICIENT_FUNDS')
  })

  it('a block from the wrong proposer or with a tampered proof is rejected by import', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const chain = await openChain(tmp.dir)
    const tmp2 = tempDir()
    cleanups.push(tmp2.cleanup)
    const producer = await openChain(tmp2.dir)
    await producer.submitTx(transfer(alice, 0, bob.publicKey, 5n))
    const made = await producer.produceBlock(1, T0 + 1000)
    const tampered = structuredClone(made!.block)
    tampered.header.proofs[2]!.data[0]! ^= 0xff
    await expect(chain.importBlock(tampered)).rejects.toMatchObject({ code: expect.any(String) })
    const imported = await chain.importBlock(made!.block)
    expect(toHex(imported.hash)).toBe(toHex(made!.hash))
    expect(readAccount(chain.store.state, bob.publicKey).balance).toBe(5n)
  })
})

describe('mempool after a block', () => {
  it('drops a pending tx whose nonce the block used (a tx this pool never saw) and keeps senders the block did not touch', async () => {
    const carol = testKey('carol')
    const g = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 1_000_000n }, { key: carol, amount: 1_000_000n }] })
    const open = async (): Promise<Chain> => {
      const tmp = tempDir()
      cleanups.push(tmp.cleanup)
      const chain = await Chain.open({ dataDir: tmp.dir, genesis: g, validatorKey: validator, signatureWorkers: 0 })
      cleanups.push(() => chain.close())
      return chain
    }
    const producer = await open()
    const follower = await open()
    const raced = transfer(alice, 0, bob.publicKey, 1n)
    const untouched = transfer(carol, 0, bob.publicKey, 1n)
    await follower.submitTx(raced)
    await follower.submitTx(untouched)
    await producer.submitTx(transfer(alice, 0, bob.publicKey, 2n))
    const b1 = await producer.produceBlock(1, Number(g.genesisTime) + 1000)
    const dropped: string[] = []
    follower.on('dropped', (d: { id: Uint8Array; code: string }) => dropped.push(`${toHex(d.id)} ${d.code}`))
    await follower.importBlock(b1!.block)
    expect(dropped).toEqual([`${toHex(txId(raced))} NONCE_TOO_LOW`])
    expect(follower.mempool.has(txId(untouched))).toBe(true)
    expect(follower.mempool.size).toBe(1)
  })
})
