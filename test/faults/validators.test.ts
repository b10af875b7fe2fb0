import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { decode, encode } from '../../blocks/codec.ts'
import { blockHash } from '../../blocks/ids.ts'
import { Block } from '../../blocks/schema.ts'
import { verifyProofs } from '../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../consensus/slot.ts'
import { signHeader } from '../../consensus/stake.ts'
import { Chain } from '../../src/chain/chain.ts'
import { EvidencePool } from '../../src/chain/evidencePool.ts'
import { getBlock, getChainStatus } from '../../src/client/index.ts'
import { equalBytes, hash, toHex, utf8 } from '../../src/crypto/index.ts'
import { createNetNode, type NetNode } from '../../src/net/index.ts'
import { readGenesisFile } from '../../src/node/genesisFile.ts'
import { createLogger } from '../../src/node/logger.ts'
import { computeDefaultTimeouts } from '../../src/node/node.ts'
import { ValidatorNetwork } from '../../src/node/validatorNetwork.ts'
import { startValidatorProcesses, statuses, type ValidatorProcesses } from '../integration/validators/startValidatorProcesses.ts'
import { testKey } from '../support/chainFixtures.ts'
import { waitFor } from '../support/nodeProcess.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const running = (s: Awaited<ReturnType<typeof statuses>>): typeof s => s.filter((x) => x.i !== 3)

let procs: ValidatorProcesses
beforeAll(async () => {
  procs = await startValidatorProcesses({ name: 'faults', validators: 4, slotMs: 500, funded: [testKey('faults-alice')] })
  await waitFor(async () => (await statuses(procs)).every((s) => s.peers === 3 && s.finalized >= 4), 30_000, 'a finalizing full mesh')
})
afterAll(async () => {
  await procs?.close()
})

