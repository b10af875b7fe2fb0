import { setTimeout as sleep } from 'node:timers/promises'

import { type Client, getBlock, getChainStatus } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'

/**
 * Whether some validator finalized a block that another validator (at or past that height) does
 * not have: a split network. Waits (≤ 10 s) for every validator to finalize something first.
 * Returns a description of the split, or undefined when there is none.
 */
export async function findSplit(clients: Client[]): Promise<string | undefined> {
  let statuses = await Promise.all(clients.map((c) => getChainStatus(c)))
  for (let i = 0; i < 100 && statuses.some((s) => s.finalized.height === 0); i++) {
    await sleep(100)
    statuses = await Promise.all(clients.map((c) => getChainStatus(c)))
  }
  for (const [i, s] of statuses.entries()) {
    const h = s.finalized.height
    if (h === 0) return `validator ${i} finalized nothing in 10 s (head ${s.head.height})`
    const mine = toHex(s.finalized.hash)
    for (const [j, c] of clients.entries()) {
      if (j === i) continue
      const theirs = await getBlock(c, { height: h })
      if (theirs !== null && toHex(theirs.hash) !== mine) return `validator ${i} finalized ${mine} at height ${h}, validator ${j} has ${toHex(theirs.hash)} there`
    }
  }
  return undefined
}
