// Where a block's tree bytes go, by page level (session 12, docs/design.md "Session 12"): walks the head tree of a
// bench:state fill (a copy: opening a LevelDB rewrites its log) page by page and prints, per page level (page roots at
// depths 0, 4, 8, ...), the pages, their mean compact bytes, the boundary hashes (next pages' roots) and the leaves
// (key ‖ value) they hold. A block rewrites every page on its keys' paths whole, so these sizes give its tree bytes.
// usage: npx tsx scripts/bench/treePageSizes.ts --db COPY-OF-A-FILL-DB (e.g. of /work/fillcache12/fill-1000000/db)
import '../../src/polyfill.ts'

import { parseArgs } from 'node:util'

import { ClassicLevel } from 'classic-level'

import { ChainStore } from '../../src/chain/chainStore.ts'
import { Bucket, bucketKey } from '../../src/chain/db.ts'
import { expandTreePage } from '../../src/state/stateTree/compactTreePage.ts'
import { decodeTreePage } from '../../src/state/stateTree/treePage.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'

const { values } = parseArgs({ options: { db: { type: 'string' } } })
// bench:state's genesis (its head root is read through ChainStore, then the store is closed and read raw).
const { genesis } = buildBenchGenesis({ name: 'xsc-bench-state', senders: 250, amount: 10n ** 15n, consensus: { schemes: ['stake'] }, params: { targetBlockTxBytes: 1_000_000 } })
const store = await ChainStore.open(values.db!, genesis)
const root = store.head.header.stateRoot
await store.close()
const db = new ClassicLevel<Uint8Array, Uint8Array>(values.db!, { keyEncoding: 'view', valueEncoding: 'view' })
await db.open()
interface Level { pages: number; bytes: number; hashes: number; leaves: number; leafBytes: number }
const levels: Level[] = []
let frontier: Uint8Array[] = [root]
for (let level = 0; frontier.length > 0; level++) {
  const lv: Level = { pages: 0, bytes: 0, hashes: 0, leaves: 0, leafBytes: 0 }
  levels.push(lv)
  const next: Uint8Array[] = []
  for (let i = 0; i < frontier.length; i += 5000) {
    const batch = frontier.slice(i, i + 5000)
    const got = await db.getMany(batch.map((h) => bucketKey(Bucket.treePageCompact, h)))
    got.forEach((compact, j) => {
      if (compact === undefined) throw new Error('page missing')
      const h = batch[j]!
      const page = decodeTreePage(h, expandTreePage(h, compact))
      lv.pages++
      lv.bytes += compact.length
      lv.hashes += page.children.length
      for (const n of page.nodes) if (n.bytes[0] === 0) { lv.leaves++; lv.leafBytes += n.bytes.length - 65 + 7 }
      for (const c of page.children) next.push(c.hash)
    })
  }
  frontier = next
}
for (const [i, l] of levels.entries()) console.log(JSON.stringify({ depth: i * 4, pages: l.pages, meanBytes: Math.round(l.bytes / l.pages), boundaryHashes: +(l.hashes / l.pages).toFixed(1), leaves: +(l.leaves / l.pages).toFixed(1), leafBytes: Math.round(l.leafBytes / Math.max(1, l.leaves)) }))
await db.close()
