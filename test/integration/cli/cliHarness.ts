import { main } from '../../../src/cli/main.ts'
import type { Json } from '../../../src/rpc/wire.ts'

export interface CliRun { code: number; stdout: string; stderr: string; json: unknown }

/** Runs `xsc …` in-process (the same `main` bin/xsc.js runs) and captures what it prints. */
export async function runCli(...argv: string[]): Promise<CliRun> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s))
  const stdout = out.join('\n')
  let json: unknown
  if (argv.includes('--json')) json = JSON.parse(stdout)
  return { code, stdout, stderr: err.join('\n'), json }
}

/** `xsc --json` on failure: the error's details as JSON (bigints as decimal strings, bytes as hex). */
export interface CliErrorJson { error: { code: string; message: string; advice?: string; details: { [field: string]: Json } } }
