import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { main } from '../../../src/cli/main.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { readKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'

const tmp = tempDir('xsc-keys-')
afterAll(() => tmp.cleanup())
const pass = join(tmp.dir, 'pass.txt')
writeFileSync(pass, 'pw-one\n')
const pass2 = join(tmp.dir, 'pass2.txt')
writeFileSync(pass2, 'pw-two\n')

async function cli(...argv: string[]): Promise<{ code: number; json: Record<string, unknown> & { error?: { code: string } } }> {
  let out = ''
  const code = await main([...argv, '--json'], (s) => (out += s), () => undefined)
  return { code, json: JSON.parse(out) }
}

describe('xsc keys new | list | import | export', () => {
  it('new writes an encrypted file; export gives the secret back only with the passphrase', async () => {
    const file = join(tmp.dir, 'a.json')
    const made = await cli('keys', 'new', '--out', file, '--passphrase-file', pass)
    expect(made).toMatchObject({ code: 0, json: { encrypted: true } })
    expect(readFileSync(file, 'utf8')).not.toMatch(/secretKey/)
    const exported = await cli('keys', 'export', file, '--passphrase-file', pass)
    expect(exported.json.address).toBe(made.json.address)
    expect(toHex(readKeyFile(file, { passphrase: 'pw-one' }).secretKey)).toBe(exported.json.secretKey)
    expect(await cli('keys', 'export', file, '--passphrase-file', pass2)).toMatchObject({ code: 1, json: { error: { code: 'WRONG_PASSPHRASE' } } })
  })

  it('import re-encrypts a plaintext devnet key under a new passphrase; list shows both and which is in clear', async () => {
    const plain = join(tmp.dir, 'plain.json')
    const key = testKey('import-me')
    writeFileSync(plain, JSON.stringify({ publicKey: toHex(key.publicKey), secretKey: toHex(key.secretKey) }))
    const enc = join(tmp.dir, 'imported.json')
    expect(await cli('keys', 'import', plain, '--out', enc, '--new-passphrase-file', pass2)).toMatchObject({ code: 0, json: { address: toHex(key.publicKey), encrypted: true } })
    expect(toHex(readKeyFile(enc, { passphrase: 'pw-two' }).secretKey)).toBe(toHex(key.secretKey))
    const listed = await cli('keys', 'list', tmp.dir)
    const rows = listed.json as unknown as { file: string; address: string; encrypted: boolean }[]
    expect(rows).toContainEqual({ file: plain, address: toHex(key.publicKey), encrypted: false })
    expect(rows).toContainEqual({ file: enc, address: toHex(key.publicKey), encrypted: true })
    expect(await cli('keys', 'import', plain, '--out', enc, '--plaintext')).toMatchObject({ code: 2 }) // never overwrites
  })

  it('import --secret-file takes a raw hex secret', async () => {
    const key = testKey('raw')
    const secret = join(tmp.dir, 'secret.txt')
    writeFileSync(secret, toHex(key.secretKey) + '\n')
    const out = join(tmp.dir, 'raw.json')
    expect(await cli('keys', 'import', '--secret-file', secret, '--out', out, '--passphrase-file', pass)).toMatchObject({ code: 0, json: { address: toHex(key.publicKey) } })
  })
})
