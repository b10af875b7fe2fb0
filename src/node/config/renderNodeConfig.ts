import { stringify } from 'smol-toml'

import { NODE_SETTINGS, type PartialNodeSettings, SETTING_NAMES, type SettingSpec } from './nodeSettings.ts'

const HEADINGS: Record<SettingSpec['section'], string> = {
  node: 'Node',
  rpc: 'JSON-RPC, explorer, health probes and metrics (HTTP + WebSocket on one port)',
  p2p: 'Peer-to-peer network (libp2p)',
  host: 'Host role: storage and compute for the chain',
}

function line(name: string, value: string | string[] | boolean): string {
  return stringify({ [name]: value }).trim()
}

/**
 * A commented TOML config for `xsc node --config`: every setting of NODE_SETTINGS with its
 * documentation; the ones in `values` set, the others commented out at their example value.
 */
export function renderNodeConfig(values: PartialNodeSettings, title: string): string {
  const out = [
    `# ${title}`,
    '#',
    '# Run with: xsc node --config THIS_FILE',
    '# Keys are the flags of `xsc node`; a flag given on the command line overrides the value here,',
    '# and a value here overrides the built-in default. Relative paths are relative to this file.',
  ]
  let section: SettingSpec['section'] | undefined
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = NODE_SETTINGS[name]
    if (spec.section !== section) {
      section = spec.section
      out.push('', `# ---- ${HEADINGS[section]} ----`)
    }
    out.push('', ...spec.doc.match(/.{1,96}(\s|$)/g)!.map((l) => `# ${l.trimEnd()}`))
    const value = values[name]
    if (value !== undefined) out.push(line(name, value))
    else if (spec.example !== undefined) out.push(`# ${line(name, spec.example)}`)
  }
  return out.join('\n') + '\n'
}
