import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { parse } from 'smol-toml'
import { afterAll, describe, expect, it } from 'vitest'

import { resolveNodeCommandSettings } from '../../../src/cli/commands/node.ts'
import { main } from '../../../src/cli/main.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { ConfigError } from '../../../src/node/config/errors.ts'
import { NODE_SETTINGS, SETTING_NAMES } from '../../../src/node/config/nodeSettings.ts'
import { parseNodeConfig } from '../../../src/node/config/parseNodeConfig.ts'
import { renderNodeConfig } from '../../../src/node/config/renderNodeConfig.ts'
import { writeGenesisFile } from '../../../src/node/genesisFile.ts'
import { readKeyFile, readKeyFileAddress, writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

const tmp = tempDir('xsc-config-')
afterAll(() => tmp.cleanup())

function configError(text: string): ConfigError {
  try {
    parseNodeConfig(text, '/etc/xsc/node.toml')
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error('no ConfigError')
}

async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, (s) => (out += s + '\n'), (s) => (err += s + '\n'))
  return { code, out, err }
}

describe('node config file: parsing', () => {
  it('reads the flag names as keys, resolving relative paths against the file', () => {
    const s = parseNodeConfig('data = "d"\nkey = "/abs/k.json"\nhost-key = "keys/h.json"\nlisten = ["/ip4/0.0.0.0/tcp/4001"]\nhost = true\ncapacity = 4096\ncoord = "1,2,3"\n', '/etc/xsc/node.toml')
    expect(s).toEqual({ data: '/etc/xsc/d', key: '/abs/k.json', 'host-key': '/etc/xsc/keys/h.json', listen: ['/ip4/0.0.0.0/tcp/4001'], host: true, capacity: '4096', coord: '1,2,3' })
  })

  it('a TOML syntax error is BAD_TOML with its line', () => {
    const e = configError('data = "d"\nlisten = ["/ip4/0.0.0.0/tcp/1",\n')
    expect(e.code).toBe('BAD_TOML')
    expect(e.details).toMatchObject({ line: 3 })
    expect(e.message).toContain('/etc/xsc/node.toml:3')
  })

  it('an unknown key is UNKNOWN_KEY naming it, with the nearest known key', () => {
    const e = configError('data = "d"\nanounce = ["/ip4/1.2.3.4/tcp/1"]\n')
    expect(e.code).toBe('UNKNOWN_KEY')
    expect(e.details).toMatchObject({ key: 'anounce', suggestion: 'announce' })
    expect(e.message).toMatch(/unknown key "anounce".*did you mean "announce"/)
    expect(configError('[p2p]\nlisten = []\n').details).toMatchObject({ key: 'p2p' })
  })

  it.each([
    ['listen = "/ip4/0.0.0.0/tcp/1"', 'listen', 'an array of strings'],
    ['listen = [1, 2]', 'listen', 'an array of strings'],
    ['host = "yes"', 'host', 'true or false'],
    ['zone = 3', 'zone', 'a string'],
    ['capacity = -5', 'capacity', 'a whole number or a string'],
    ['capacity = 1.5', 'capacity', 'a whole number or a string'],
  ])('a wrong type (%s) is WRONG_TYPE naming the key', (text, key, expected) => {
    const e = configError(text)
    expect(e.code).toBe('WRONG_TYPE')
    expect(e.details).toMatchObject({ key, expected })
    expect(e.message).toContain(`"${key}"`)
  })

  it('an unreadable file is UNREADABLE', () => {
    expect(() => resolveNodeCommandSettings(['--config', join(tmp.dir, 'missing.toml')])).toThrow(expect.objectContaining({ code: 'UNREADABLE' }))
  })
})

