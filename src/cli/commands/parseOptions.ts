import type { Address, Coord, Hash } from '../../../blocks/schema.ts'
import { type Client, createClient, http } from '../../client/index.ts'
import { fromHex } from '../../crypto/index.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import { DEFAULT_RPC } from '../args.ts'
import { CliError } from '../errors.ts'

/** Parsers for flag values shared by the commands: each throws CliError('USAGE') saying what it expected. */

/** An amount in base units: a whole decimal number (no sign, no fraction, no exponent). */
export function parseAmount(value: string, flag: string): bigint {
  if (/^-/.test(value)) throw new CliError('USAGE', `${flag} cannot be negative, got "${value}"`)
  if (/^[0-9]*\.[0-9]*$/.test(value) && value !== '.') throw new CliError('USAGE', `${flag} is in whole base units (no fractions), got "${value}"; e.g. 1.5 tokens with 9 decimals is 1500000000`)
  if (!/^[0-9]+$/.test(value)) throw new CliError('USAGE', `${flag} must be a whole number of base units, got "${value}"`)
  return BigInt(value)
}

/** --fee: an amount in base units, or undefined when absent (the client then asks the node, xsc_feeEstimate). */
export function parseFee(value: string | undefined): bigint | undefined {
  return value === undefined ? undefined : parseAmount(value, '--fee')
}

/** A non-negative integer that fits a JS number (counts, heights, sizes) up to `max`. */
export function parseCount(value: string, flag: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  if (!/^[0-9]+$/.test(value)) throw new CliError('USAGE', `${flag} must be a whole number, got "${value}"`)
  const n = Number(value)
  if (n < min || n > max) throw new CliError('USAGE', `${flag} must be ${min}..${max}, got ${value}`)
  return n
}

/** --timeout (whole seconds, 1..86400) in milliseconds. */
export function parseTimeoutMs(value: string): number {
  return parseCount(value, '--timeout', 86_400, 1) * 1000
}

/** The flags every command that signs and sends a tx takes; read `timeout` with parseTimeoutMs. */
export function senderOptions(timeoutSeconds: string) {
  return {
    key: { type: 'string' },
    // No default: absent, the fee is the node's estimate for the tx's size.
    fee: { type: 'string' },
    timeout: { type: 'string', default: timeoutSeconds },
    rpc: { type: 'string', default: DEFAULT_RPC },
  } as const
}

/** Grid coordinates "x,y,z". */
export function parseCoord(value: string, flag: string): Coord {
  const parts = value.split(',')
  if (parts.length !== 3 || parts.some((p) => !/^[0-9]+$/.test(p.trim()))) throw new CliError('USAGE', `${flag} takes x,y,z (three whole numbers), got "${value}"`)
  const [x, y, z] = parts.map((p) => Number(p.trim())) as [number, number, number]
  if ([x, y, z].some((n) => n > 0xffff_ffff)) throw new CliError('USAGE', `${flag} coordinates must fit u32`)
  return { x, y, z }
}

export function parseHash(value: string, what: string): Hash {
  try {
    return fromHex(value, 32)
  } catch {
    throw new CliError('USAGE', `${what} must be 32 bytes of 0x-hex (66 characters), got "${value.slice(0, 80)}"`)
  }
}

/** An address from a positional argument or from the public key of --key (exactly one of them). */
export function resolveAddress(positional: string | undefined, keyFile: string | undefined, usage: string): Address {
  if (positional !== undefined && keyFile !== undefined) throw new CliError('USAGE', `give an address or --key, not both\nusage: ${usage}`)
  if (positional !== undefined) return parseHash(positional, 'the address')
  if (keyFile !== undefined) return readKeyFile(keyFile).publicKey
  throw new CliError('USAGE', `missing address (or --key FILE)\nusage: ${usage}`)
}

/** Runs `f` with a client for `rpc` (an http(s) URL) and closes it whatever happens. */
export async function withClient<T>(rpc: string, f: (client: Client) => Promise<T>): Promise<T> {
  if (!/^https?:\/\/[^\s/]+/.test(rpc)) throw new CliError('USAGE', `--rpc (or $XSC_RPC) takes the node's HTTP URL, e.g. http://127.0.0.1:8545; got "${rpc.slice(0, 80)}"`)
  const client = createClient({ transport: http(rpc) })
  try {
    return await f(client)
  } finally {
    await client.close()
  }
}
