import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { decode } from '../../../../blocks/codec.ts'
import { ConsensusMessage, signVote, VOTE_STEP } from '../../../../consensus/bft/messages.ts'
import { Chain } from '../../../../src/chain/chain.ts'
import { hash, type KeyPair, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { createLogger } from '../../../../src/node/logger.ts'
import { ConsensusDriver } from '../../../../src/node/network/consensusDriver.ts'
import { computeDefaultTimeouts } from '../../../../src/node/node.ts'
import { SignGuard } from '../../../../src/node/signGuard.ts'
import { tempDir, testGenesis, testKey } from '../../../support/chainFixtures.ts'

/**
 * A validator killed between its sign guard's write and the send of its last vote: the others
 * locked on a block and wait for that vote (with the fourth validator gone, nothing commits
 * without it). Restarted from the guard on disk, the driver must find that very vote again and
 * send it, and sign nothing else at or below that position.
 */
const keys = [0, 1, 2, 3].map((i) => testKey(`restart-driver-${i}`))
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function restartedDriver(me: KeyPair, lastVote: ConsensusMessage): Promise<{ driver: ConsensusDriver; sent: ConsensusMessage[] }> {
  const tmp = tempDir('xsc-restart-driver-')
  cleanups.push(tmp.cleanup)
  const genesis = testGenesis({ validators: keys, genesisTime: BigInt(Date.now()) })
  const chain = await Chain.open({ dataDir: join(tmp.dir, 'chain'), genesis })
  cleanups.push(() => chain.close())
  // The earlier life: the guard admitted (and wrote) our last vote; the process died before sending it.
  const guardFile = join(tmp.dir, 'sign-state.json')
  const before = SignGuard.open(guardFile)
  await before.admitAllDurably([lastVote]).durable
  const signGuard = SignGuard.open(guardFile)
  const sent: ConsensusMessage[] = []
  const driver = new ConsensusDriver(
    { validatorKey: me, signGuard, now: Date.now, timeouts: computeDefaultTimeouts(60_000) },
    { chain, log: createLogger({ level: 'silent' }), publish: (topic, data) => void (topic === 'consensus' && sent.push(decode(ConsensusMessage, data))), requestSync: () => {}, requestCommittedBlock: () => {}, evidence: { add: () => false } },
  )
  cleanups.push(() => driver.stop())
  await driver.start()
  return { driver, sent }
}

const vote = (i: number, step: 1 | 2, blockId: Uint8Array | undefined) => signVote({ chainId: 'xsc-test', step, height: 1, round: 0, blockId, validator: keys[i]!.publicKey }, keys[i]!.secretKey)

describe('consensus driver after a restart', () => {
  it('finds its last vote (a precommit that never left) again from the values peers show, counts it and sends the same bytes; signs nothing else at or below it', async () => {
    const locked = hash(utf8('the block the others locked on'))
    const lost = vote(0, VOTE_STEP.precommit, locked)
    const { driver, sent } = await restartedDriver(keys[0]!, { type: 'vote', vote: lost })
    // Nothing of round 0 up to the precommit is signed anew (no fresh proposal or prevote).
    await new Promise((r) => setTimeout(r, 50))
    expect(sent).toEqual([])
    // Peers' prevotes and precommits for the locked block reach us (links, round state).
    for (const i of [1, 2]) {
      await driver.handleMessage({ type: 'vote', vote: vote(i, VOTE_STEP.prevote, locked) }, 'peer')
      await driver.handleMessage({ type: 'vote', vote: vote(i, VOTE_STEP.precommit, locked) }, 'peer')
    }
    await new Promise((r) => setTimeout(r, 100))
    expect(sent.map((m) => (m.type === 'vote' ? toHex(m.vote.signature) : m.type))).toEqual([toHex(lost.signature)])
    // It counted too: the serve-to-peers round state holds it, and the machine is not waiting in round 0 for a quorum that lacks it.
    expect(driver.roundState().some((m) => m.type === 'vote' && toHex(m.vote.signature) === toHex(lost.signature))).toBe(true)
  })

  it('a lost prevote for nil is found at once', async () => {
    const lost = vote(0, VOTE_STEP.prevote, undefined)
    const { sent } = await restartedDriver(keys[0]!, { type: 'vote', vote: lost })
    await new Promise((r) => setTimeout(r, 100))
    expect(sent.map((m) => (m.type === 'vote' ? toHex(m.vote.signature) : m.type))).toEqual([toHex(lost.signature)])
  })
})
