import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { decode } from '../../../../blocks/codec.ts'
import { ConsensusMessage, signProposal, signVote, VOTE_STEP } from '../../../../consensus/bft/messages.ts'
import { hash, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { createLogger } from '../../../../src/node/logger.ts'
import { OwnMessages } from '../../../../src/node/network/OwnMessages.ts'
import { SignGuard } from '../../../../src/node/signGuard.ts'
import { tempDir, testKey } from '../../../support/chainFixtures.ts'

const key = testKey('own-messages')
const blockId = hash(utf8('block'))
const blockBytes = utf8('the block bytes')
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

describe('OwnMessages', () => {
  it('sends a fresh proposal\'s held block right before it and its prevote, once the guard has them on disk', async () => {
    const tmp = tempDir('xsc-own-messages-')
    cleanups.push(tmp.cleanup)
    const sent: { topic: string; what: string }[] = []
    const signGuard = SignGuard.open(join(tmp.dir, 'sign-state.json'))
    const own = new OwnMessages({
      log: createLogger({ level: 'silent' }),
      publish: (topic, data) => void sent.push({ topic, what: topic === 'blocks' ? toHex(data) : decode(ConsensusMessage, data).type }),
      signGuard,
      validatorKey: key,
      heldBlockBytes: (id) => (toHex(id) === toHex(blockId) ? blockBytes : undefined),
      isStopped: () => false,
      twin: false,
    })
    const proposal = signProposal({ chainId: 'xsc-own', height: 1, round: 0, blockId, validRound: -1, proposer: key.publicKey }, key.secretKey)
    const prevote = signVote({ chainId: 'xsc-own', step: VOTE_STEP.prevote, height: 1, round: 0, blockId, validator: key.publicKey }, key.secretKey)
    own.send([{ type: 'proposal', proposal }, { type: 'vote', vote: prevote }])
    expect(sent).toEqual([]) // nothing before the guard's position is on disk
    await signGuard.whenDurable()
    await new Promise((resolve) => setImmediate(resolve))
    expect(sent).toEqual([{ topic: 'blocks', what: toHex(blockBytes) }, { topic: 'consensus', what: 'proposal' }, { topic: 'consensus', what: 'vote' }])
    expect(own.published.has(proposal) && own.published.has(prevote)).toBe(true)
  })
})
