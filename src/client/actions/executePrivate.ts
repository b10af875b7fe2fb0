import { executionKeysSigningHash } from '../../../blocks/ids.ts'
import { COMPLETION_STATUS, type ExecutionKeys, type Hash } from '../../../blocks/schema.ts'
import { PrivateExecutionError } from '../../compute/errors.ts'
import { decryptPrivateOutput, encryptPrivateInput, generateExecutionKey, wrapExecutionKey } from '../../compute/privateExecutionCipher.ts'
import type { KeyPair } from '../../crypto/ed25519.ts'
import { equalBytes, sign, toHex } from '../../crypto/index.ts'
import type { ExecutionView } from '../../rpc/formats.ts'
import { EXECUTION_STATUS } from '../../state/records.ts'
import type { Client } from '../createClient.ts'
import { execute, type ExecuteParameters } from './execute.ts'
import { getChainStatus } from './getChainStatus.ts'
import { getExecution } from './getExecution.ts'
import { getHost } from './getHost.ts'
import { waitForExecution, type WaitForExecutionReturnType } from './waitForExecution.ts'

export type ExecutePrivateParameters = Omit<ExecuteParameters, 'private'>
/** The execution id and the key K its input is encrypted under: keep K to deliver it and to read the output. */
export interface ExecutePrivateReturnType { id: Hash; key: Uint8Array }

/**
 * Sends a private execution: the input is encrypted under a fresh key K (the tx carries only
 * ciphertext and K's commitment). The assigned hosts are known once the execution entry lands:
 * follow with waitForPrivateExecution, which delivers K to them and decrypts the output.
 */
export async function executePrivate(client: Client, p: ExecutePrivateParameters): Promise<ExecutePrivateReturnType> {
  const key = generateExecutionKey()
  const id = await execute(client, { ...p, input: encryptPrivateInput(key, p.input ?? new Uint8Array(0)), private: true })
  return { id, key }
}

export interface DeliverExecutionKeysParameters { id: Hash; key: Uint8Array; account: KeyPair }
/** Peers the node gossiped the delivery to, or undefined while the execution is not scheduled yet (nothing sent). */
export type DeliverExecutionKeysReturnType = number | undefined

/**
 * The second delivery step: wraps K to each assigned host's published X25519 key, signs the
 * delivery with the client's key and sends it (xsc_deliverExecutionKeys). Each call uses a fresh
 * ephemeral key, so a repeat is a new gossip message (for hosts that were a block behind).
 */
export async function deliverExecutionKeys(client: Client, p: DeliverExecutionKeysParameters): Promise<DeliverExecutionKeysReturnType> {
  const ex = await getExecution(client, { id: p.id })
  if (ex === null) return undefined
  if (!ex.record.private) throw new PrivateExecutionError('NOT_PRIVATE_PENDING', 'the execution is not private', { executionId: toHex(p.id) })
  const recipients = await Promise.all(ex.record.assignment.map(async (host) => ({ host, encryptionKey: (await getHost(client, { address: host }))?.record.params.encryptionKey })))
  const { chainId } = await getChainStatus(client)
  const { ephemeralKey, keys } = wrapExecutionKey(p.key, p.id, recipients)
  const body = { chainId, executionId: p.id, ephemeralKey, keys }
  const delivery: ExecutionKeys = { body, signature: sign(p.account.secretKey, executionKeysSigningHash(body)) }
  return client.request('xsc_deliverExecutionKeys', [delivery])
}

export interface WaitForPrivateExecutionParameters extends DeliverExecutionKeysParameters {
  timeoutMs?: number
  /** First wait before K is delivered again while the execution is pending (default 2000 ms), doubling up to 30 s. */
  redeliverMs?: number
  onProgress?(execution: ExecutionView | null): void
}
export type WaitForPrivateExecutionReturnType = WaitForExecutionReturnType & {
  /** The decrypted output of an agreed execution (undefined when it failed). */
  plaintextOutput: Uint8Array | undefined
}

/**
 * Delivers K to the assigned hosts (again after `redeliverMs`, then ever less often, while pending) and waits for the
 * completion; the agreed output is decrypted with K and the state hash the agreeing receipts ran on.
 */
export async function waitForPrivateExecution(client: Client, p: WaitForPrivateExecutionParameters): Promise<WaitForPrivateExecutionReturnType> {
  let nextDelivery = 0
  let gap = p.redeliverMs ?? 2_000
  const settled = await waitForExecution(client, {
    id: p.id,
    ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
    pollMs: 200,
    onProgress: (ex) => {
      p.onProgress?.(ex)
      if (ex === null || ex.record.status !== EXECUTION_STATUS.pending || Date.now() < nextDelivery) return
      nextDelivery = Date.now() + gap
      gap = Math.min(gap * 2, 30_000)
      // A failed delivery is tried again at the next turn; the wait's timeout bounds it all.
      deliverExecutionKeys(client, p).catch(() => { nextDelivery = 0 })
    },
  })
  return { ...settled, plaintextOutput: decryptSettledOutput(settled, p.key, p.id) }
}

/** The agreed output of a settled private execution, decrypted; undefined when it failed. */
export function decryptSettledOutput(settled: WaitForExecutionReturnType, key: Uint8Array, id: Hash): Uint8Array | undefined {
  const entry = settled.completion.entry
  if (entry.status !== COMPLETION_STATUS.agreed) return undefined
  const agreeing = entry.receipts.find((r) => equalBytes(r.body.resultHash, entry.resultHash))
  if (agreeing === undefined) throw new PrivateExecutionError('BAD_CIPHERTEXT', `no receipt of ${toHex(id)} carries the agreed result`, { what: 'output' })
  return decryptPrivateOutput(key, id, agreeing.body.preStateHash, entry.output)
}
