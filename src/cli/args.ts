import { parseArgs, type ParseArgsConfig } from 'node:util'

import { CliError } from './errors.ts'

export interface CommandContext {
  argv: string[]
  out: (text: string) => void
  json: boolean
}

export interface Command {
  name: string
  summary: string
  usage: string
  run(ctx: CommandContext): Promise<void>
}

/** parseArgs with `--json` and `--help` everywhere and usage errors as CliError. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(cmd: Pick<Command, 'name' | 'usage'>, argv: string[], options: O) {
  try {
    // allowNegative: a boolean flag that defaults on is turned off with --no-<flag> (--no-validator-links).
    return parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true, allowNegative: true, strict: true })
  } catch (e) {
    throw new CliError('USAGE', `${(e as Error).message}\nusage: xsc ${cmd.name} ${cmd.usage}`)
  }
}

export function required<T>(value: T | undefined, flag: string, cmd: Pick<Command, 'name' | 'usage'>): T {
  if (value === undefined) throw new CliError('USAGE', `missing ${flag}\nusage: xsc ${cmd.name} ${cmd.usage}`)
  return value
}

/** Prints a result: JSON (bigints as decimal strings, bytes as 0x-hex) with --json, else the text. */
export function print(ctx: CommandContext, value: unknown, text: string): void {
  ctx.out(ctx.json ? JSON.stringify(value, jsonReplacer) : text)
}

export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return '0x' + Buffer.from(v).toString('hex')
  return v
}

export const DEFAULT_RPC = process.env.XSC_RPC ?? 'http://127.0.0.1:8545'
