import { hash, type KeyPair, keyPairFromSecret, utf8 } from '../src/crypto/index.ts'

/**
 * Well-known devnet keys, derived from public seeds like Hardhat's accounts. Never use them on
 * a network that holds value: anyone can derive the secrets.
 */
export function devnetKey(role: 'validator' | 'host' | 'account', index: number): KeyPair {
  return keyPairFromSecret(hash(utf8(`xsc-devnet/${role}/${index}`)))
}
