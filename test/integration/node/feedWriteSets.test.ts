import { join } from 'node:path'

import { beforeAll, describe, expect, it } from 'vitest'

import { ChainStore } from '../../../src/chain/chainStore.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { encodeChunkedMessage } from '../../../src/net/framing.ts'
import { createNetNode } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { commitFeedProtocol, FEED_REJECT_PENALTY } from '../../../src/node/network/commitFeed.ts'
import { encodeFeedMessage } from '../../../src/node/network/commitFeedMessages.ts'
import { XscNode } from '../../../src/node/node.ts'
import { MemoryState } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { suiteCleanups } from '../../support/suiteCleanups.ts'
import { penaltiesOf } from '../net/helpers.ts'

/**
 * Followers apply committed blocks by the write sets their validator's commit feed offers
 * (docs/consensus.md "What a commit vouches for"), over real libp2p and classic-level: the state
 * they store is the one the header's root names, a node that checks committed blocks in full runs
 * every block, and a feed that offers wrong write sets is caught, scored down and left.
 */

const log = createLogger({ level: 'silent' })
const tmp = tempDir('xsc-feed-writes-')
const cleanups = suiteCleanups()
cleanups.push(tmp.cleanup) // last

const keys = [testKey('feedwrites-v0'), testKey('feedwrites-v1')]
const payer = testKey('feedwrites-payer')
const recipients = Array.from({ length: 12 }, (_, i) => testKey(`feedwrites-to-${i}`))
const genesis = testGenesis({ validators: keys, slotMs: 300, genesisTime: BigInt(Date.now()), schemes: ['stake'], funded: [{ key: payer, amount: 10_000_000n }] })
let validators: XscNode[] = []
let trusting: XscNode
let auditing: XscNode

/** The stored state of a stopped node's chain: the values reopened from disk, and the root its head names. */
async function storedState(dir: string): Promise<{ root: string; headRoot: string; height: number }> {
  const store = await ChainStore.open(dir, genesis)
  try {
    const values = new MemoryState()
    values.apply(await store.readWholeState())
    return { root: toHex(values.root), headRoot: toHex(store.head.header.stateRoot), height: store.head.height }
  } finally {
    await store.close()
  }
}

beforeAll(async () => {
  const first = await XscNode.start({ dataDir: join(tmp.dir, 'v0'), genesis, validatorKey: keys[0]!, rpc: { port: 0 }, p2p: {} }, { log })
  cleanups.push(() => first.stop())
  const second = await XscNode.start({ dataDir: join(tmp.dir, 'v1'), genesis, validatorKey: keys[1]!, rpc: { port: 0 }, p2p: { bootstrap: [first.net!.multiaddrs()[0]!] } }, { log })
  cleanups.push(() => second.stop())
  validators = [first, second]
  const bootstrap = validators.map((v) => v.net!.multiaddrs()[0]!)
  trusting = await XscNode.start({ dataDir: join(tmp.dir, 'trusting'), genesis, rpc: { port: 0 }, p2p: { bootstrap } }, { log })
  cleanups.push(() => trusting.stop())
  auditing = await XscNode.start({ dataDir: join(tmp.dir, 'auditing'), genesis, rpc: { port: 0 }, checkCommittedSignatures: true, p2p: { bootstrap } }, { log })
  cleanups.push(() => auditing.stop())
  for (let i = 0; i < recipients.length; i++) await first.chain.submitTx(transfer(payer, i, recipients[i]!.publicKey, 1_000n + BigInt(i)))
  const landed = async (n: XscNode): Promise<boolean> => (await n.chain.readAccount(recipients.at(-1)!.publicKey)).balance > 0n
  await waitFor(async () => (await Promise.all([trusting, auditing].map(landed))).every(Boolean), 60_000, 'the transfers to reach both followers')
}, 120_000)