describe('node settings: flag > file > default', () => {
  const file = join(tmp.dir, 'prec.toml')
  writeFileSync(file, 'data = "from-file"\nzone = "file-zone"\nlisten = ["/ip4/0.0.0.0/tcp/1"]\nannounce = ["/ip4/10.0.0.9/tcp/1"]\n')

  it('a flag overrides the file, the file overrides the default, the default fills the rest', () => {
    const { values, label } = resolveNodeCommandSettings(['--config', file, '--zone', 'flag-zone', '--listen', '/ip4/0.0.0.0/tcp/2'])
    expect(values.zone).toBe('flag-zone')
    expect(label('zone')).toBe('--zone')
    expect(values.data).toBe(join(tmp.dir, 'from-file'))
    expect(label('data')).toBe(`"data" in ${file}`)
    expect(values.listen).toEqual(['/ip4/0.0.0.0/tcp/2']) // a list flag replaces the file's list
    expect(values.announce).toEqual(['/ip4/10.0.0.9/tcp/1'])
    expect(values.coord).toBe('0,0,0')
    expect(values.rpc).toBe('127.0.0.1:8545')
  })

  it('without --config the flags and defaults apply as before', () => {
    const { values } = resolveNodeCommandSettings(['--data', 'x', '--host'])
    expect(values).toMatchObject({ data: 'x', host: true, zone: 'local', listen: [], bootstrap: [] })
  })

  it('validator links are on unless --no-validator-links or "validator-links = false" turns them off (the flag beats the file)', () => {
    expect(resolveNodeCommandSettings(['--data', 'x']).values['validator-links']).toBe(true)
    expect(resolveNodeCommandSettings(['--data', 'x', '--no-validator-links']).values['validator-links']).toBe(false)
    const off = join(tmp.dir, 'links-off.toml')
    writeFileSync(off, 'data = "d"\nvalidator-links = false\n')
    expect(resolveNodeCommandSettings(['--config', off]).values['validator-links']).toBe(false)
    expect(resolveNodeCommandSettings(['--config', off, '--validator-links']).values['validator-links']).toBe(true)
  })

  it('committed blocks are checked in full only with --check-committed-signatures or "check-committed-signatures = true"', () => {
    expect(resolveNodeCommandSettings(['--data', 'x']).values['check-committed-signatures']).toBe(false)
    expect(resolveNodeCommandSettings(['--data', 'x', '--check-committed-signatures']).values['check-committed-signatures']).toBe(true)
    const on = join(tmp.dir, 'audit-on.toml')
    writeFileSync(on, 'data = "d"\ncheck-committed-signatures = true\n')
    expect(resolveNodeCommandSettings(['--config', on]).values['check-committed-signatures']).toBe(true)
  })

  it('a bad value from the file is reported by its key and file, from a flag by its flag', async () => {
    const genesis = join(tmp.dir, 'genesis.json')
    writeGenesisFile(genesis, testGenesis())
    const hostKey = join(tmp.dir, 'host.json')
    writeKeyFile(hostKey, testKey('cfg-host'))
    const bad = join(tmp.dir, 'bad.toml')
    writeFileSync(bad, `data = "d"\ngenesis = "genesis.json"\nhost = true\nhost-key = "host.json"\ncoord = "1,2"\n`)
    const fromFile = await runCli('node', '--config', bad, '--json')
    expect(fromFile.code).toBe(2)
    expect(JSON.parse(fromFile.out).error.message).toContain(`"coord" in ${bad}`)
    const fromFlag = await runCli('node', '--config', bad, '--coord', '1,x,3', '--json')
    expect(JSON.parse(fromFlag.out).error.message).toContain('--coord takes x,y,z')
    const badToml = join(tmp.dir, 'syntax.toml')
    writeFileSync(badToml, 'data = \n')
    const syntax = await runCli('node', '--config', badToml, '--json')
    expect(syntax.code).toBe(1)
    expect(JSON.parse(syntax.out).error).toMatchObject({ code: 'BAD_TOML', details: { line: 1 } })
  })

  it('state-sync flags: a trust hash needs its height, both need --state-sync, the hash is 32 bytes of hex', async () => {
    const genesis = join(tmp.dir, 'genesis-sync.json')
    writeGenesisFile(genesis, testGenesis())
    const run = async (...flags: string[]) => JSON.parse((await runCli('node', '--data', join(tmp.dir, 'sync'), '--genesis', genesis, '--json', ...flags)).out).error.message as string
    expect(await run('--trust-height', '5')).toContain('go with --state-sync')
    expect(await run('--state-sync', '--trust-height', '5', '--trust-hash', '0x12')).toContain('--trust-hash takes a block hash')
    expect(await run('--state-sync', '--trust-hash', `0x${'ab'.repeat(32)}`)).toContain('--trust-hash needs --trust-height')
    expect(await run('--state-sync', '--trust-height', 'x')).toContain('--trust-height must be a whole number')
  })
})

