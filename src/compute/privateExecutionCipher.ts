import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

import type { Address, Hash, WrappedExecutionKey } from '../../blocks/schema.ts'
import { computeX25519SharedSecret, x25519KeyPairFromSecret } from '../crypto/x25519.ts'
import { PrivateExecutionError } from './errors.ts'

/**
 * The encryption of private executions (docs/compute.md, "Private executions"). One fresh random
 * key K per execution, chosen by the client:
 *
 *   input     = commit(32) ‖ nonce(12) ‖ AES-256-GCM(HKDF(K, info "XSC/private-input/v1"), nonce, aad = commit)(plaintext) ‖ tag
 *   commit    = HKDF(K, info "XSC/private-commit/v1")
 *   wrapped_h = AES-256-GCM(W_h, 0^12, aad = executionId)(K) ‖ tag              (48 bytes)
 *   W_h       = HKDF(X25519(e, P_h), salt = executionId, info = "XSC/private-key-wrap/v1" ‖ e_pub ‖ P_h ‖ host)
 *   output    = AES-256-GCM(O, 0^12, aad = executionId ‖ preStateHash)(plaintext) ‖ tag
 *   O         = HKDF(K, salt = executionId, info = "XSC/private-output/v1" ‖ preStateHash)
 *
 * e is an ephemeral X25519 key per delivery, P_h the host's published key. The output's nonce is
 * fixed so every honest host produces the same ciphertext (the quorum compares result hashes);
 * that is safe because O is used once: it is bound to the execution and to the state the host ran
 * on, the only two things a re-run can differ in (the input is fixed by the tx).
 *
 * The commitment is there because GCM does not commit to its key: without it a client could
 * craft one ciphertext that opens under two keys, deliver a different one to each host, and have
 * honest hosts disagree (and be marked as dissenting). With it, a host takes only the K the tx
 * committed to, so all hosts that run see the same plaintext.
 */
const NONCE_BYTES = 12
const TAG_BYTES = 16
export const PRIVATE_KEY_BYTES = 32
/** Bytes a private output adds to its plaintext. */
export const PRIVATE_OUTPUT_OVERHEAD = TAG_BYTES
const ZERO_NONCE = new Uint8Array(NONCE_BYTES)
const te = new TextEncoder()
const INPUT_INFO = te.encode('XSC/private-input/v1')
const COMMIT_INFO = te.encode('XSC/private-commit/v1')
const COMMIT_BYTES = 32
const WRAP_INFO = te.encode('XSC/private-key-wrap/v1')
const OUTPUT_INFO = te.encode('XSC/private-output/v1')

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32))
}

function seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, nonce)
  c.setAAD(aad)
  return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]))
}

function open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, what: 'input' | 'output' | 'wrappedKey'): Uint8Array {
  if (sealed.length < TAG_BYTES) throw new PrivateExecutionError('BAD_CIPHERTEXT', `${what} is shorter than its tag`, { what })
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce)
    d.setAAD(aad)
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
    return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]))
  } catch (e) {
    throw new PrivateExecutionError('BAD_CIPHERTEXT', `${what} does not decrypt under this key`, { what }, { cause: e })
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== PRIVATE_KEY_BYTES) throw new PrivateExecutionError('BAD_KEY', `an execution key is ${PRIVATE_KEY_BYTES} bytes, got ${key.length}`, { what: 'execution key' })
}

export function generateExecutionKey(): Uint8Array {
  return new Uint8Array(randomBytes(PRIVATE_KEY_BYTES))
}

/** The public commitment to K that a private input starts with. */
export function computeExecutionKeyCommitment(key: Uint8Array): Uint8Array {
  checkKey(key)
  return new Uint8Array(hkdf(key, new Uint8Array(0), COMMIT_INFO))
}

export function encryptPrivateInput(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const commit = computeExecutionKeyCommitment(key)
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES))
  const sealed = seal(hkdf(key, new Uint8Array(0), INPUT_INFO), nonce, commit, plaintext)
  const out = new Uint8Array(COMMIT_BYTES + NONCE_BYTES + sealed.length)
  out.set(commit)
  out.set(nonce, COMMIT_BYTES)
  out.set(sealed, COMMIT_BYTES + NONCE_BYTES)
  return out
}

/** Bytes a private input adds to its plaintext. */
export const PRIVATE_INPUT_OVERHEAD = COMMIT_BYTES + NONCE_BYTES + TAG_BYTES

