import '../polyfill.ts'

import { XscError } from '../../blocks/errors.ts'
import { type Command, jsonReplacer } from './args.ts'
import { explainError } from './commands/explainError.ts'
import { CliError } from './errors.ts'

/**
 * The commands, in help order, each loaded when it runs: `xsc status` need not load libp2p,
 * classic-level and the WASM runtime that `xsc node` does (about 0.7 s against 3 s here).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./commands/init.ts')).initCommand,
  keys: async () => (await import('./commands/keys.ts')).keysCommand,
  genesis: async () => (await import('./commands/genesis.ts')).genesisCommand,
  node: async () => (await import('./commands/node.ts')).nodeCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
  balance: async () => (await import('./commands/balance.ts')).balanceCommand,
  transfer: async () => (await import('./commands/transfer.ts')).transferCommand,
  tx: async () => (await import('./commands/tx.ts')).txCommand,
  block: async () => (await import('./commands/block.ts')).blockCommand,
  deploy: async () => (await import('./commands/deploy.ts')).deployCommand,
  get: async () => (await import('./commands/get.ts')).getCommand,
  exec: async () => (await import('./commands/exec.ts')).execCommand,
  query: async () => (await import('./commands/query.ts')).queryCommand,
  asset: async () => (await import('./commands/asset.ts')).assetCommand,
  host: async () => (await import('./commands/host.ts')).hostCommand,
}

async function help(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()))
  return ['usage: xsc <command> [options]   (every command takes --json; xsc <command> --help for its options)', '', ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`), '', 'RPC: --rpc URL or $XSC_RPC (default http://127.0.0.1:8545)'].join('\n')
}

/**
 * Runs one command. Exit codes: 0 done, 1 the command failed (node refused, not found, ...), 2
 * usage error. With --json, stdout carries exactly one JSON document: the result, or
 * `{"error": {code, message, advice, details}}`.
 */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const [name, ...rest] = argv
  const json = rest.includes('--json')
  const load = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!load) {
    const known = name === undefined || name === '--help'
    if (known) out(await help())
    else if (json) out(JSON.stringify({ error: { code: 'USAGE', message: `unknown command "${name}"`, advice: 'run xsc --help for the list of commands', details: {} } }))
    else err(`error: unknown command "${name}"\n\n${await help()}`)
    return known ? 0 : 2
  }
  const cmd = await load()
  if (rest.includes('--help')) {
    out(`usage: xsc ${cmd.name} ${cmd.usage}`)
    return 0
  }
  try {
    await cmd.run({ argv: rest, out, json })
    return 0
  } catch (e) {
    const xe = e instanceof XscError ? e : undefined
    const message = xe ? xe.message : e instanceof Error ? e.message : String(e)
    const usage = e instanceof CliError && e.code === 'USAGE'
    const advice = usage ? `see xsc ${cmd.name} --help` : explainError(e)
    if (json) {
      // The advice is printed beside the details, not inside them.
      const details = Object.fromEntries(Object.entries(xe?.details ?? {}).filter(([field]) => field !== 'advice'))
      out(JSON.stringify({ error: { code: xe?.code ?? 'FAILED', message, ...(advice ? { advice } : {}), details } }, jsonReplacer))
    } else err(`error: ${message}${advice && !usage ? `\nhint: ${advice}` : ''}`)
    return usage ? 2 : 1
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('src/cli/main.ts')) {
  main(process.argv.slice(2)).then((code) => process.exit(code))
}
