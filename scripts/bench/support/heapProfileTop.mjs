// The top allocating functions of sampling heap profiles (heapSamplePreload.cjs): self bytes per
// second of the window by function and file, and the call paths above the largest ones.
//   node scripts/bench/support/heapProfileTop.mjs [--top 30] [--paths 8] FILES...
import { readFileSync } from 'node:fs'
const args = process.argv.slice(2)
const opt = (name, d) => { const i = args.indexOf(name); if (i < 0) return d; const v = Number(args[i + 1]); args.splice(i, 2); return v }
const top = opt('--top', 30)
const paths = opt('--paths', 8)
const short = (url) => url.replace(/^.*\.build\/[^/]+\//, '').replace(/^.*node_modules\//, '~').replace(/^file:\/\//, '')
const frame = (n) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
for (const file of args) {
  const p = JSON.parse(readFileSync(file, 'utf8'))
  const secs = (p.windowMs ?? 30000) / 1000
  const self = new Map()
  const stacks = new Map()
  let total = 0
  const walk = (n, path) => {
    const here = [...path, frame(n)]
    if (n.selfSize > 0) {
      const k = frame(n)
      self.set(k, (self.get(k) ?? 0) + n.selfSize)
      const s = stacks.get(k) ?? new Map()
      const up = here.slice(-6, -1).reverse().join(' < ')
      s.set(up, (s.get(up) ?? 0) + n.selfSize)
      stacks.set(k, s)
      total += n.selfSize
    }
    for (const c of n.children ?? []) walk(c, here)
  }
  walk(p.head, [])
  console.log(`${file}: ${(total / secs / 1024).toFixed(0)} KiB/s sampled allocation over ${secs} s`)
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
  for (const [k, b] of rows) console.log(`${(b / secs / 1024).toFixed(1).padStart(8)} KiB/s ${((b / total) * 100).toFixed(1).padStart(5)} %  ${k}`)
  for (const [k] of rows.slice(0, paths)) {
    console.log(`\n${k}:`)
    for (const [up, b] of [...stacks.get(k)].sort((a, c) => c[1] - a[1]).slice(0, 4)) console.log(`  ${(b / secs / 1024).toFixed(1).padStart(7)} KiB/s < ${up}`)
  }
}
