// Shares of a validator's busy CPU-profile samples by kind of work (the devnet.md "Session 12: CPU
// per transfer" table): each busy sample goes to the first kind below with a frame on its stack
// (admission before RPC, so the RPC row is HTTP, JSON and dispatch only). Reads profiles of the
// compiled build (.build/<stamp>/…js) as of the sources run through tsx (.ts).
//   node scripts/bench/support/profileKinds.mjs DIR/*.cpuprofile   (profiles from cpuProfilePreload.cjs)
import { readFileSync } from 'node:fs'
const cats = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['verify', (f) => /crypto\/ed25519\.[jt]s/.test(f.url) && f.functionName === 'verify'],
  ['sign', (f) => /crypto\/ed25519\.[jt]s/.test(f.url) && f.functionName === 'sign'],
  ['admission', (f) => /mempool\.[jt]s|admitAndGossip|gossipHandlers|txGossipBatch|noteTxBytes/.test(f.url + ' ' + f.functionName)],
  ['rpc', (f) => /src\/rpc\/|node:_http|llhttp|HTTPParser/.test(f.url + f.functionName)],
  // Executions: a receipt's admission (gossip batch decode, pool checks besides the verify), the router.
  ['receipts', (f) => /receiptPool|receiptGossip|storageCoordinator|acceptReceipts|submitReceipt/.test(f.url + ' ' + f.functionName)],
  ['build', (f) => /produceBlock\//.test(f.url)],
  ['consensus', (f) => /\/consensus\/|consensusDriver|signGuard|timeProof/i.test(f.url)],
  ['check/apply', (f) => /applyBlock|checkProposal|verifyProposal|state\/apply|#apply|stateTree/.test(f.url + ' ' + f.functionName)],
  ['commit', (f) => /chainStore|db\.[jt]s|commit/i.test(f.url + ' ' + f.functionName) && !/commitFeed/.test(f.url)],
  ['commitFeed', (f) => /commitFeed/.test(f.url)],
  ['network', (f) => /validatorLinks|coalesceSocketWrites|framing|libp2p|yamux|noise|it-|uint8arraylist|node:net|stream_base|writev/.test(f.url + ' ' + f.functionName)],
]
for (const file of process.argv.slice(2)) {
  const p = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const counts = new Map()
  for (const s of p.samples) counts.set(s, (counts.get(s) ?? 0) + 1)
  const res = new Map(); let busy = 0
  for (const [id, c] of counts) {
    const fn = byId.get(id).callFrame.functionName
    if (fn === '(idle)' || fn === '(program)') continue
    busy += c
    const stack = []
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur).callFrame)
    let cat = 'other'
    for (const [name, m] of cats) if (stack.some(m)) { cat = name; break }
    res.set(cat, (res.get(cat) ?? 0) + c)
  }
  const dt = (p.endTime - p.startTime) / 1e6
  console.log(file.split('/').pop(), 'busy', busy, 'of', p.samples.length, 'secs', dt.toFixed(1), [...res].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(100 * v / busy).toFixed(1)}`).join(', '))
}
