#!/usr/bin/env node
// The `xsc` command. It runs the CLI compiled to JavaScript (bin/build.mjs: .build/<stamp>/, built
// again whenever a source changed, ~0.3 s), which starts on plain Node; loading the TypeScript
// through tsx's loader hooks cost ~3.5 s of CPU per process (docs/devnet.md, Known problems 5).
// XSC_TSX=1, or a build that fails (e.g. a read-only checkout), runs the sources through tsx.
import { pathToFileURL } from 'node:url'

let dir
if (process.env.XSC_TSX !== '1') {
  try {
    const { ensureBuild } = await import('./build.mjs')
    dir = await ensureBuild()
  } catch (e) {
    const reason = String(e instanceof Error ? e.message : e).split('\n')[0]
    process.stderr.write(`xsc: no compiled build (${reason}); running the sources through tsx\n`)
  }
}
let main
if (dir !== undefined) {
  // Source maps stay off: with them on, Node reads and parses the .map of every module it loads,
  // ~600 of them in node_modules (0.3 s of a 1.75 s start). Stack traces name the compiled files
  // (.build/<stamp>/src/…/x.js, same names and functions); NODE_OPTIONS=--enable-source-maps
  // maps them to the .ts lines.
  ;({ main } = await import(pathToFileURL(`${dir}/src/cli/main.js`).href))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../src/cli/main.ts'))
}
process.exit(await main(process.argv.slice(2)))
