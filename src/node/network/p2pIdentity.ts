import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { generateKeyPair, hashParts, type KeyPair, utf8 } from '../../crypto/index.ts'
import type { NetLogger } from '../../net/index.ts'
import { readKeyFile, writeKeyFile } from '../keyFile.ts'
import type { Logger } from '../logger.ts'

/** The libp2p identity of a validator, derived from its key so the peer id is stable across restarts. */
export function computeP2pSeed(validatorSecretKey: Uint8Array): Uint8Array {
  return hashParts(utf8('XSC/p2p-key/v1'), validatorSecretKey)
}

/**
 * The libp2p identity seed: `--p2p-key` if given, else derived from the validator key, else a
 * random key kept in `<dataDir>/p2p-key.json` so a restart keeps the peer id.
 */
export function resolveP2pSeed(opts: { dataDir: string; p2pKeyFile?: string; validatorKey?: KeyPair }): Uint8Array {
  if (opts.p2pKeyFile !== undefined) return readKeyFile(opts.p2pKeyFile).secretKey
  if (opts.validatorKey !== undefined) return computeP2pSeed(opts.validatorKey.secretKey)
  const file = join(opts.dataDir, 'p2p-key.json')
  if (!existsSync(file)) writeKeyFile(file, generateKeyPair())
  return readKeyFile(file).secretKey
}

/** The net layer's logger interface over the node's pino logger. */
export function toNetLogger(log: Logger): NetLogger {
  return {
    debug: (msg, ctx) => log.debug(ctx ?? {}, msg),
    info: (msg, ctx) => log.info(ctx ?? {}, msg),
    warn: (msg, ctx) => log.warn(ctx ?? {}, msg),
  }
}
