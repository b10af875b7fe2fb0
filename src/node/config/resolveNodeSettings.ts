import { defaultNodeSettings, type NodeSettings, type PartialNodeSettings, SETTING_NAMES, type SettingName } from './nodeSettings.ts'

export interface ResolvedNodeSettings {
  values: Partial<NodeSettings> & ReturnType<typeof defaultNodeSettings>
  /** How to name a setting in an error: the flag when it came from one, the key and file otherwise. */
  label(name: SettingName): string
}

/** flag > config file > default, setting by setting (a list given as a flag replaces the file's list). */
export function resolveNodeSettings(flags: PartialNodeSettings, file: PartialNodeSettings, configPath?: string, env: NodeJS.ProcessEnv = process.env): ResolvedNodeSettings {
  const values: Record<string, unknown> = { ...defaultNodeSettings(env) }
  const source = new Map<SettingName, 'flag' | 'file'>()
  for (const name of SETTING_NAMES) {
    const flag = flags[name]
    const fromFile = file[name]
    if (flag !== undefined) {
      values[name] = flag
      source.set(name, 'flag')
    } else if (fromFile !== undefined) {
      values[name] = fromFile
      source.set(name, 'file')
    }
  }
  return {
    values: values as ResolvedNodeSettings['values'],
    label: (name) => (source.get(name) === 'file' ? `"${name}" in ${configPath ?? 'the config file'}` : `--${name}`),
  }
}
