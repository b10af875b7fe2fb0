import '../polyfill.ts'

import { XscError } from '../../blocks/errors.ts'
import { type Command, jsonReplacer } from './args.ts'
import { assetCommand } from './commands/asset.ts'
import { balanceCommand } from './commands/balance.ts'
import { blockCommand } from './commands/block.ts'
import { deployCommand } from './commands/deploy.ts'
import { execCommand } from './commands/exec.ts'
import { explainError } from './commands/explainError.ts'
import { genesisCommand } from './commands/genesis.ts'
import { getCommand } from './commands/get.ts'
import { hostCommand } from './commands/host.ts'
import { initCommand } from './commands/init.ts'
import { keysCommand } from './commands/keys.ts'
import { nodeCommand } from './commands/node.ts'
import { queryCommand } from './commands/query.ts'
import { statusCommand } from './commands/status.ts'
import { transferCommand } from './commands/transfer.ts'
import { txCommand } from './commands/tx.ts'
import { CliError } from './errors.ts'

const COMMANDS: Command[] = [initCommand, keysCommand, genesisCommand, nodeCommand, statusCommand, balanceCommand, transferCommand, txCommand, blockCommand, deployCommand, getCommand, execCommand, queryCommand, assetCommand, hostCommand]

function help(): string {
  return ['usage: xsc <command> [options]   (every command takes --json; xsc <command> --help for its options)', '', ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`), '', 'RPC: --rpc URL or $XSC_RPC (default http://127.0.0.1:8545)'].join('\n')
}

/**
 * Runs one command. Exit codes: 0 done, 1 the command failed (node refused, not found, ...), 2
 * usage error. With --json, stdout carries exactly one JSON document: the result, or
 * `{"error": {code, message, advice, details}}`.
 */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const [name, ...rest] = argv
  const json = rest.includes('--json')
  const cmd = COMMANDS.find((c) => c.name === name)
  if (!cmd || name === '--help') {
    const known = name === undefined || name === '--help'
    if (known) out(help())
    else if (json) out(JSON.stringify({ error: { code: 'USAGE', message: `unknown command "${name}"`, advice: 'run xsc --help for the list of commands', details: {} } }))
    else err(`error: unknown command "${name}"\n\n${help()}`)
    return known ? 0 : 2
  }
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
