#!/usr/bin/env node
// The `xsc` command: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
process.exit(await main(process.argv.slice(2)))
