import { describe, expect, it } from 'vitest'

import { Chain } from '../../../src/chain/chain.ts'
import { EvidencePool } from '../../../src/chain/evidencePool.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'
import { createNetNode } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { computeDefaultTimeouts } from '../../../src/node/node.ts'
import { ValidatorNetwork } from '../../../src/node/validatorNetwork.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('a validator network before its net has started', () => {
  // node.ts starts the validator network (its timers) before libp2p; under load libp2p took longer
  // than the 1 s stall check, whose tick asked the unstarted net for its peers: the NetError
  // NOT_STARTED escaped the timer and ended the process (a devnet host, session 10).
  it('lives through its status-poll and stall-check ticks, and works once the net is up', async () => {
    const key = testKey('not-started-v0')
    const genesis = testGenesis({ validators: [key], schemes: ['stake'] })
    const tmp = tempDir('xsc-not-started-')
    const chain = await Chain.open({ dataDir: tmp.dir, genesis, signatureWorkers: 0 })
    const net = createNetNode({ secretKey: hash(utf8('not-started')), chainId: genesis.chainId })
    const vn = new ValidatorNetwork({ timeouts: computeDefaultTimeouts(genesis.slotMs), syncIntervalMs: 20, roundStateIntervalMs: 20 }, { chain, net, log: createLogger({ level: 'silent' }), evidence: new EvidencePool() })
    const escaped: unknown[] = []
    const onUncaught = (e: unknown): void => void escaped.push(e)
    process.on('uncaughtException', onUncaught)
    try {
      await vn.start()
      await sleep(200) // ten ticks of each timer with the net not started
      expect(escaped).toEqual([])
      await net.start()
      await sleep(60)
      expect(escaped).toEqual([])
      expect(vn.peerCount()).toBe(0)
    } finally {
      process.off('uncaughtException', onUncaught)
      await vn.stop()
      await net.stop()
      await chain.close()
      tmp.cleanup()
    }
  })
})
