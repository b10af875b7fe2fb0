/**
 * Router benchmark: index build, query latency selecting 3 hosts (median, p99) and update
 * latency at 10k, 100k and 1M hosts, uniform over a 65536³ grid, 16 zones, 5% inactive hosts,
 * asks and reputations spread so the score's non-distance terms matter. Deterministic inputs
 * (xorshift), wall-clock timing; `nodesPerQuery`/`hostsPerQuery` count the work, which does not
 * depend on the machine. Last line: one JSON object.
 *   npm run bench:router            (all three sizes)
 *   npm run bench:router -- 10000   (chosen sizes)
 */
import { CAPABILITY } from '../../blocks/schema.ts'
import { computeExecutionRequest, HostIndex, route, type RouteStats } from '../../src/router/index.ts'
import type { HostRecord } from '../../src/state/records.ts'
import { median, percentile } from './support/stats.ts'

const GRID = 65_536
const QUERIES = 2_000
const UPDATES = 5_000
const params = { storageUtilizationSlopeBp: 10_000, placementBandHosts: 16, vettingPasses: 8, unvettedShareBp: 500 }

let s = 0x9e3779b9
function rand(): number {
  s ^= s << 13
  s ^= s >>> 17
  s ^= s << 5
  return (s >>> 0) / 4294967296
}
const randInt = (n: number): number => Math.floor(rand() * n)

function makeHost(): HostRecord {
  return {
    params: {
      coord: { x: randInt(GRID), y: randInt(GRID), z: randInt(GRID) },
      zone: `zone-${randInt(16)}`,
      capacityBytes: 1n << 40n,
      capabilities: CAPABILITY.compute | CAPABILITY.storage | (rand() < 0.5 ? CAPABILITY.private : 0),
      askPerFuel: BigInt(randInt(120)),
      askPerByteEpoch: BigInt(randInt(120)),
      peerId: 'p',
      memoryBytes: 16n << 20n, encryptionKey: undefined,
    },
    reputation: 5_000 + randInt(5_001),
    status: rand() < 0.95 ? 0 : 2,
    usedBytes: BigInt(randInt(1 << 30)) << 10n,
    joinedHeight: 0,
    failedAudits: 0,
    bond: BigInt(1_000 + randInt(9_000)),
    // 5% still unvetted (new hosts), the rest vetted.
    passedChecks: rand() < 0.95 ? 8 + randInt(100) : randInt(8),
  }
}


function us(fromNs: bigint): number {
  return Number(process.hrtime.bigint() - fromNs) / 1000
}

interface SizeResult { n: number; buildMs: number; medianUs: number; p99Us: number; updateMedianUs: number; updateP99Us: number; nodesPerQuery: number; hostsPerQuery: number }

interface Built { n: number; index: HostIndex; hosts: [Uint8Array, HostRecord][]; buildMs: number; lat: number[]; stats: RouteStats }

function build(n: number): Built {
  const addresses = new Uint8Array(32 * n)
  for (let i = 0; i < addresses.length; i++) addresses[i] = randInt(256)
  const hosts: [Uint8Array, HostRecord][] = []
  for (let i = 0; i < n; i++) hosts.push([addresses.subarray(32 * i, 32 * i + 32), makeHost()])
  const t = process.hrtime.bigint()
  const index = HostIndex.build({ gridSize: GRID, ...params }, hosts)
  return { n, index, hosts, buildMs: us(t) / 1000, lat: [], stats: { nodesVisited: 0, hostsExamined: 0 } }
}

/** `count` queries selecting 3 hosts from random origins; `record` keeps latencies and work counters. */
function queryRound(b: Built, count: number, record: boolean): void {
  const seed = new Uint8Array(32)
  for (let i = 0; i < count; i++) {
    seed[0] = i & 0xff
    seed[1] = i >> 8
    const req = computeExecutionRequest({ origin: { x: randInt(GRID), y: randInt(GRID), z: randInt(GRID) }, replicas: 3, bidPerFuel: 100n, private: false, zones: [], strategy: 0, minMemoryBytes: 0n })
    const t = process.hrtime.bigint()
    const got = route(req, b.index, seed)
    const d = us(t)
    if (got.length !== 3) throw new Error(`expected 3 hosts, got ${got.length}`)
    if (record) {
      b.lat.push(d)
      route(req, b.index, seed, b.stats) // counted separately so counting never skews the timing
    }
  }
}

function updates(b: Built): number[] {
  const upd: number[] = []
  for (let i = 0; i < UPDATES; i++) {
    const [a, r] = b.hosts[randInt(b.n)]!
    const moved: HostRecord = { ...r, params: { ...r.params, coord: { x: randInt(GRID), y: randInt(GRID), z: randInt(GRID) } } }
    const t = process.hrtime.bigint()
    b.index.upsert(a, moved)
    upd.push(us(t))
  }
  return upd.sort((x, y) => x - y)
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0)
const results = new Map<number, SizeResult>()
// One size at a time, each index dropped before the next is built: a 1M-host heap would otherwise
// slow the smaller sizes' garbage collection and inflate their p99.
for (const n of sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000]) {
  const b = build(n)
  queryRound(b, 300, false) // warm the JIT
  queryRound(b, QUERIES, true)
  const lat = b.lat.sort((x, y) => x - y)
  const upd = updates(b)
  const out: SizeResult = {
    n: b.n,
    buildMs: Math.round(b.buildMs),
    medianUs: +median(lat).toFixed(1),
    p99Us: +percentile(lat, 99).toFixed(1),
    updateMedianUs: +median(upd).toFixed(2),
    updateP99Us: +percentile(upd, 99).toFixed(2),
    nodesPerQuery: +(b.stats.nodesVisited / lat.length).toFixed(1),
    hostsPerQuery: +(b.stats.hostsExamined / lat.length).toFixed(1),
  }
  console.log(JSON.stringify(out))
  results.set(n, out)
}
const r10k = results.get(10_000)
const r100k = results.get(100_000)
const r1m = results.get(1_000_000)
console.log(JSON.stringify({
  medianUs10k: r10k?.medianUs ?? null,
  medianUs100k: r100k?.medianUs ?? null,
  p99Us100k: r100k?.p99Us ?? null,
  medianUs1M: r1m?.medianUs ?? null,
  growth10kTo1M: r10k && r1m ? +(r1m.medianUs / r10k.medianUs).toFixed(2) : null,
  // Machine-independent work per query: octree nodes popped and hosts looked at.
  nodesPerQuery10k: r10k?.nodesPerQuery ?? null,
  nodesPerQuery1M: r1m?.nodesPerQuery ?? null,
  hostsPerQuery10k: r10k?.hostsPerQuery ?? null,
  hostsPerQuery1M: r1m?.hostsPerQuery ?? null,
  buildMs100k: r100k?.buildMs ?? null,
  buildMs1M: r1m?.buildMs ?? null,
  updateMedianUs100k: r100k?.updateMedianUs ?? null,
  updateMedianUs1M: r1m?.updateMedianUs ?? null,
}))
