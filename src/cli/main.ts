import '../polyfill.ts'
import { XscError } from '../../blocks/errors.ts'
import { CliError, type Command } from './args.ts'
import { genesisCommand } from './commands/genesis.ts'
import { keysCommand } from './commands/keys.ts'
import { nodeCommand } from './commands/node.ts'
import { statusCommand } from './commands/status.ts'
import { transferCommand } from './commands/transfer.ts'

const COMMANDS: Command[] = [keysCommand, genesisCommand, nodeCommand, transferCommand, statusCommand]

function help(): string {
  return ['usage: xsc <command> [options]   (every command takes --json)', '', ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`)].join('\n')
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const [name, ...rest] = argv
  const json = rest.includes('--json')
  const cmd = COMMANDS.find((c) => c.name === name)
  if (!cmd || name === '--help') {
    out(help())
    return name === undefined || name === '--help' ? 0 : 2
  }
  if (rest.includes('--help')) {
    out(`usage: xsc ${cmd.name} ${cmd.usage}`)
    return 0
  }
  try {
    await cmd.run({ argv: rest, out, json })
    return 0
  } catch (e) {
    const err = e instanceof XscError ? e : undefined
    const message = err ? err.message : e instanceof Error ? e.message : String(e)
    if (json) out(JSON.stringify({ error: { code: err?.code ?? 'FAILED', message, details: err?.details ?? {} } }))
    else process.stderr.write(`error: ${message}\n`)
    return e instanceof CliError && e.code === 'USAGE' ? 2 : 1
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('src/cli/main.ts')) {
  main(process.argv.slice(2)).then((code) => process.exit(code))
}
