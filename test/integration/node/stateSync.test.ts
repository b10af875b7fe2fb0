import { join } from 'node:path'

import { beforeAll, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { CommittedBlock } from '../../../consensus/bft/messages.ts'
import { ChainStore } from '../../../src/chain/chainStore.ts'
import { createClient, http } from '../../../src/client/index.ts'
import { equalBytes, hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { createNetNode, type NetNode, PROTOCOL_LIMITS, requestStateChunk, requestStateSnapshot, requestStatus, serveStateSync } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { runStateSync, StateSyncError, type StateSyncOpts, StateSyncServer } from '../../../src/node/network/stateSync.ts'
import { XscNode } from '../../../src/node/node.ts'
import { type StateChunk } from '../../../src/state/stateTree/index.ts'
import { MemoryState } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { signTx, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { suiteCleanups } from '../../support/suiteCleanups.ts'

/**
 * State sync over real libp2p and classic-level: two validators make a chain with transfers; a
 * fresh node state-syncs from a finalized block and must then hold the very state a replaying
 * node holds, and follow the chain. Peers that tamper with chunks or stall do not stop it.
 */

const log = createLogger({ level: 'silent' })
const tmp = tempDir('xsc-statesync-')
const cleanups = suiteCleanups()
cleanups.push(tmp.cleanup) // last

const keys = [testKey('statesync-v0'), testKey('statesync-v1')]
const payer = testKey('statesync-payer')
const recipients = Array.from({ length: 40 }, (_, i) => testKey(`statesync-to-${i}`))
const genesis = testGenesis({ validators: keys, slotMs: 300, genesisTime: BigInt(Date.now()), schemes: ['stake'], funded: [{ key: payer, amount: 10_000_000n }] })
let validators: XscNode[] = []
/** The node the first test state-syncs, kept running for the next one. */
let syncedNode: XscNode | undefined
let addrs: string[] = []

/** A finalized height both validators hold, at least `min`. */
async function finalizedAtLeast(min: number): Promise<{ height: number; hash: Uint8Array }> {
  await waitFor(async () => validators.every((v) => v.chain.store.finalized.height >= min), 60_000, `both validators to finalize height ${min}`)
  const height = Math.min(...validators.map((v) => v.chain.store.finalized.height))
  return { height, hash: (await validators[0]!.chain.store.getHashAtHeight(height))! }
}

beforeAll(async () => {
  const first = await XscNode.start({ dataDir: join(tmp.dir, 'v0'), genesis, validatorKey: keys[0]!, rpc: { port: 0 }, p2p: {} }, { log })
  cleanups.push(() => first.stop())
  const second = await XscNode.start({ dataDir: join(tmp.dir, 'v1'), genesis, validatorKey: keys[1]!, rpc: { port: 0 }, p2p: { bootstrap: [first.net!.multiaddrs()[0]!] } }, { log })
  cleanups.push(() => second.stop())
  validators = [first, second]
  addrs = validators.map((v) => v.net!.multiaddrs()[0]!)
  await finalizedAtLeast(2)
  for (let i = 0; i < recipients.length; i++) await first.chain.submitTx(transfer(payer, i, recipients[i]!.publicKey, 1_000n + BigInt(i)))
  await waitFor(async () => (await Promise.all(validators.map(async (v) => v.chain.mempool.size === 0 && (await v.chain.readAccount(recipients.at(-1)!.publicKey)).balance > 0n))).every(Boolean), 60_000, 'the transfers to land')
}, 120_000)

/** A libp2p node that is not a chain node, dialled to `peers`. */
async function startRawNode(name: string, peers: string[] = addrs): Promise<NetNode> {
  const net = createNetNode({ secretKey: hash(utf8(`statesync-raw-${name}`)), chainId: genesis.chainId, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: peers })
  cleanups.push(() => net.stop())
  return net
}

/** A peer that answers chunks with an honest validator's chunk, changed by `tamper`; never offers a snapshot. */
async function startTamperer(name: string, tamper: (chunk: StateChunk) => void): Promise<NetNode & { served: number }> {
  const net = Object.assign(await startRawNode(name), { served: 0 })
  await serveStateSync(net, {
    snapshot: async () => undefined,
    chunk: async (req) => {
      const honest = await requestStateChunk(net, validators[0]!.net!.peerId, req)
      tamper(honest)
      net.served++
      return honest
    },
  })
  await net.start()
  return net
}

/** A fresh store and a temporary net node that knows the given extra peers as well as the validators. */
async function startJoiner(name: string, extra: NetNode[]): Promise<{ store: ChainStore; net: NetNode; dir: string }> {
  const dir = join(tmp.dir, name)
  const store = await ChainStore.open(dir, genesis)
  const net = await startRawNode(`joiner-${name}`, [...addrs, ...extra.map((e) => e.multiaddrs()[0]!)])
  await net.start()
  await waitFor(async () => net.peers().length >= addrs.length + extra.length, 15_000, 'the joiner to connect to every peer')
  return { store, net, dir }
}

/** The state root of the values a store reopened after sync holds: it must be the synced block's. */
async function reopenedRoot(dir: string): Promise<{ root: Uint8Array; stateRoot: Uint8Array; store: ChainStore }> {
  const store = await ChainStore.open(dir, genesis)
  cleanups.push(() => store.close())
  const values = new MemoryState()
  values.apply(await store.readWholeState())
  return { root: values.root, stateRoot: store.head.header.stateRoot, store }
}

async function syncWith(name: string, extra: NetNode[], opts: StateSyncOpts): Promise<{ store: ChainStore; net: NetNode; dir: string; result: { height: number; hash: Uint8Array } }> {
  const joiner = await startJoiner(name, extra)
  const result = await runStateSync({ store: joiner.store, net: joiner.net, log }, { ranges: 4, requestTimeoutMs: 1_500, ...opts })
  return { ...joiner, result }
}

describe('state sync (two validators, real libp2p and classic-level)', () => {
  it('a node state-synced from a trusted block holds the state of the nodes that replayed it, proves the same, and follows the chain', async () => {
    const trusted = await finalizedAtLeast(validators[0]!.chain.head.height)
    const node = await XscNode.start({ dataDir: join(tmp.dir, 'synced'), genesis, rpc: { port: 0 }, p2p: { bootstrap: addrs }, stateSync: { trustHeight: trusted.height, trustHash: trusted.hash } }, { log })
    cleanups.push(() => node.stop())
    expect(node.chain.store.prunedBelow).toBe(trusted.height)
    expect(await node.chain.store.getHashAtHeight(trusted.height)).toEqual(trusted.hash)
    expect(await node.chain.store.getHashAtHeight(trusted.height - 1)).toBeUndefined()
    // Its peers see where its history starts, as for a pruned node.
    const asker = await startRawNode('status-asker', [node.net!.multiaddrs()[0]!])
    await asker.start()
    await waitFor(async () => asker.peers().includes(node.net!.peerId), 15_000, 'a connection to the synced node')
    expect((await requestStatus(asker, node.net!.peerId)).earliestHeight).toBe(trusted.height)
    // (a) the same proofs as a replaying node, at the synced height and at the head it follows to.
    const proofKeys = [TABLES.account.key(payer.publicKey), ...recipients.slice(0, 5).map((r) => TABLES.account.key(r.publicKey)), TABLES.account.key(testKey('statesync-nobody').publicKey)]
    const synced = createClient({ transport: http(node.rpc.url) })
    const replayed = createClient({ transport: http(validators[1]!.rpc.url) })
    cleanups.push(() => synced.close(), () => replayed.close())
    const at = async (height: number) => Promise.all([synced, replayed].map((c) => c.request('xsc_getProof', [proofKeys, height])))
    const [mine, theirs] = await at(trusted.height)
    expect(mine).toEqual(theirs)
    expect(mine).not.toBeNull()
    // (b) it imports the next blocks, and they are the validators'.
    const target = trusted.height + 3
    await waitFor(async () => node.chain.head.height >= target, 60_000, 'the synced node to import three more blocks')
    expect(await node.chain.store.getHashAtHeight(target)).toEqual(await validators[0]!.chain.store.getHashAtHeight(target))
    const [mineLater, theirsLater] = await at(target)
    expect(mineLater).toEqual(theirsLater)
    syncedNode = node
  }, 120_000)

  it('a node at genesis syncs from full peers and does not blame a state-synced peer for the history it does not hold', async () => {
    const synced = syncedNode!
    // The synced node first: range sync meets its status (history from H) before any other.
    // Commit feed off: this node stays on the commits gossip topic, which the forger attacks below
    // (with a feed up a follower leaves the topic; test/integration/net/commitFeed.test.ts).
    const fresh = await XscNode.start({ dataDir: join(tmp.dir, 'behind'), genesis, rpc: { port: 0 }, commitFeed: false, p2p: { bootstrap: [synced.net!.multiaddrs()[0]!, ...addrs] } }, { log })
    cleanups.push(() => fresh.stop())
    await waitFor(async () => fresh.chain.head.height >= synced.chain.head.height, 60_000, 'the node to catch up')
    expect(await fresh.chain.store.getHashAtHeight(synced.chain.store.prunedBelow)).toEqual(await synced.chain.store.getHashAtHeight(synced.chain.store.prunedBelow))
    await new Promise((r) => setTimeout(r, 1_000))
    expect(fresh.net!.isBanned(synced.net!.peerId)).toBe(false)
    expect(fresh.net!.score(synced.net!.peerId)).toBeGreaterThanOrEqual(0)
    // Votes go to validators only: a node without a validator key takes commits, never the vote topic.
    const validatorNet = validators[0]!.net!
    await waitFor(async () => validatorNet.topicPeers('commits').includes(fresh.net!.peerId), 15_000, 'the fresh node on the commits topic')
    expect(validatorNet.topicPeers('consensus')).not.toContain(fresh.net!.peerId)
    expect(validatorNet.topicPeers('consensus')).toContain(validators[1]!.net!.peerId)
    // Nor on proposed blocks or pending txs: it learns each block from its commit and fetches it.
    expect(validatorNet.topicPeers('blocks')).not.toContain(fresh.net!.peerId)
    expect(validatorNet.topicPeers('transactions')).not.toContain(fresh.net!.peerId)
    const next = validators[0]!.chain.head.height + 2
    await waitFor(async () => fresh.chain.head.height >= next, 15_000, 'the fresh node to follow two more blocks from their commits')
    expect(await fresh.chain.store.getHashAtHeight(next)).toEqual(await validators[0]!.chain.store.getHashAtHeight(next))
    // Attack: a peer gossips a commit for the node's next height without a quorum, carrying a
    // block of its choice. Refused (REJECT: the sender's score drops), and the block never held.
    const forger = await startRawNode('forger', [fresh.net!.multiaddrs()[0]!])
    forger.subscribe('commits', { validate: () => 'ignore', handle: () => {} })
    await forger.start()
    await waitFor(async () => forger.topicPeers('commits').includes(fresh.net!.peerId), 15_000, 'the forger to see the fresh node on the commits topic')
    for (let round = 0; round < 20 && fresh.net!.score(forger.peerId) >= 0; round++) {
      const head = fresh.chain.store.head
      const carried = (await fresh.chain.store.getBlockBytes(head.hash))!
      const commit = { chainId: genesis.chainId, height: head.height + 1, round, blockId: head.hash, signatures: [] }
      await forger.publish('commits', encode(CommittedBlock, { block: carried, commit }))
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(fresh.net!.score(forger.peerId)).toBeLessThan(0)
    const after = validators[0]!.chain.head.height + 1
    await waitFor(async () => fresh.chain.head.height >= after, 15_000, 'the fresh node to go on following the validators')
    expect(await fresh.chain.store.getHashAtHeight(after)).toEqual(await validators[0]!.chain.store.getHashAtHeight(after))
  }, 120_000)

  for (const [attack, tamper] of [
    ['changes a value', (c: StateChunk) => { if (c.leaves[0]) c.leaves[0].value = new Uint8Array([...c.leaves[0].value, 1]) }],
    ['drops a key', (c: StateChunk) => { c.leaves.pop() }],
    ['adds a key', (c: StateChunk) => { c.leaves.push({ key: TABLES.account.key(testKey('statesync-forged').publicKey), value: c.leaves[0]?.value ?? new Uint8Array([1]) }) }],
  ] as const) {
    it(`a peer whose chunks ${attack} is detected, scored down and dropped; the sync completes from honest peers`, async () => {
      const bad = await startTamperer(attack.replace(/ /g, '-'), tamper)
      const { net, dir, result } = await syncWith(`tamper-${attack.replace(/ /g, '-')}`, [bad], {})
      // Asked once, caught, never asked again.
      expect(bad.served).toBe(1)
      expect(net.isBanned(bad.peerId)).toBe(true)
      const reopened = await reopenedRoot(dir)
      expect(reopened.store.head.height).toBe(result.height)
      expect(toHex(reopened.root)).toBe(toHex(reopened.stateRoot))
    }, 60_000)
  }

  it('a peer that only stalls does not stop the sync', async () => {
    const staller = await startRawNode('staller')
    let asked = 0
    await serveStateSync(staller, {
      snapshot: async () => undefined,
      chunk: async () => {
        asked++
        await new Promise((r) => setTimeout(r, PROTOCOL_LIMITS.stateChunk.timeoutMs))
        return undefined
      },
    })
    await staller.start()
    const { dir, result } = await syncWith('stall', [staller], {})
    expect(asked).toBeGreaterThan(0)
    const reopened = await reopenedRoot(dir)
    expect(reopened.store.head.height).toBe(result.height)
    expect(toHex(reopened.root)).toBe(toHex(reopened.stateRoot))
  }, 60_000)

  it('refuses a trust hash the peers do not hold at that height, with a typed error, and leaves the store at genesis', async () => {
    const trusted = await finalizedAtLeast(2)
    const joiner = await startJoiner('wrong-hash', [])
    const err = await runStateSync({ store: joiner.store, net: joiner.net, log }, { trustHeight: trusted.height, trustHash: hash(utf8('not a block')) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StateSyncError)
    expect((err as StateSyncError).code).toBe('TRUST_HASH_MISMATCH')
    expect(joiner.store.head.height).toBe(0)
    await joiner.store.close()
  }, 60_000)

  it('a sync cut short reopens at genesis (no partial state is used) and a new sync completes', async () => {
    const dir = join(tmp.dir, 'crash')
    const first = await ChainStore.open(dir, genesis)
    const genesisRoot = first.head.header.stateRoot
    await first.beginStateSync()
    await first.writeStateChunk([{ key: TABLES.account.key(testKey('statesync-half').publicKey), value: new Uint8Array([9]) }], [])
    await first.close()
    const reopened = await reopenedRoot(dir)
    expect(reopened.store.head.height).toBe(0)
    expect(toHex(reopened.root)).toBe(toHex(genesisRoot))
    await reopened.store.close()
    cleanups.pop()
    const net = await startRawNode('crash-joiner')
    await net.start()
    await waitFor(async () => net.peers().length >= addrs.length, 15_000, 'peers')
    const store = await ChainStore.open(dir, genesis)
    const result = await runStateSync({ store, net, log }, { ranges: 4 })
    const after = await reopenedRoot(dir)
    expect(after.store.head.height).toBe(result.height)
    expect(toHex(after.root)).toBe(toHex(after.stateRoot))
  }, 60_000)

  it('a server that did not see a height go by replays the validator-set history for its priorities, to the same answer', async () => {
    const chain = validators[0]!.chain
    const fresh = new StateSyncServer(chain)
    const height = 2
    const replayed = (await fresh.snapshot(height))!
    const net = await startRawNode('priorities')
    await net.start()
    await waitFor(async () => net.peers().includes(validators[0]!.net!.peerId), 15_000, 'a connection')
    const remembered = await requestStateSnapshot(net, validators[0]!.net!.peerId, { height })
    expect(replayed.priorities).toEqual(remembered.priorities)
    expect(replayed.proposer).toEqual(remembered.proposer)
    // A stranger picks a replay's cost: one replay per interval node-wide, the rest are "not available".
    expect(await fresh.snapshot(height + 1)).toBeUndefined()
    expect(await fresh.snapshot(height)).toBeDefined() // the replayed answer is remembered
  }, 60_000)

  it('a peer asking faster than the per-peer rate is refused with RATE_LIMITED', async () => {
    // A server on a stopped clock: its burst is all a peer gets, however slowly it asks.
    const serving = await startRawNode('rate-server')
    await new StateSyncServer(validators[1]!.chain, { now: () => 0 }).start(serving)
    await serving.start()
    const net = await startRawNode('greedy', [serving.multiaddrs()[0]!])
    await net.start()
    await waitFor(async () => net.peers().includes(serving.peerId), 15_000, 'a connection')
    const codes: string[] = []
    for (let i = 0; i < 45; i++) {
      codes.push(await requestStateSnapshot(net, serving.peerId, { height: 1 }).then(() => 'ok', (e: unknown) => (e as { details?: { remoteCode?: string } }).details?.remoteCode ?? 'other'))
    }
    expect(codes.slice(0, 40).every((c) => c === 'ok')).toBe(true)
    expect(codes.slice(40).every((c) => c === 'RATE_LIMITED')).toBe(true)
  }, 60_000)

  it('without a trust hash takes the latest block committed by the genesis validators', async () => {
    const { dir, result } = await syncWith('no-trust-hash', [], {})
    expect(result.height).toBeGreaterThanOrEqual(2)
    expect(equalBytes(result.hash, (await validators[0]!.chain.store.getHashAtHeight(result.height))!)).toBe(true)
    const reopened = await reopenedRoot(dir)
    expect(toHex(reopened.root)).toBe(toHex(reopened.stateRoot))
  }, 60_000)

  // Last: it changes the validator set for good.
  it('once the validator set has changed, a sync without a trust hash is refused (NEEDS_TRUST_HASH) and one with a trust hash completes', async () => {
    const staker = testKey('statesync-staker')
    const chain = validators[0]!.chain
    await chain.submitTx(transfer(payer, recipients.length, staker.publicKey, 100_000n))
    await waitFor(async () => (await Promise.all(validators.map(async (v) => (await v.chain.readAccount(staker.publicKey)).balance > 0n))).every(Boolean), 60_000, 'the staker to be funded')
    await chain.submitTx(signTx(staker, 0, { type: 'stake', amount: genesis.params.minStake }))
    await waitFor(async () => validators.every((v) => v.chain.validators().length === 3), 60_000, 'the new validator to bond')
    const trusted = await finalizedAtLeast(chain.head.height)
    const blind = await startJoiner('changed-set-blind', [])
    const err = await runStateSync({ store: blind.store, net: blind.net, log }, { ranges: 4 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StateSyncError)
    expect((err as StateSyncError).code).toBe('NEEDS_TRUST_HASH')
    await blind.store.close()
    const { dir, result } = await syncWith('changed-set-trusted', [], { trustHeight: trusted.height, trustHash: trusted.hash })
    expect(result.height).toBe(trusted.height)
    const reopened = await reopenedRoot(dir)
    expect(toHex(reopened.root)).toBe(toHex(reopened.stateRoot))
    expect(await reopened.store.getValidatorSetAt(trusted.height + 1)).toHaveLength(3)
  }, 120_000)
})
