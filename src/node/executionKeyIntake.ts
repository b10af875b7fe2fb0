import { decode, encode } from '../../blocks/codec.ts'
import { executionKeysSigningHash } from '../../blocks/ids.ts'
import { ExecutionKeys } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { PrivateExecutionError } from '../compute/errors.ts'
import { toHex, verify } from '../crypto/index.ts'
import { gossipVerdictOf, type NetNode, type ValidationResult } from '../net/index.ts'
import { EXECUTION_STATUS, ExecutionRecord } from '../state/records.ts'
import type { StateReader } from '../state/stateView.ts'
import { readRow, TABLES } from '../state/tables.ts'

const WRAPPED_KEY_BYTES = 48
/** Deliveries of one execution this node takes and relays; clients back off (executePrivate.ts), so 64 covers minutes. */
export const MAX_DELIVERIES_PER_EXECUTION = 64
/** Executions whose delivery counts are kept before the table starts over (bounds its memory). */
const COUNTED_EXECUTIONS = 10_000

/**
 * Checks a key delivery against the head state: a pending private execution, signed by its
 * client, each wrapped key for a distinct assigned host. Typed errors say why not (an unknown or
 * settled execution is IGNORE: a peer may be a block ahead or behind; a bad signature is REJECT).
 */
export function verifyExecutionKeys(state: StateReader, chainId: string, keys: ExecutionKeys): ExecutionRecord {
  const { body } = keys
  const id = toHex(body.executionId)
  if (body.chainId !== chainId) throw new PrivateExecutionError('BAD_DELIVERY', `delivery for chain ${body.chainId}`, { reason: 'chainId' })
  const rec = readRow(state, TABLES.execution.at(body.executionId))
  if (rec === undefined || !rec.private || rec.status !== EXECUTION_STATUS.pending) throw new PrivateExecutionError('NOT_PRIVATE_PENDING', `no pending private execution ${id}`, { executionId: id })
  if (!verify(rec.client, executionKeysSigningHash(body), keys.signature)) throw new PrivateExecutionError('BAD_DELIVERY', 'not signed by the execution\'s client', { reason: 'signature' })
  if (body.keys.length === 0) throw new PrivateExecutionError('BAD_DELIVERY', 'no keys', { reason: 'empty' })
  const assigned = new Set(rec.assignment.map(toHex))
  const seen = new Set<string>()
  for (const k of body.keys) {
    const h = toHex(k.host)
    if (!assigned.has(h)) throw new PrivateExecutionError('BAD_DELIVERY', `host ${h} is not assigned to this execution`, { reason: 'host' })
    if (seen.has(h)) throw new PrivateExecutionError('BAD_DELIVERY', `host ${h} appears twice`, { reason: 'duplicate' })
    if (k.wrapped.length !== WRAPPED_KEY_BYTES) throw new PrivateExecutionError('BAD_DELIVERY', `a wrapped key is ${WRAPPED_KEY_BYTES} bytes`, { reason: 'length' })
    seen.add(h)
  }
  return rec
}

export interface ExecutionKeyIntakeModules {
  chain: Chain
  net: NetNode
  /** The host role's taker (HostRole.takeExecutionKeys), when this node is a host. */
  onKeys?: (keys: ExecutionKeys, rec: ExecutionRecord) => void
}

/**
 * The second delivery step of private executions on every networked node: deliveries come from
 * RPC (xsc_deliverExecutionKeys) or gossip (`executionKeys`), are checked, handed to this node's
 * host role if any, and relayed. Only wrapped keys pass through; nothing is stored.
 */
export class ExecutionKeyIntake {
  readonly #m: ExecutionKeyIntakeModules
  readonly #deliveries = new Map<string, number>()

  constructor(modules: ExecutionKeyIntakeModules) {
    this.#m = modules
  }

  set onKeys(f: ExecutionKeyIntakeModules['onKeys']) {
    this.#m.onKeys = f
  }

  subscribe(): void {
    this.#m.net.subscribe('executionKeys', { validate: (bytes) => this.acceptGossip(bytes), handle: () => undefined })
  }

  #take(keys: ExecutionKeys): void {
    const rec = verifyExecutionKeys(this.#m.chain.store.state, this.#m.chain.genesis.chainId, keys)
    // Each delivery is signed by the client but new bytes (fresh ephemeral key): cap how many of one execution go round.
    const id = toHex(keys.body.executionId)
    const n = this.#deliveries.get(id) ?? 0
    if (n >= MAX_DELIVERIES_PER_EXECUTION) throw new PrivateExecutionError('BAD_DELIVERY', `more than ${MAX_DELIVERIES_PER_EXECUTION} deliveries for ${id}`, { reason: 'rate' }, { verdict: 'IGNORE' })
    if (this.#deliveries.size >= COUNTED_EXECUTIONS) this.#deliveries.clear()
    this.#deliveries.set(id, n + 1)
    this.#m.onKeys?.(keys, rec)
  }

  /** From RPC: checked (typed errors go back to the client), taken locally, gossiped; the number of peers it went to. */
  async deliver(keys: ExecutionKeys): Promise<number> {
    this.#take(keys)
    return this.#m.net.publish('executionKeys', encode(ExecutionKeys, keys)).catch(() => 0)
  }

  acceptGossip(bytes: Uint8Array): ValidationResult {
    try {
      this.#take(decode(ExecutionKeys, bytes))
      return 'accept'
    } catch (e) {
      return gossipVerdictOf(e, 'executionKeys')
    }
  }
}
