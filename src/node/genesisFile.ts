import { readFileSync, writeFileSync } from 'node:fs'

import type { GenesisConfig } from '../../blocks/schema.ts'
import { GenesisError } from '../state/errors.ts'
import { formatGenesisJson, parseGenesisJson } from '../state/genesisJson.ts'

export function readGenesisFile(path: string): GenesisConfig {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new GenesisError('BAD_GENESIS', `cannot read ${path}: ${(cause as Error).message}`, { path }, { cause })
  }
  return parseGenesisJson(json)
}

export function writeGenesisFile(path: string, genesis: GenesisConfig): void {
  writeFileSync(path, JSON.stringify(formatGenesisJson(genesis), null, 2) + '\n')
}