/** Whether K is the key this private input committed to (checked before anything is decrypted). */
export function isKeyOfInput(key: Uint8Array, ciphertext: Uint8Array): boolean {
  if (key.length !== PRIVATE_KEY_BYTES || ciphertext.length < PRIVATE_INPUT_OVERHEAD) return false
  const commit = computeExecutionKeyCommitment(key)
  return commit.every((b, i) => b === ciphertext[i])
}

export function decryptPrivateInput(key: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  checkKey(key)
  if (ciphertext.length < PRIVATE_INPUT_OVERHEAD) throw new PrivateExecutionError('BAD_CIPHERTEXT', 'input is shorter than commitment, nonce and tag', { what: 'input' })
  if (!isKeyOfInput(key, ciphertext)) throw new PrivateExecutionError('BAD_KEY', 'the key is not the one the input committed to', { what: 'execution key' })
  const commit = ciphertext.subarray(0, COMMIT_BYTES)
  return open(hkdf(key, new Uint8Array(0), INPUT_INFO), ciphertext.subarray(COMMIT_BYTES, COMMIT_BYTES + NONCE_BYTES), commit, ciphertext.subarray(COMMIT_BYTES + NONCE_BYTES), 'input')
}

function outputKeyAndAad(key: Uint8Array, executionId: Hash, preStateHash: Hash): { k: Buffer; aad: Uint8Array } {
  checkKey(key)
  const aad = new Uint8Array([...executionId, ...preStateHash])
  return { k: hkdf(key, executionId, new Uint8Array([...OUTPUT_INFO, ...preStateHash])), aad }
}

/** Deterministic: the same (K, execution, state, plaintext) gives the same bytes on every host. */
export function encryptPrivateOutput(key: Uint8Array, executionId: Hash, preStateHash: Hash, plaintext: Uint8Array): Uint8Array {
  const { k, aad } = outputKeyAndAad(key, executionId, preStateHash)
  return seal(k, ZERO_NONCE, aad, plaintext)
}

export function decryptPrivateOutput(key: Uint8Array, executionId: Hash, preStateHash: Hash, ciphertext: Uint8Array): Uint8Array {
  const { k, aad } = outputKeyAndAad(key, executionId, preStateHash)
  return open(k, ZERO_NONCE, aad, ciphertext, 'output')
}

function wrapKeyFor(shared: Uint8Array, executionId: Hash, ephemeralPublic: Uint8Array, hostKey: Uint8Array, host: Address): Buffer {
  return hkdf(shared, executionId, new Uint8Array([...WRAP_INFO, ...ephemeralPublic, ...hostKey, ...host]))
}

export interface ExecutionKeyRecipient {
  host: Address
  /** The host's published X25519 key (HostParams.encryptionKey); absent: it cannot take the key. */
  encryptionKey: Uint8Array | undefined
}

/** K wrapped to each recipient under one fresh ephemeral key; a recipient without a key is a typed error. */
export function wrapExecutionKey(key: Uint8Array, executionId: Hash, recipients: readonly ExecutionKeyRecipient[]): { ephemeralKey: Uint8Array; keys: WrappedExecutionKey[] } {
  checkKey(key)
  const eph = x25519KeyPairFromSecret(new Uint8Array(randomBytes(32)))
  const keys = recipients.map(({ host, encryptionKey }) => {
    if (encryptionKey === undefined) throw new PrivateExecutionError('NO_HOST_KEY', 'an assigned host published no encryption key', { host: Buffer.from(host).toString('hex') })
    const shared = computeX25519SharedSecret(eph.secretKey, encryptionKey)
    return { host, wrapped: seal(wrapKeyFor(shared, executionId, eph.publicKey, encryptionKey, host), ZERO_NONCE, executionId, key) }
  })
  return { ephemeralKey: eph.publicKey, keys }
}

/** The host's side: its X25519 key pair and its address; throws a typed error on anything but the right K. */
export function unwrapExecutionKey(hostKey: { secretKey: Uint8Array; publicKey: Uint8Array }, host: Address, executionId: Hash, ephemeralKey: Uint8Array, wrapped: Uint8Array): Uint8Array {
  let shared: Uint8Array
  try {
    shared = computeX25519SharedSecret(hostKey.secretKey, ephemeralKey)
  } catch (e) {
    throw new PrivateExecutionError('BAD_KEY', 'the delivery\'s ephemeral key is unusable', { what: 'ephemeralKey' }, { cause: e })
  }
  const key = open(wrapKeyFor(shared, executionId, ephemeralKey, hostKey.publicKey, host), ZERO_NONCE, executionId, wrapped, 'wrappedKey')
  checkKey(key)
  return key
}