describe('followers and offered write sets (two validators, real libp2p and classic-level)', () => {
  it('a follower applies blocks by their write sets and stores the state the headers name; an auditing node runs every block', async () => {
    await waitFor(async () => trusting.chain.verificationCounts.appliedByWrites >= 3, 30_000, 'blocks applied by write sets')
    expect(trusting.chain.verificationCounts.writeSetsRefused).toBe(0)
    expect(auditing.chain.verificationCounts.appliedByWrites).toBe(0)
    // The transfers' effects, as the validators hold them.
    for (const r of recipients.slice(0, 3)) {
      expect((await trusting.chain.readAccount(r.publicKey)).balance).toBe((await validators[0]!.chain.readAccount(r.publicKey)).balance)
    }
    const height = trusting.chain.head.height
    expect(await trusting.chain.store.getHashAtHeight(height)).toEqual(await validators[0]!.chain.store.getHashAtHeight(height))
    // Stopped and reopened: the values on disk hash to the root of the head's header, as the auditing node's do.
    await trusting.stop()
    await auditing.stop()
    for (const name of ['trusting', 'auditing']) {
      const stored = await storedState(join(tmp.dir, name, 'chain'))
      expect(stored.height).toBeGreaterThan(0)
      expect(stored.root, name).toBe(stored.headRoot)
    }
  }, 60_000)

  it('a feed that offers a wrong write set is caught: the block is run, the validator scored down and left', async () => {
    // A peer on the vote topic (so followers take it for a validator) serving version 2 of the
    // feed: the validators' real blocks and commits, each with a write set that mints an account.
    const liar = createNetNode({ secretKey: hash(utf8('feedwrites-liar')), chainId: genesis.chainId, listen: ['/ip4/127.0.0.1/tcp/0'] })
    cleanups.push(() => liar.stop())
    liar.subscribe('consensus', { validate: () => 'ignore', handle: () => {} })
    let served = 0
    let arm = (): void => {}
    const armed = new Promise<void>((resolve) => (arm = resolve))
    await liar.handleStream(commitFeedProtocol(genesis.chainId, 2), (stream) => void (async () => {
      await armed // once the follower's penalties are watched
      const source = validators[0]!.chain.store
      for (let height = 1; height <= 3; height++) {
        const blockHash = (await source.getHashAtHeight(height))!
        const minted = { key: TABLES.account.key(testKey('feedwrites-minted').publicKey), value: Uint8Array.of(1, 2, 3) }
        const message = encodeFeedMessage(2, { block: (await source.getBlockBytes(blockHash))!, commit: (await source.getCommit(height))!, writes: [minted] })!
        if (stream.status !== 'open') return // the follower ended the feed
        stream.send(encodeChunkedMessage(message))
        served++
      }
    })(), { maxInboundStreams: 1 })
    await liar.start()
    const dir = join(tmp.dir, 'misled')
    const follower = await XscNode.start({ dataDir: dir, genesis, rpc: { port: 0 }, p2p: { bootstrap: [liar.multiaddrs()[0]!] } }, { log })
    cleanups.push(() => follower.stop())
    const penalties = penaltiesOf(follower.net!)
    arm()
    await waitFor(async () => follower.chain.verificationCounts.writeSetsRefused >= 1 && follower.chain.head.height >= 1, 30_000, 'the wrong write set refused and its block run')
    expect(served).toBeGreaterThanOrEqual(1)
    expect(follower.chain.verificationCounts.appliedByWrites).toBe(0)
    await waitFor(async () => penalties.some((p) => p.peer === liar.peerId && p.points === FEED_REJECT_PENALTY), 5_000, 'the liar scored down')
    expect((await follower.chain.readAccount(testKey('feedwrites-minted').publicKey)).balance).toBe(0n)
    expect(await follower.chain.store.getHashAtHeight(1)).toEqual(await validators[0]!.chain.store.getHashAtHeight(1))
    await follower.stop()
    const stored = await storedState(join(dir, 'chain'))
    expect(stored.root).toBe(stored.headRoot)
  }, 60_000)
})
