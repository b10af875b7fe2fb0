import { XscError, type XscErrorArgs } from '../../blocks/errors.ts'

/** A key file that is missing, unreadable or not a key: `path` names it. */
export class KeyFileError extends XscError<{ BAD_KEY_FILE: { path: string } }> {}

/** Every keystore payload may name its file (`path`) and what to do (`advice`). */
type AtFile = { path?: string; advice?: string }

export type KeystoreErrorPayloads = {
  MALFORMED: AtFile & { field?: string }
  UNSUPPORTED: AtFile & ({ version: unknown } | { cipher: unknown } | { kdf: unknown })
  KDF_PARAMS_OUT_OF_BOUNDS: AtFile & { n: unknown; r: unknown; p: unknown; bounds: object }
  WRONG_PASSPHRASE: AtFile & { address: string }
  TAMPERED: AtFile & { address: string }
  PASSPHRASE_REQUIRED: AtFile
}
export type KeystoreErrorCode = keyof KeystoreErrorPayloads

/** An encrypted key file that cannot be opened. */
export class KeystoreError extends XscError<KeystoreErrorPayloads> {}

/** The same keystore error, its message and details naming the file it came from. */
export function keystoreErrorAt(e: KeystoreError, path: string): KeystoreError {
  // Every payload takes `path`; the compiler cannot pair a code known only at run time with its payload.
  return new KeystoreError(...([e.code, `${path}: ${e.message}`, { ...e.details, path }, { cause: e }] as XscErrorArgs<KeystoreErrorPayloads>))
}