describe('xsc init', () => {
  it('documents every `xsc node` setting in the file it writes, and the file parses back', () => {
    const text = renderNodeConfig({ data: 'data' }, 'test')
    for (const name of SETTING_NAMES) expect(text, name).toMatch(new RegExp(`^#? ?${name.replace('-', '\\-')} = `, 'm'))
    for (const name of SETTING_NAMES) expect(text).toContain(NODE_SETTINGS[name].doc.slice(0, 40))
    expect(parse(text)).toEqual({ data: 'data' })
  })

  it('writes plaintext devnet keys and a config that `xsc node --config` resolves', async () => {
    const dir = join(tmp.dir, 'node-a')
    const r = await runCli('init', '--validator', '--host', dir, '--plaintext', '--listen', '/ip4/0.0.0.0/tcp/4001', '--announce', '/ip4/10.77.0.2/tcp/4001', '--rpc', '0.0.0.0:8545', '--coord', '5,6,7', '--json')
    expect(r.code, r.err).toBe(0)
    const out = JSON.parse(r.out)
    expect(out.p2p).toEqual([`/ip4/10.77.0.2/tcp/4001/p2p/${out.peerId}`])
    const { values } = resolveNodeCommandSettings(['--config', join(dir, 'node.toml')])
    expect(values).toMatchObject({ data: join(dir, 'data'), key: join(dir, 'keys', 'validator.json'), 'host-key': join(dir, 'keys', 'host.json'), host: true, coord: '5,6,7', rpc: '0.0.0.0:8545', announce: ['/ip4/10.77.0.2/tcp/4001'] })
    expect(toHex(readKeyFile(values.key!).publicKey)).toBe(out.validator)
    expect(toHex(readKeyFile(values['host-key']!).publicKey)).toBe(out.host)
    expect((await runCli('init', dir, '--plaintext')).code).toBe(2) // never overwrites
  })

  it('encrypts the keys with the passphrase from --passphrase-file and records that file in the config', async () => {
    const dir = join(tmp.dir, 'node-b')
    const pass = join(tmp.dir, 'pass.txt')
    writeFileSync(pass, 'hunter2\n')
    const r = await runCli('init', '--host', dir, '--passphrase-file', pass, '--json')
    expect(r.code, r.err).toBe(0)
    const out = JSON.parse(r.out)
    const keyFile = join(dir, 'keys', 'host.json')
    expect(readFileSync(keyFile, 'utf8')).toContain('xsc-keystore')
    expect(toHex(readKeyFileAddress(keyFile))).toBe(out.host)
    expect(toHex(readKeyFile(keyFile, { passphrase: 'hunter2' }).publicKey)).toBe(out.host)
    expect(() => readKeyFile(keyFile, { passphrase: 'wrong' })).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }))
    const { values } = resolveNodeCommandSettings(['--config', join(dir, 'node.toml')])
    expect(values['passphrase-file']).toBe(pass)
    expect(values['p2p-key']).toBe(join(dir, 'keys', 'p2p.json'))
  })

  it('refuses to write keys in clear without --plaintext when no passphrase is available', async () => {
    const saved = process.env.XSC_PASSPHRASE
    delete process.env.XSC_PASSPHRASE
    try {
      const r = await runCli('init', join(tmp.dir, 'node-c'), '--json')
      expect(r.code).toBe(2)
      expect(JSON.parse(r.out).error.message).toMatch(/no passphrase/)
    } finally {
      if (saved !== undefined) process.env.XSC_PASSPHRASE = saved
    }
  })
})
