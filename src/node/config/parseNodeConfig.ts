import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'

import { parse, TomlError } from 'smol-toml'

import { ConfigError } from './errors.ts'
import { NODE_SETTINGS, type PartialNodeSettings, SETTING_NAMES, type SettingName, type SettingSpec } from './nodeSettings.ts'

function isSetting(name: string): name is SettingName {
  return Object.hasOwn(NODE_SETTINGS, name)
}

/** The closest known key, for "did you mean". */
function suggest(name: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
    for (let j = 1; j <= b.length; j++) d[0]![j] = j
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    return d[a.length]![b.length]!
  }
  const best = SETTING_NAMES.map((n) => ({ n, d: distance(name, n) })).sort((a, b) => a.d - b.d)[0]
  return best !== undefined && best.d <= 3 ? best.n : undefined
}

function typed(name: SettingName, spec: SettingSpec, value: unknown, file: string): string | string[] | boolean {
  const wrong = (expected: string): never => {
    throw new ConfigError('WRONG_TYPE', `${file}: "${name}" must be ${expected}, got ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'a table' : JSON.stringify(value)}`, { key: name, file, expected })
  }
  switch (spec.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : wrong('true or false')
    case 'strings':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) wrong('an array of strings')
      return value as string[]
    case 'string':
      if (typeof value === 'string') return value
      if (spec.integer === true && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
      return wrong(spec.integer === true ? 'a whole number or a string' : 'a string')
  }
}

/**
 * Parses the text of a node config file: flat TOML whose keys are the `xsc node` flag names.
 * Unknown keys and wrong types are ConfigErrors naming the key; relative paths are resolved
 * against the directory of `file`.
 */
export function parseNodeConfig(text: string, file: string): PartialNodeSettings {
  let doc: Record<string, unknown>
  try {
    doc = parse(text)
  } catch (e) {
    if (e instanceof TomlError) throw new ConfigError('BAD_TOML', `${file}:${e.line}:${e.column}: ${e.message.split('\n')[0]}`, { file, line: e.line, column: e.column }, { cause: e })
    throw e
  }
  const out: Record<string, unknown> = {}
  const take = (name: string, value: unknown): void => {
    if (!isSetting(name)) {
      const hint = suggest(name)
      throw new ConfigError('UNKNOWN_KEY', `${file}: unknown key "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`, { key: name, file, ...(hint ? { suggestion: hint } : {}) })
    }
    const spec: SettingSpec = NODE_SETTINGS[name]
    let v = typed(name, spec, value, file)
    if (spec.path === true && typeof v === 'string' && v !== '' && !isAbsolute(v)) v = resolve(dirname(file), v)
    out[name] = v
  }
  for (const [name, value] of Object.entries(doc)) take(name, value)
  return out as PartialNodeSettings
}

export function readNodeConfigFile(file: string): PartialNodeSettings {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (cause) {
    throw new ConfigError('UNREADABLE', `cannot read config file ${file}: ${(cause as Error).message}`, { file }, { cause })
  }
  return parseNodeConfig(text, file)
}
