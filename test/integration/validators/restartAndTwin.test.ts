import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { Offence } from '../../../blocks/schema.ts'
import { evidenceOffender } from '../../../consensus/evidence.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { getBlock, getStake, verifyBlockCommit } from '../../../src/client/index.ts'
import { equalBytes, hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { createNetNode, type NetNode } from '../../../src/net/index.ts'
import { readGenesisFile } from '../../../src/node/genesisFile.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { computeDefaultTimeouts } from '../../../src/node/node.ts'
import { readSignState, type SignedPosition } from '../../../src/node/signGuard.ts'
import { ValidatorNetwork } from '../../../src/node/validatorNetwork.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { startValidatorProcesses, statuses, type ValidatorProcesses } from './startValidatorProcesses.ts'

/**
 * BFT with real processes: validator 3 runs with the test-only twin flag (XSC_TEST_TWIN=1: a
 * conflicting vote beside each of its votes), validator 1 is SIGKILLed and restarted. An
 * in-process observer (no key) follows blocks, commits and evidence gossip (not votes: those go to
 * validators only); the evidence it holds is what the validators detected and gossiped.
 */
const TWIN = 3
const RESTARTED = 1
let procs: ValidatorProcesses
let observer: { chain: Chain; net: NetNode; network: ValidatorNetwork }

const signState = (i: number): SignedPosition | undefined => {
  const file = join(procs.dir, `data-${i}`, 'sign-state.json')
  return existsSync(file) ? readSignState(file) : undefined
}
/** Offenders named by evidence the observer holds or has applied in a block (including it prunes it from the pool). */
const offenders = async (): Promise<string[]> => {
  const seen = new Set<string>()
  const name = (o: Offence): string => toHex(o.type === 'equivocation' ? evidenceOffender(o.evidence) : o.receipt.body.host)
  for (const o of observer.chain.evidence.pending()) seen.add(name(o))
  for (let h = 1; h <= observer.chain.head.height; h++) {
    for (const e of (await observer.chain.store.getBlockByHeight(h))?.entries ?? []) if (e.type === 'evidence') seen.add(name(e.offence))
  }
  return [...seen]
}

beforeAll(async () => {
  procs = await startValidatorProcesses({ name: 'twin', validators: 4, slotMs: 500, funded: [testKey('twin-alice')], envOf: (i): Record<string, string> => (i === TWIN ? { XSC_TEST_TWIN: '1' } : {}) })
  const genesis = readGenesisFile(procs.genesisPath)
  const chain = await Chain.open({ dataDir: join(procs.dir, 'observer'), genesis })
  const net = createNetNode({ secretKey: hash(utf8('twin/observer')), chainId: genesis.chainId, bootstrap: [procs.nodes[0]!.p2p[0]!] })
  const network = new ValidatorNetwork({ timeouts: computeDefaultTimeouts(genesis.slotMs) }, { chain, net, log: createLogger({ level: 'silent' }) })
  await network.start()
  await net.start()
  observer = { chain, net, network }
})
afterAll(async () => {
  await observer?.network.stop()
  await observer?.net.stop()
  await observer?.chain.close()
  await procs?.close()
})

describe('BFT over libp2p with four validator processes', () => {
  it('a twin validator\'s equivocation becomes evidence naming it (and only it), while the others keep committing', async () => {
    await waitFor(async () => (await statuses(procs)).every((s) => s.finalized >= 5), 60_000, 'finalized height 5 on every node')
    await waitFor(async () => (await offenders()).includes(toHex(procs.keys[TWIN]!.publicKey)), 20_000, 'evidence against the twin')
    expect(new Set(await offenders())).toEqual(new Set([toHex(procs.keys[TWIN]!.publicKey)]))
    // Every block is final the moment it is applied: head = finalized, and a client checks the commit itself.
    const s = await statuses(procs)
    for (const x of s) expect(x.finalized).toBe(x.head)
    const h = Math.min(...s.map((x) => x.finalized))
    const verified = await verifyBlockCommit(procs.clients[2]!, { height: h })
    expect(verified).not.toBeNull()
    const block = await getBlock(procs.clients[0]!, { height: h })
    expect(equalBytes(verified!.hash, block!.hash)).toBe(true)
    expect(verified!.signedStake * 3n).toBeGreaterThan(2n * 4n * (verified!.signedStake / BigInt(verified!.commit.signatures.length)))
  }, 120_000)

  it('a SIGKILLed validator restarts from its sign state on disk, never signs a conflicting message, and catches up', async () => {
    await waitFor(async () => (signState(RESTARTED)?.height ?? 0) >= 3, 20_000, 'validator 1 to have signed')
    await procs.kill(RESTARTED)
    const atDeath = signState(RESTARTED)!
    expect(atDeath.height).toBeGreaterThan(0)
    const others = await statuses(procs)
    const target = Math.max(...others.map((x) => x.head)) + 3
    // The twin's equivocation is evidence: once it is slashed out of the set, validators 0 and 2
    // alone hold exactly 2/3 (not more), so commits wait for validator 1; while the twin still
    // counts, the other three (75% > 2/3) commit without it.
    const twinSlashed = (await getStake(procs.clients[0]!, { address: procs.keys[TWIN]!.publicKey })).slashedAtHeight !== undefined
    if (!twinSlashed) await waitFor(async () => (await statuses(procs)).every((x) => x.head >= target), 30_000, 'the other three to commit without it (75% > 2/3)')
    await procs.start(RESTARTED)
    await waitFor(async () => {
      const all = await statuses(procs)
      const mine = all.find((x) => x.i === RESTARTED)
      return mine !== undefined && mine.head >= target && (signState(RESTARTED)?.height ?? 0) > target
    }, 40_000, 'validator 1 to catch up and sign at new heights')
    // What it signed after the restart is at or above what it had signed before (the guard's file only moves forward) …
    const now = signState(RESTARTED)!
    expect(now.height > atDeath.height || (now.height === atDeath.height && (now.round > atDeath.round || (now.round === atDeath.round && now.step >= atDeath.step)))).toBe(true)
    // … and nobody saw it equivocate: the only offender is still the twin.
    expect(await offenders()).not.toContain(toHex(procs.keys[RESTARTED]!.publicKey))
    // Same blocks everywhere up to a common height.
    const h = Math.min(...(await statuses(procs)).map((x) => x.finalized))
    const hashes = await Promise.all(procs.clients.map((c) => getBlock(c!, { height: h })))
    expect(new Set(hashes.map((b) => toHex(b!.hash))).size).toBe(1)
  }, 120_000)
})
