// Work per unit of work (docs/devnet.md, "Session 13: work per unit"): counts, in a devnet node
// process, each codec encode / decode / decodeTrusted by codec name, each hash, ed25519 verify and
// sign (the one `verify`, and records posted to the signature workers), socket writes, each by the project
// functions that called it (the first COUNT_SITE_DEPTH frames, default 3, of .build/ code above it). Load beside
// idleCountsPreload.mjs (LevelDB, sockets, gossip): COUNT_DIR=/tmp/counts NODE_OPTIONS="--import
// ./scripts/bench/support/idleCountsPreload.mjs --import ./scripts/bench/support/unitCountsPreload.mjs".
// SIGUSR2 starts counting, the next SIGUSR2 writes $COUNT_DIR/units-<name>-<pid>.json
// ({ secs, counts: { 'verify': n, 'verify <- f < g < h': n, … } }). `scripts/bench/devnetUnitCounts.ts`
// drives it. A diagnostic only: it rewrites the compiled source of those four files as it loads.
import { writeFileSync } from 'node:fs'
import { register } from 'node:module'
const dir = process.env.COUNT_DIR
if (dir && process.argv.some((a) => a.endsWith('xsc.js'))) {
  register(new URL('./unitCountsHooks.mjs', import.meta.url))
  let c = new Map()
  let on = false
  let t0 = 0
  const DEPTH = Number(process.env.COUNT_SITE_DEPTH ?? 3)
  const SKIP = ['/blocks/codec.js', '/src/crypto/hash.js', '/src/crypto/ed25519.js', '/src/crypto/index.js']
  const callSites = (_e, s) => s
  const site = () => {
    const prev = Error.prepareStackTrace
    const limit = Error.stackTraceLimit
    Error.prepareStackTrace = callSites
    Error.stackTraceLimit = DEPTH + 11
    const o = {}
    Error.captureStackTrace(o, site)
    const frames = o.stack
    Error.prepareStackTrace = prev
    Error.stackTraceLimit = limit
    const names = []
    for (const f of frames) {
      const file = f.getFileName() ?? ''
      if (!file.includes('/.build/') || SKIP.some((s) => file.endsWith(s))) continue
      names.push(f.getFunctionName() ?? f.getMethodName() ?? file.split('/').pop())
      if (names.length === DEPTH) break
    }
    return names.join(' < ')
  }
  const inc = (k, n) => c.set(k, (c.get(k) ?? 0) + n)
  globalThis.__xscCount = (kind, name, n = 1) => {
    if (!on) return
    const k = name ? `${kind} ${name}` : kind
    inc(k, n)
    inc(`${k} <- ${site()}`, n)
  }
  // Socket writes by the project code that started them (empty: none of ours on the stack, e.g. a
  // libp2p muxer's own queue or timer).
  const netMod = (await import('node:module')).createRequire(import.meta.url)('node:net')
  const write = netMod.Socket.prototype.write
  netMod.Socket.prototype.write = function (...a) {
    globalThis.__xscCount('socket write', 'by')
    return write.apply(this, a)
  }
  process.on('SIGUSR2', () => {
    if (!on) { c = new Map(); t0 = Date.now(); on = true; return }
    on = false
    const name = (process.argv.find((a) => a.includes('validator-') || a.includes('host-')) ?? 'x').split('/').pop()
    writeFileSync(`${dir}/units-${name}-${process.pid}.json`, JSON.stringify({ secs: (Date.now() - t0) / 1000, counts: Object.fromEntries([...c].sort((a, b) => b[1] - a[1])) }))
  })
}
