import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

import { generateKeyPair, type KeyPair, toHex } from '../../crypto/index.ts'
import { NODE_SETTINGS, type PartialNodeSettings, SETTING_NAMES } from '../../node/config/nodeSettings.ts'
import { renderNodeConfig } from '../../node/config/renderNodeConfig.ts'
import { writeKeyFile } from '../../node/keyFile.ts'
import { computeP2pSeed } from '../../node/network/p2pIdentity.ts'
import { type Command, parseCommandArgs, print } from '../args.ts'
import { CliError } from '../errors.ts'
import { resolvePassphrase } from '../passphrase.ts'

/** Settings init sets itself (paths inside DIR) rather than taking them as flags. */
const OWN = new Set(['data', 'key', 'host-key', 'p2p-key', 'validator', 'host', 'genesis', 'passphrase-file'])
const PASS_THROUGH = SETTING_NAMES.filter((n) => !OWN.has(n))
const FLAG_OPTIONS = Object.fromEntries(PASS_THROUGH.map((n) => [n, NODE_SETTINGS[n].kind === 'boolean' ? { type: 'boolean' } : { type: 'string', ...(NODE_SETTINGS[n].kind === 'strings' ? { multiple: true } : {}) }])) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>

async function peerIdOf(seed: Uint8Array): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed)).toString()
}

export const initCommand: Command = {
  name: 'init',
  summary: 'set up a node directory: keys (encrypted) and a commented node.toml',
  usage: '[--validator] [--host] DIR [--genesis genesis.json] [--passphrase-file FILE | --plaintext] [--force] [any `xsc node` setting, e.g. --rpc 0.0.0.0:8545 --listen /ip4/0.0.0.0/tcp/4001 --announce /ip4/PUBLIC_IP/tcp/4001 --bootstrap MULTIADDR --coord x,y,z --zone Z ...]\n  writes DIR/node.toml, DIR/keys/*.json (encrypted unless --plaintext) and copies --genesis to DIR/genesis.json; then: xsc node --config DIR/node.toml',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      ...FLAG_OPTIONS,
      validator: { type: 'boolean', default: false },
      host: { type: 'boolean', default: false },
      genesis: { type: 'string' },
      'passphrase-file': { type: 'string' },
      plaintext: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    })
    const given = values as Record<string, string | string[] | boolean | undefined>
    const [dirArg, extra] = positionals
    if (dirArg === undefined || extra !== undefined) throw new CliError('USAGE', `init takes one DIR\nusage: xsc init ${this.usage}`)
    const dir = resolve(dirArg)
    const configPath = join(dir, 'node.toml')
    if (existsSync(configPath) && given.force !== true) throw new CliError('USAGE', `${configPath} exists; pass --force to overwrite the config (keys are never overwritten)`, { path: configPath })
    const asHost = given.host === true
    const asValidator = given.validator === true || !asHost
    mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 })
    mkdirSync(join(dir, 'data'), { recursive: true })

    const passphraseFile = typeof given['passphrase-file'] === 'string' ? resolve(given['passphrase-file']) : undefined
    let passphrase: string | undefined
    if (given.plaintext !== true) {
      passphrase = await resolvePassphrase({ file: passphraseFile }, 'passphrase for the new keys: ', { confirm: true })
      if (passphrase === undefined) throw new CliError('USAGE', 'no passphrase to encrypt the keys: pass --passphrase-file FILE, set XSC_PASSPHRASE, run on a terminal, or write devnet keys with --plaintext')
    }
    const writeNewKey = (file: string, key: KeyPair, encrypt: boolean): void => {
      if (existsSync(file)) throw new CliError('USAGE', `${file} exists; refusing to overwrite a key file`, { path: file })
      writeKeyFile(file, key, encrypt && passphrase !== undefined ? { passphrase } : {})
    }

    const settings: PartialNodeSettings = { data: 'data', genesis: 'genesis.json' }
    for (const n of PASS_THROUGH) if (given[n] !== undefined) (settings as Record<string, unknown>)[n] = given[n]
    if (passphraseFile !== undefined) settings['passphrase-file'] = passphraseFile
    const out: { dir: string; config: string; validator?: string; host?: string; peerId: string; p2p: string[] } = { dir, config: configPath, peerId: '', p2p: [] }
    if (asValidator) {
      const key = generateKeyPair()
      writeNewKey(join(dir, 'keys', 'validator.json'), key, true)
      settings.key = 'keys/validator.json'
      out.validator = toHex(key.publicKey)
      out.peerId = await peerIdOf(computeP2pSeed(key.secretKey))
    }
    if (asHost) {
      const key = generateKeyPair()
      writeNewKey(join(dir, 'keys', 'host.json'), key, true)
      settings.host = true
      settings['host-key'] = 'keys/host.json'
      out.host = toHex(key.publicKey)
      if (!asValidator) {
        // A fixed libp2p identity, so peers can list this host in --bootstrap before it first runs.
        // It authenticates connections only (no funds): stored in the plaintext format.
        const p2p = generateKeyPair()
        writeNewKey(join(dir, 'keys', 'p2p.json'), p2p, false)
        settings['p2p-key'] = 'keys/p2p.json'
        out.peerId = await peerIdOf(p2p.secretKey)
      }
    }
    if (typeof given.genesis === 'string') copyFileSync(given.genesis, join(dir, 'genesis.json'))
    out.p2p = (settings.announce ?? settings.listen ?? []).map((a) => `${a}/p2p/${out.peerId}`)
    const title = `XSC ${asValidator && asHost ? 'validator + host' : asHost ? 'host' : 'validator'} node${out.validator ? `, validator ${out.validator}` : ''}${out.host ? `, host ${out.host}` : ''}`
    writeFileSync(configPath, renderNodeConfig(settings, title))
    const lines = [
      `wrote ${configPath}`,
      ...(out.validator ? [`validator address ${out.validator} (keys/validator.json, ${passphrase ? 'encrypted' : 'PLAINTEXT'})`] : []),
      ...(out.host ? [`host address      ${out.host} (keys/host.json, ${passphrase ? 'encrypted' : 'PLAINTEXT'}): fund it before it joins`] : []),
      `peer id           ${out.peerId}`,
      ...out.p2p.map((a) => `bootstrap address ${a}`),
      ...(existsSync(join(dir, 'genesis.json')) ? [] : [`next: copy the chain's genesis.json to ${join(dir, 'genesis.json')}`]),
      `run: xsc node --config ${configPath}`,
    ]
    print(ctx, out, lines.join('\n'))
  },
}
