import { describe, expect, it } from 'vitest'

import { PrivateExecutionError } from '../../../src/compute/errors.ts'
import { decryptPrivateInput, decryptPrivateOutput, encryptPrivateInput, encryptPrivateOutput, generateExecutionKey, isKeyOfInput, PRIVATE_INPUT_OVERHEAD, unwrapExecutionKey, wrapExecutionKey } from '../../../src/compute/privateExecutionCipher.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { deriveHostEncryptionKey } from '../../../src/crypto/x25519.ts'

const te = new TextEncoder()
const execId = new Uint8Array(32).fill(7)
const stateA = new Uint8Array(32).fill(1)
const stateB = new Uint8Array(32).fill(2)

function host() {
  const signing = generateKeyPair()
  return { address: signing.publicKey, enc: deriveHostEncryptionKey(signing.secretKey) }
}

function expectTyped(f: () => unknown, code: string): void {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(PrivateExecutionError)
    expect((e as PrivateExecutionError).code).toBe(code)
    return
  }
  throw new Error('expected a throw')
}

describe('private execution input', () => {
  it('round-trips and never contains the plaintext', () => {
    const k = generateExecutionKey()
    const plain = te.encode('the secret input, long enough to be searched for')
    const ct = encryptPrivateInput(k, plain)
    expect(ct.length).toBe(plain.length + PRIVATE_INPUT_OVERHEAD)
    expect(Buffer.from(ct).includes(Buffer.from(plain.subarray(0, 16)))).toBe(false)
    expect(decryptPrivateInput(k, ct)).toEqual(plain)
  })

  it('refuses a key the input did not commit to, and a tampered input, with typed errors', () => {
    const k = generateExecutionKey()
    const ct = encryptPrivateInput(k, te.encode('x'))
    expect(isKeyOfInput(generateExecutionKey(), ct)).toBe(false)
    expectTyped(() => decryptPrivateInput(generateExecutionKey(), ct), 'BAD_KEY')
    const tampered = ct.slice()
    tampered[tampered.length - 1]! ^= 1
    expectTyped(() => decryptPrivateInput(k, tampered), 'BAD_CIPHERTEXT')
    expectTyped(() => decryptPrivateInput(k, ct.subarray(0, 20)), 'BAD_CIPHERTEXT')
    expectTyped(() => decryptPrivateInput(new Uint8Array(31), ct), 'BAD_KEY')
  })
})

describe('private execution output', () => {
  it('is deterministic per (key, execution, state) so hosts agree, and differs across states', () => {
    const k = generateExecutionKey()
    const out = te.encode('result')
    const a1 = encryptPrivateOutput(k, execId, stateA, out)
    expect(encryptPrivateOutput(k.slice(), execId, stateA, out)).toEqual(a1)
    const b = encryptPrivateOutput(k, execId, stateB, out)
    expect(b).not.toEqual(a1)
    expect(decryptPrivateOutput(k, execId, stateA, a1)).toEqual(out)
    expectTyped(() => decryptPrivateOutput(k, execId, stateB, a1), 'BAD_CIPHERTEXT')
    expectTyped(() => decryptPrivateOutput(generateExecutionKey(), execId, stateA, a1), 'BAD_CIPHERTEXT')
  })
})

describe('key wrapping to hosts', () => {
  it('each assigned host unwraps K with its own key; no other host can', () => {
    const k = generateExecutionKey()
    const [h1, h2, outsider] = [host(), host(), host()]
    const { ephemeralKey, keys } = wrapExecutionKey(k, execId, [{ host: h1.address, encryptionKey: h1.enc.publicKey }, { host: h2.address, encryptionKey: h2.enc.publicKey }])
    expect(keys).toHaveLength(2)
    expect(unwrapExecutionKey(h1.enc, h1.address, execId, ephemeralKey, keys[0]!.wrapped)).toEqual(k)
    expect(unwrapExecutionKey(h2.enc, h2.address, execId, ephemeralKey, keys[1]!.wrapped)).toEqual(k)
    // h2 cannot read h1's copy, an outsider reads neither, and a copy moved to another execution fails.
    expectTyped(() => unwrapExecutionKey(h2.enc, h2.address, execId, ephemeralKey, keys[0]!.wrapped), 'BAD_CIPHERTEXT')
    expectTyped(() => unwrapExecutionKey(outsider.enc, outsider.address, execId, ephemeralKey, keys[0]!.wrapped), 'BAD_CIPHERTEXT')
    expectTyped(() => unwrapExecutionKey(h1.enc, h1.address, new Uint8Array(32), ephemeralKey, keys[0]!.wrapped), 'BAD_CIPHERTEXT')
  })

  it('refuses hosts without a key and unusable ephemeral keys with typed errors', () => {
    const k = generateExecutionKey()
    const h = host()
    expectTyped(() => wrapExecutionKey(k, execId, [{ host: h.address, encryptionKey: undefined }]), 'NO_HOST_KEY')
    // The all-zero point is of low order: its shared secret is zero.
    expectTyped(() => unwrapExecutionKey(h.enc, h.address, execId, new Uint8Array(32), new Uint8Array(48)), 'BAD_KEY')
    expectTyped(() => unwrapExecutionKey(h.enc, h.address, execId, new Uint8Array(31), new Uint8Array(48)), 'BAD_KEY')
  })

  it('the host key is derived deterministically from the host seed', () => {
    const seed = new Uint8Array(32).fill(9)
    expect(deriveHostEncryptionKey(seed).publicKey).toEqual(deriveHostEncryptionKey(seed.slice()).publicKey)
    expect(deriveHostEncryptionKey(seed).publicKey).not.toEqual(deriveHostEncryptionKey(new Uint8Array(32)).publicKey)
  })
})
