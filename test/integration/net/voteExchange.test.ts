import { afterEach, beforeAll, describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import type { Attestation } from '../../../blocks/schema.ts'
import { signAttestation } from '../../../consensus/finality.ts'
import { hash, keyPairFromSecret, utf8 } from '../../../src/crypto/index.ts'
import type { NetNode } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { computeMaxVoteAnswerBytes, exchangeVotes, serveVoteExchange, voteListCodec } from '../../../src/node/network/voteExchange.ts'
import { CHAIN, startNodes, stopAll } from './helpers.ts'

const log = createLogger({ level: 'silent' })
let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

/** One latest vote per validator, as a node with `count` validators holds them. */
function votes(count: number): Attestation[] {
  return Array.from({ length: count }, (_, i) => {
    const key = keyPairFromSecret(hash(utf8(`vote-exchange/${i}`)))
    return signAttestation({ chainId: CHAIN, height: 1_000 + i, blockHash: hash(utf8(`block ${i}`)), validator: key.publicKey }, key.secretKey)
  })
}

describe('vote exchange (/votes/1) with large validator sets, over real libp2p', () => {
  let all: Attestation[] = []
  beforeAll(() => {
    all = votes(1_100)
  }, 60_000)

  it('answers and counts every vote of 1,100 validators (the old fixed bound of 1,024 failed to encode)', async () => {
    nodes = await startNodes(2, {}, 60)
    const [server, client] = nodes as [NetNode, NetNode]
    await serveVoteExchange(server, { latestAttestations: () => all, validatorCount: () => all.length })
    await client.dial(server.multiaddrs()[0]!)
    const counted: Attestation[] = []
    await exchangeVotes(client, server.peerId, all.length, (att) => counted.push(att), log)
    expect(counted).toHaveLength(1_100)
    expect(encode(voteListCodec(1_100), counted)).toEqual(encode(voteListCodec(1_100), all))
  }, 30_000)

  it('keeps a bound that scales with the asker\'s set: an answer far beyond it is refused, and so is an over-long list', async () => {
    nodes = await startNodes(2, {}, 70)
    const [server, client] = nodes as [NetNode, NetNode]
    await serveVoteExchange(server, { latestAttestations: () => all, validatorCount: () => all.length })
    await client.dial(server.multiaddrs()[0]!)
    const counted: Attestation[] = []
    // An asker that knows 10 validators takes at most 74 votes (74 KiB): 1,100 are cut at the byte cap.
    expect(computeMaxVoteAnswerBytes(10)).toBeLessThan(encode(voteListCodec(1_100), all).length)
    await exchangeVotes(client, server.peerId, 10, (att) => counted.push(att), log)
    expect(counted).toHaveLength(0)
    expect(() => decode(voteListCodec(10), encode(voteListCodec(1_100), all.slice(0, 75)))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }))
  }, 30_000)
})