describe('validator faults (4 processes on 127.0.0.1)', () => {
  it('keeps producing and finalizing with 1 of 4 validators killed', async () => {
    await procs.kill(3)
    const before = await statuses(procs)
    const head0 = Math.max(...before.map((s) => s.head))
    const fin0 = Math.max(...before.map((s) => s.finalized))
    // 3 of 4 equal stakes is 75% > 2/3: blocks in the 3 live validators' slots, finality continues.
    await waitFor(async () => running(await statuses(procs)).every((s) => s.head >= head0 + 8 && s.finalized >= fin0 + 6), 40_000, 'progress without validator 3')
    const s = await statuses(procs)
    const h = Math.min(...s.map((x) => x.finalized))
    const hashes = await Promise.all(s.map((x) => getBlock(procs.clients[x.i]!, { height: h })))
    expect(new Set(hashes.map((b) => toHex(b!.hash))).size).toBe(1)
  }, 120_000)

  it('rejects a block with a bad proof from a validator everywhere, and its peer score drops until it is disconnected', async () => {
    // Validator 3's key, in process: a Chain we control with its own NetNode, synced by range sync.
    const genesis = readGenesisFile(procs.genesisPath)
    const chain = await Chain.open({ dataDir: join(procs.dir, 'inprocess'), genesis, validatorKey: procs.keys[3]! })
    const bootstrap = procs.nodes.filter((n) => n !== undefined).map((n) => n.p2p[0]!)
    const p2p: NetNode = createNetNode({ secretKey: hash(utf8('faults/bad-validator')), chainId: genesis.chainId, bootstrap })
    const follower = new ValidatorNetwork({ timeouts: computeDefaultTimeouts(genesis.slotMs) }, { chain, net: p2p, log: createLogger({ level: 'silent' }), evidence: new EvidencePool() })
    try {
      await follower.start()
      await p2p.start()
      await waitFor(async () => p2p.peers().length === 3, 15_000, 'the bad validator to connect to all three')
      const peersBefore = running(await statuses(procs)).map((s) => s.peers)
      expect(peersBefore).toEqual([3, 3, 3])

      // Wait for a height whose round-0 proposer is validator 3 (dead, so the others time out on
      // it), with our head in sync: a block of ours then extends everyone's head.
      let bad: Uint8Array[] = []
      for (let attempt = 0; attempt < 200 && bad.length === 0; attempt++) {
        const tip = await getChainStatus(procs.clients[0]!)
        if (!equalBytes(tip.head.hash, chain.head.hash) || !equalBytes(chain.proposerOf(), procs.keys[3]!.publicKey)) {
          await sleep(50)
          continue
        }
        const slot = chain.currentSlot(Date.now()) + 1
        await sleep(Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot)) - Date.now() + 20)
        const tip2 = await getChainStatus(procs.clients[0]!)
        if (!equalBytes(tip2.head.hash, chain.head.hash)) continue
        const produced = await chain.produceBlock(slot, Date.now())
        if (!produced) continue
        const { header, entries } = produced.block
        // 20 distinct blocks, each with one byte of the time proof flipped and the header signed
        // again by the rightful proposer: everything checks out except the time proof.
        bad = Array.from({ length: 20 }, (_, k) => {
          const proofs = header.proofs.map((p) => {
            if (p.scheme !== 'time') return p
            const data = Uint8Array.from(p.data)
            data[k] = data[k]! ^ 0xff
            return { scheme: p.scheme, data }
          })
          return encode(Block, { header: signHeader({ ...header, proofs }, procs.keys[3]!.secretKey), entries })
        })
      }
      expect(bad.length).toBe(20)
      // What every receiver's import finds: the time proof, named.
      const sample = decode(Block, bad[0]!)
      const parent = (await chain.store.getBlock(sample.header.prevHash))!
      const ctx = { registry: chain.registry, genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: chain.validators(), parentSlot: parent.header.slot }
      expect(() => verifyProofs(ctx, sample.header)).toThrow(expect.objectContaining({ code: 'BAD_PROOF', details: expect.objectContaining({ scheme: 'time' }) }))
      for (const b of bad) await p2p.publish('blocks', b)

      // Every other validator rejected them (REJECT lowers gossipsub score; 13 rejections reach the
      // graylist threshold), then hung up on and banned the sender.
      await waitFor(async () => p2p.peers().length === 0, 20_000, 'the bad validator to be disconnected by all')
      await waitFor(async () => running(await statuses(procs)).every((s) => s.peers === 2), 10_000, 'peer counts without the bad validator')
      for (const b of bad) {
        const id = blockHash(decode(Block, b).header)
        for (const c of procs.clients.filter((x) => x !== undefined)) expect(await getBlock(c, { hash: id })).toBeNull()
      }
      // Banned: its bootstrap re-dials (every 5 s) are refused. A refused dial can show here for a
      // moment (the remote hangs up right after the handshake; seen once under load), so what
      // counts is that none stays: an accepted one would.
      await sleep(6_000)
      await waitFor(async () => p2p.peers().length === 0, 3_000, 'every re-dial of the banned validator to be refused')
      // The honest validators carry on.
      const s0 = await statuses(procs)
      await waitFor(async () => running(await statuses(procs)).every((s) => s.finalized > Math.max(...s0.map((x) => x.finalized))), 20_000, 'finality after the attack')
    } finally {
      await follower.stop()
      await p2p.stop()
      await chain.close()
    }
  }, 120_000)

  it('a restarted validator catches up by range sync to the same head, then follows gossip', async () => {
    const s0 = running(await statuses(procs))
    const target = Math.max(...s0.map((s) => s.head))
    await procs.start(3)
    await waitFor(async () => {
      const all = await statuses(procs)
      const v3 = all.find((s) => s.i === 3)!
      if (v3.head < target) return false
      const [mine, theirs] = await Promise.all([getBlock(procs.clients[3]!, { height: target }), getBlock(procs.clients[0]!, { height: target })])
      return mine !== null && theirs !== null && equalBytes(mine.hash, theirs.hash)
    }, 40_000, 'validator 3 to reach the others\' head')
    // Following gossip: it keeps up with the head and finality, and its own slots produce blocks again.
    const start = (await statuses(procs)).find((s) => s.i === 3)!.head
    await waitFor(async () => {
      const all = await statuses(procs)
      const v3 = all.find((s) => s.i === 3)!
      return v3.head >= start + 8 && v3.finalized >= start && all.every((s) => Math.abs(s.head - v3.head) <= 1)
    }, 40_000, 'validator 3 to follow the chain')
    // Its own slots produce blocks again (a quarter of the slots: allow a generous window).
    let h = start
    await waitFor(async () => {
      const head = (await getChainStatus(procs.clients[0]!)).head.height
      for (; h <= head; h++) {
        const b = await getBlock(procs.clients[0]!, { height: h })
        if (b !== null && equalBytes(b.header.proposer, procs.keys[3]!.publicKey)) return true
      }
      return false
    }, 30_000, 'a block proposed by the restarted validator')
  }, 120_000)

  it('keeps going without the bootstrap node: peer exchange made a full mesh', async () => {
    await procs.kill(0)
    const before = await statuses(procs)
    const fin0 = Math.max(...before.map((s) => s.finalized))
    await waitFor(async () => (await statuses(procs)).every((s) => s.peers === 2 && s.finalized >= fin0 + 4), 30_000, 'finality among validators 1-3')
  }, 60_000)
})
