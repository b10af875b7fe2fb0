import { type CompletionEntry, ExecutionKeys, LIMITS, Offence, type SignedTx } from '../../blocks/schema.ts'
import { ACTIVITY_ROLE } from '../chain/accountActivity.ts'
import { MAX_PROOF_KEYS, StateProofAnswer } from '../state/stateTree/stateProof.ts'
import type * as B from './backend.ts'
import { toBlockView } from './blockView.ts'
import { RPC_CODE_DESCRIPTIONS, RPC_CODES, RpcError, WireError } from './errors.ts'
import * as F from './formats.ts'
import { jsonWireOf } from './jsonWireOf.ts'
import { amount, bool, bytes32, hexBytes, type Json, type JsonSchema, list, optional, str, u32, type Wire } from './wire.ts'

/**
 * THE method table: every JSON-RPC method, its params, its result and its handler, in one typed
 * schema (viem's `{method, params, result}`). The server validates params and formats results
 * with the wires given here; the client formats params and parses results with the same wires;
 * `rpc.discover` (OpenRPC) and docs/rpc.md are generated from it.
 */

export interface ParamDef<T> { name: string; wire: Wire<T>; description: string }
export interface ResultDef<T> { name: string; wire: Wire<T>; description: string }

/** What a call may need from its connection: subscriptions exist only on WebSocket. */
export interface CallContext {
  subscriptions: SubscriptionHost | undefined
}

export interface SubscriptionHost {
  subscribe(filter: B.EventFilter, fromHeight: number | undefined): Promise<string>
  unsubscribe(id: string): boolean
}

export interface MethodDef<P extends unknown[], R> {
  method: string
  summary: string
  params: { [K in keyof P]: ParamDef<P[K]> }
  result: ResultDef<R>
  /** Only over WebSocket (subscriptions). */
  wsOnly?: boolean
  call(backend: B.RpcBackend, params: P, ctx: CallContext): Promise<R>
}

function method<P extends unknown[], R>(def: MethodDef<P, R>): MethodDef<P, R> {
  return def
}

function param<T>(name: string, wire: Wire<T>, description: string): ParamDef<T> {
  return { name, wire, description }
}

/** The size xsc_feeEstimate prices when none is given: a transfer is about this many bytes. */
export const DEFAULT_FEE_ESTIMATE_SIZE = 200

/** The estimate for `size` bytes from the next block's fee rules. */
export function computeFeeEstimate(info: B.FeeInfo, size: number): B.FeeEstimate {
  const feePerByte = 2n * info.baseFee + info.minFeePerByte
  const bytes = BigInt(size)
  return { size, baseFee: info.baseFee, minFeePerByte: info.minFeePerByte, feePerByte, required: bytes * (info.baseFee + info.minFeePerByte), fee: bytes * feePerByte, height: info.height }
}

const address = param('address', bytes32, 'Account address (ed25519 public key, 0x-hex).')
const fullParam = param('full', optional(bool), 'true: include full entries; false or absent: entry ids only.')

const MAX_HOSTS_PAGE = 1000
const MAX_ACTIVITY_PAGE = 500
const MAX_LIST_PAGE = 500

function checkListLimit(limit: number | undefined): number {
  if (limit !== undefined && (limit > MAX_LIST_PAGE || limit === 0)) throw new RpcError('INVALID_PARAMS', `limit: 1 to ${MAX_LIST_PAGE}`, { path: 'limit' })
  return limit ?? 50
}
const MAX_ASSET_STATE_PAGE = 1000

/** rpc.discover's result: the OpenRPC document, generated from this table. */
const openRpcDocument: Wire<Json> = {
  schema: { type: 'object', description: 'OpenRPC 1.2.6 document' },
  toJson: (v) => v,
  fromJson: (j) => j as Json,
}

const subscriptionId = str(64, /^0x[0-9a-f]{1,62}$/)

export const METHODS = {
  xsc_sendTransaction: method<[SignedTx], Uint8Array>({
    method: 'xsc_sendTransaction',
    summary: 'Submit a signed transaction (0x-hex of its canonical encoding) to the mempool; returns its id.',
    params: [param('tx', F.RawSignedTx, 'Signed transaction, 0x-hex of the canonical msgpack encoding.')],
    result: { name: 'txId', wire: bytes32, description: 'The transaction id.' },
    call: (b, [tx]) => b.submitTx(tx),
  }),
  xsc_getBlockByHeight: method<[number, boolean | undefined], F.BlockView | undefined>({
    method: 'xsc_getBlockByHeight',
    summary: 'The block at a height, or null.',
    params: [param('height', u32, 'Block height.'), fullParam],
    result: { name: 'block', wire: optional(F.BlockView), description: 'The block, or null.' },
    call: async (b, [height, full]) => {
      const stored = await b.getBlockByHeight(height)
      return stored === null ? undefined : toBlockView(stored, full === true)
    },
  }),
  xsc_getBlockByHash: method<[Uint8Array, boolean | undefined], F.BlockView | undefined>({
    method: 'xsc_getBlockByHash',
    summary: 'The block with a hash, or null.',
    params: [param('hash', bytes32, 'Block hash.'), fullParam],
    result: { name: 'block', wire: optional(F.BlockView), description: 'The block, or null.' },
    call: async (b, [hash, full]) => {
      const stored = await b.getBlockByHash(hash)
      return stored === null ? undefined : toBlockView(stored, full === true)
    },
  }),
  xsc_getTransaction: method<[Uint8Array], F.TransactionStatusView | undefined>({
    method: 'xsc_getTransaction',
    summary: 'A transaction included in a block, with its location (status "included"); or, if this node dropped it from its mempool, status "dropped" with the code, message and height; else null.',
    params: [param('id', bytes32, 'Transaction id.')],
    result: { name: 'transaction', wire: optional(F.TransactionStatusView), description: 'The tx and where it is, or why it was dropped, or null.' },
    call: async (b, [id]) => {
      const loc = await b.getTransaction(id)
      if (loc !== null) return { status: 'included', id, ...loc }
      const dropped = (await b.getDroppedTransaction?.(id)) ?? null
      return dropped === null ? undefined : { status: 'dropped', ...dropped }
    },
  }),
  xsc_getBalance: method<[Uint8Array], bigint>({
    method: 'xsc_getBalance',
    summary: 'Balance of an account in base units (decimal string).',
    params: [address],
    result: { name: 'balance', wire: amount, description: 'Balance in base units.' },
    call: async (b, [addr]) => (await b.getAccount(addr)).balance,
  }),
  xsc_getNonce: method<[Uint8Array], number>({
    method: 'xsc_getNonce',
    summary: 'Next nonce of an account (the nonce its next tx must carry).',
    params: [address],
    result: { name: 'nonce', wire: u32, description: 'Next nonce.' },
    call: async (b, [addr]) => (await b.getAccount(addr)).nonce,
  }),
  xsc_chainStatus: method<[], B.ChainStatus>({
    method: 'xsc_chainStatus',
    summary: 'Chain id, head, finalized block, peer count and sync state.',
    params: [],
    result: { name: 'status', wire: F.ChainStatus, description: 'Chain status.' },
    call: (b) => b.chainStatus(),
  }),
  xsc_getChainParams: method<[], B.ChainParamsInfo>({
    method: 'xsc_getChainParams',
    summary: 'The chain\'s genesis parameters: chain id, token symbol and decimals, slot length, genesis time, protocol parameters (erasure coding k/m, segment and chunk sizes, limits, market) and consensus config. A deployer computes its manifest with params.dataShards/parityShards/segmentSize/chunkSize.',
    params: [],
    result: { name: 'chainParams', wire: F.ChainParamsInfo, description: 'Genesis parameters; they never change on a chain.' },
    call: (b) => b.getChainParams(),
  }),
  xsc_getAsset: method<[Uint8Array], B.AssetInfo | undefined>({
    method: 'xsc_getAsset',
    summary: 'A deployed asset: manifest, placement and shard health, or null.',
    params: [param('id', bytes32, 'Asset id (the deploy tx id).')],
    result: { name: 'asset', wire: optional(F.AssetInfo), description: 'The asset, or null.' },
    call: async (b, [id]) => (await b.getAsset(id)) ?? undefined,
  }),
  xsc_getHost: method<[Uint8Array], B.HostInfo | undefined>({
    method: 'xsc_getHost',
    summary: 'A host: coordinates, zone, capacity, asks, reputation and its reputation events, or null.',
    params: [param('address', bytes32, 'Host address.')],
    result: { name: 'host', wire: optional(F.HostInfo), description: 'The host, or null.' },
    call: async (b, [addr]) => (await b.getHost(addr)) ?? undefined,
  }),
  xsc_getHosts: method<[number | undefined, number | undefined], B.HostSummary[]>({
    method: 'xsc_getHosts',
    summary: `Hosts ordered by address, paged (limit at most ${MAX_HOSTS_PAGE}, default 100).`,
    params: [param('offset', optional(u32), 'Hosts to skip (default 0).'), param('limit', optional(u32), `Page size (default 100, max ${MAX_HOSTS_PAGE}).`)],
    result: { name: 'hosts', wire: list(F.HostSummary, MAX_HOSTS_PAGE), description: 'One page of hosts.' },
    call: (b, [offset, limit]) => {
      if (limit !== undefined && limit > MAX_HOSTS_PAGE) throw new RpcError('INVALID_PARAMS', `limit: at most ${MAX_HOSTS_PAGE}`, { path: 'limit' })
      return b.listHosts({ offset: offset ?? 0, limit: limit ?? 100 })
    },
  }),
  xsc_getExecution: method<[Uint8Array], F.ExecutionView | undefined>({
    method: 'xsc_getExecution',
    summary: 'An execution: request, assigned hosts, status, and once completed its result, fuel, payouts and receipts; or null. A node without the activity index (a host, by default) leaves the completion out: ask a validator or an RPC node, or scan the blocks after the scheduling one (as waitForExecution does).',
    params: [param('id', bytes32, 'Execution id (the execute tx id).')],
    result: { name: 'execution', wire: optional(F.ExecutionInfo), description: 'The execution, or null.' },
    call: async (b, [id]) => {
      const info = await b.getExecution(id)
      if (info === null) return undefined
      const completion = info.completion === undefined ? undefined : { block: info.completion.block, entry: stripType(info.completion.entry) }
      return { id: info.id, record: info.record, scheduled: info.scheduled, completion }
    },
  }),
  xsc_estimateFuel: method<[B.EstimateRequest], B.EstimateResult>({
    method: 'xsc_estimateFuel',
    summary: 'Dry-run an execution on the node: outcome, fuel used and output. Nothing is written or paid.',
    params: [param('request', F.EstimateRequest, 'What to run.')],
    result: { name: 'estimate', wire: F.EstimateResult, description: 'The dry run\'s outcome, fuel and output.' },
    call: (b, [req]) => b.estimateExecution(req),
  }),
  xsc_subscribe: method<[F.FilterView, number | undefined], string>({
    method: 'xsc_subscribe',
    summary: 'WebSocket only. Subscribe to newHeads, finalizedHeads, an execution (subject = execution id), a host\'s events (subject = address), a transaction (subject = tx id: included, or dropped with its reason) or an asset (subject = asset id: extended, deleted, expired, and live `expiring` warnings while its deposit covers fewer than 3 epochs); fromHeight replays stored events first. Notifications: method xsc_subscription, params {subscription, result: event}.',
    params: [param('filter', F.Filter, 'Topic and subject.'), param('fromHeight', optional(u32), 'Replay events from this height before live ones.')],
    result: { name: 'subscription', wire: subscriptionId, description: 'Subscription id.' },
    wsOnly: true,
    call: (_b, [filter, fromHeight], ctx) => {
      if (ctx.subscriptions === undefined) throw new RpcError('METHOD_NOT_FOUND', 'xsc_subscribe is only available over WebSocket')
      let parsed: B.EventFilter
      try {
        parsed = F.toFilter(filter, 'filter')
      } catch (err) {
        throw err instanceof WireError ? new RpcError('INVALID_PARAMS', err.message, err.details) : err
      }
      return ctx.subscriptions.subscribe(parsed, fromHeight)
    },
  }),
  xsc_unsubscribe: method<[string], boolean>({
    method: 'xsc_unsubscribe',
    summary: 'WebSocket only. Cancel a subscription; false if it did not exist.',
    params: [param('subscription', subscriptionId, 'Subscription id.')],
    result: { name: 'removed', wire: bool, description: 'Whether it existed.' },
    wsOnly: true,
    call: async (_b, [id], ctx) => {
      if (ctx.subscriptions === undefined) throw new RpcError('METHOD_NOT_FOUND', 'xsc_unsubscribe is only available over WebSocket')
      return ctx.subscriptions.unsubscribe(id)
    },
  }),
  xsc_getActivity: method<[Uint8Array, number | undefined, number | undefined], B.ActivityEntry[]>({
    method: 'xsc_getActivity',
    summary: `What blocks did to an account, host or asset, newest first, from the node's activity index: txs sent and received, shards placed, executions assigned, receipts (aux 1 = agreed), payouts, rent (aux = epoch), audits passed/failed and repairs (aux = shard), deployment and expiry. Roles: ${Object.entries(ACTIVITY_ROLE).map(([k, v]) => `${v} ${k}`).join(', ')}. Page with beforeHeight = the last row's height (rows of one block come together, limit at most ${MAX_ACTIVITY_PAGE}). A node without the index (a host, by default) answers REJECTED with reason ACTIVITY_INDEX_OFF.`,
    params: [param('subject', bytes32, 'Account or host address, or asset id.'), param('beforeHeight', optional(u32), 'Only rows of blocks below this height (default: all).'), param('limit', optional(u32), `Rows (default 50, max ${MAX_ACTIVITY_PAGE}).`)],
    result: { name: 'activity', wire: list(F.ActivityEntry, MAX_ACTIVITY_PAGE), description: 'Activity rows, newest first.' },
    call: (b, [subject, beforeHeight, limit]) => {
      if (limit !== undefined && (limit > MAX_ACTIVITY_PAGE || limit === 0)) throw new RpcError('INVALID_PARAMS', `limit: 1 to ${MAX_ACTIVITY_PAGE}`, { path: 'limit' })
      return b.getActivity(subject, { beforeHeight: beforeHeight ?? 0xffffffff, limit: limit ?? 50 })
    },
  }),
  xsc_getAssets: method<[Uint8Array, string | undefined, number | undefined], B.Listed<B.AssetListItem>>({
    method: 'xsc_getAssets',
    summary: `An owner's assets, newest deployment first, each with its current record (or deleted: true), from the node's index. Page with cursor = the previous page's nextCursor (limit at most ${MAX_LIST_PAGE}).`,
    params: [param('owner', bytes32, 'Owner address (the deployer).'), param('cursor', optional(F.ListCursor), 'nextCursor of the previous page; absent for the first.'), param('limit', optional(u32), `Items (default 50, max ${MAX_LIST_PAGE}).`)],
    result: { name: 'assets', wire: F.AssetList, description: 'One page of assets and the cursor of the next.' },
    call: (b, [owner, cursor, limit]) => {
      if (!b.listAssets) throw new RpcError('METHOD_NOT_FOUND', 'this node keeps no asset index')
      return b.listAssets(owner, { cursor, limit: checkListLimit(limit) })
    },
  }),
  xsc_getExecutions: method<[{ asset: Uint8Array | undefined; sender: Uint8Array | undefined }, string | undefined, number | undefined], B.Listed<B.ExecutionListItem>>({
    method: 'xsc_getExecutions',
    summary: `Executions of one asset or by one sender (exactly one of the two), newest first, with status and where each settled, from the node's index. Page with cursor = the previous page's nextCursor (limit at most ${MAX_LIST_PAGE}).`,
    params: [param('filter', F.ExecutionFilter, '{asset} or {sender}.'), param('cursor', optional(F.ListCursor), 'nextCursor of the previous page; absent for the first.'), param('limit', optional(u32), `Items (default 50, max ${MAX_LIST_PAGE}).`)],
    result: { name: 'executions', wire: F.ExecutionList, description: 'One page of executions and the cursor of the next.' },
    call: (b, [filter, cursor, limit]) => {
      if (!b.listExecutions) throw new RpcError('METHOD_NOT_FOUND', 'this node keeps no execution index')
      const page = { cursor, limit: checkListLimit(limit) }
      if (filter.asset !== undefined && filter.sender === undefined) return b.listExecutions({ asset: filter.asset }, page)
      if (filter.sender !== undefined && filter.asset === undefined) return b.listExecutions({ sender: filter.sender }, page)
      throw new RpcError('INVALID_PARAMS', 'filter: give exactly one of asset and sender', { path: 'filter' })
    },
  }),
  xsc_getCommit: method<[number], B.CommitProof | undefined>({
    method: 'xsc_getCommit',
    summary: 'The commit of the block at a height (precommit signatures of validators with more than 2/3 of the stake) and the validator set that committed that height (the set after the block before it; the node stores each set when it changes), so a client can check finality itself (client: verifyBlockCommit); null for genesis, unknown heights or blocks finalized without a network.',
    params: [param('height', u32, 'Block height.')],
    result: { name: 'commitProof', wire: optional(F.CommitProofView), description: 'The commit and the validator set of its height, or null.' },
    call: async (b, [height]) => (await b.getCommit?.(height)) ?? undefined,
  }),
  xsc_query: method<[B.QueryRequest], B.QueryResult>({
    method: 'xsc_query',
    summary: 'Read-only call of an asset\'s function against the asset state the node holds at its head: no fee, no consensus, writes discarded, fuel capped by the chain\'s maxFuelLimit. The answer names the block it read and whether that block is final.',
    params: [param('request', F.QueryRequest, 'Asset, function, input and an optional fuel cap.')],
    result: { name: 'answer', wire: F.QueryResult, description: 'Outcome, fuel, output, and the height and hash of the state read.' },
    call: (b, [req]) => b.query(req),
  }),
  xsc_getAssetState: method<[Uint8Array, Uint8Array | undefined, number | undefined], B.AssetStatePage>({
    method: 'xsc_getAssetState',
    summary: `An asset's key-value state at the node's head, keys in byte order. Page with cursor = the previous page's next (absent on the last page); limit at most ${MAX_ASSET_STATE_PAGE}.`,
    params: [param('asset', bytes32, 'Asset id.'), param('cursor', optional(hexBytes({ max: LIMITS.stateKey })), 'Only keys after this one (the previous page\'s next).'), param('limit', optional(u32), `Entries (default 100, max ${MAX_ASSET_STATE_PAGE}).`)],
    result: { name: 'page', wire: F.AssetStatePage, description: 'Entries, the next cursor, and the height and hash of the state read.' },
    call: (b, [asset, cursor, limit]) => {
      if (limit !== undefined && (limit > MAX_ASSET_STATE_PAGE || limit === 0)) throw new RpcError('INVALID_PARAMS', `limit: 1 to ${MAX_ASSET_STATE_PAGE}`, { path: 'limit' })
      return b.getAssetState(asset, { cursor, limit: limit ?? 100 })
    },
  }),
  xsc_feeEstimate: method<[number | undefined], B.FeeEstimate>({
    method: 'xsc_feeEstimate',
    summary: `The fee for a tx of \`size\` bytes (its canonical encoding; default ${DEFAULT_FEE_ESTIMATE_SIZE}, about a transfer) in the next block: required = size × (baseFee + minFeePerByte); fee = size × feePerByte, the suggested fee with headroom for a rising base fee (feePerByte = 2 × baseFee + minFeePerByte). The base-fee part is burned, the rest is the proposer's tip.`,
    params: [param('size', optional(u32), `Tx size in bytes (default ${DEFAULT_FEE_ESTIMATE_SIZE}).`)],
    result: { name: 'estimate', wire: F.FeeEstimate, description: 'Base fee, minimum, suggested and required fee.' },
    call: async (b, [size]) => computeFeeEstimate(await b.getFeeInfo(), size ?? DEFAULT_FEE_ESTIMATE_SIZE),
  }),
  xsc_submitEvidence: method<[Offence], boolean>({
    method: 'xsc_submitEvidence',
    summary: 'Submit proof of misbehaviour: a validator\'s two conflicting signed votes or proposals (equivocation), or a host\'s signed receipt contradicting the result its execution settled with. It is checked as the next block would apply it, gossiped, and a proposer includes it; the offender is slashed once. Returns false if this node already holds an offence against the same offender.',
    params: [param('offence', jsonWireOf(Offence), 'The offence: {type: "equivocation", evidence: {type: "duplicateVote"|"duplicateProposal", first, second}} (first < second in canonical bytes) or {type: "contradictingReceipt", receipt}.')],
    result: { name: 'accepted', wire: bool, description: 'true when newly held; false when already held.' },
    call: (b, [offence]) => {
      if (b.submitEvidence === undefined) throw new RpcError('METHOD_NOT_FOUND', 'this node does not take evidence')
      return b.submitEvidence(offence)
    },
  }),
  xsc_getStake: method<[Uint8Array], B.StakeInfo>({
    method: 'xsc_getStake',
    summary: 'An address\'s bonded validator stake (0 if none), its unbonding funds (kind 0 validator stake, 1 host bond) with the height each is released at, and the height it was slashed for equivocation, if it was.',
    params: [address],
    result: { name: 'stake', wire: F.StakeInfo, description: 'Stake, unbonding entries and slash tombstone.' },
    call: (b, [addr]) => {
      if (b.getStake === undefined) throw new RpcError('METHOD_NOT_FOUND', 'this node does not serve stakes')
      return b.getStake(addr)
    },
  }),
  'rpc.discover': method<[], Json>({
    method: 'rpc.discover',
    summary: 'The OpenRPC document of this API, generated from the method table.',
    params: [],
    result: { name: 'openrpc', wire: openRpcDocument, description: 'OpenRPC document.' },
    call: async () => computeOpenRpcDocument(),
  }),
  xsc_getProof: method<[Uint8Array[], number | undefined], StateProofAnswer | undefined>({
    method: 'xsc_getProof',
    summary: 'Values of state keys at a height and their Merkle proofs against that block\'s stateRoot (docs/design.md, state tree), or null for an unknown height.',
    params: [
      param('keys', list(hexBytes({ max: 1024 }), MAX_PROOF_KEYS), `State keys (prefix byte ‖ id, src/state/tables.ts), at most ${MAX_PROOF_KEYS}.`),
      param('height', optional(u32), 'Block height; absent: the head.'),
    ],
    result: { name: 'proofs', wire: optional(jsonWireOf(StateProofAnswer)), description: 'The header and one proof per key, in the order asked; null for an unknown height.' },
    call: async (b, [keys, height]) => {
      if (b.getStateProofs === undefined) throw new RpcError('METHOD_NOT_FOUND', 'this node does not serve state proofs')
      return (await b.getStateProofs(keys, height)) ?? undefined
    },
  }),
  xsc_deliverExecutionKeys: method<[ExecutionKeys], number>({
    method: 'xsc_deliverExecutionKeys',
    summary: 'The second step of a private execution (docs/compute.md): once the execution entry names its hosts, the client sends its key wrapped to each assigned host\'s X25519 key, signed by the client. The node checks it against the head state (a pending private execution, the client\'s signature, assigned hosts only), hands it to its own host role and gossips it. Only wrapped keys travel; nothing is stored on chain.',
    params: [param('keys', jsonWireOf(ExecutionKeys), 'The signed delivery: {body: {chainId, executionId, ephemeralKey, keys: [{host, wrapped}]}, signature}.')],
    result: { name: 'peers', wire: u32, description: 'Peers the delivery was gossiped to (0: only this node has it).' },
    call: (b, [keys]) => {
      if (b.deliverExecutionKeys === undefined) throw new RpcError('METHOD_NOT_FOUND', 'this node does not take execution keys')
      return b.deliverExecutionKeys(keys)
    },
  }),
} as const

function stripType(entry: CompletionEntry): Omit<CompletionEntry, 'type'> {
  const { type: _type, ...rest } = entry
  return rest
}

export type Methods = typeof METHODS
export type MethodName = keyof Methods
export type MethodParams<M extends MethodName> = Methods[M] extends MethodDef<infer P, infer _R> ? P : never
export type MethodResult<M extends MethodName> = Methods[M] extends MethodDef<infer _P, infer R> ? R : never

/** Loosely typed view used by the dispatcher (params checked at runtime by the wires). */
export interface AnyMethod {
  method: string
  summary: string
  params: readonly ParamDef<unknown>[]
  result: ResultDef<unknown>
  wsOnly?: boolean
  call(backend: B.RpcBackend, params: unknown[], ctx: CallContext): Promise<unknown>
}

const TABLE = new Map<string, AnyMethod>(Object.entries(METHODS).map(([name, def]) => [name, def as unknown as AnyMethod]))

export function findMethod(name: string): AnyMethod | undefined {
  return TABLE.get(name)
}

export function listMethods(): AnyMethod[] {
  return [...TABLE.values()]
}

/**
 * Params by position (array) or by name (object). Extra positional params and unknown names are
 * errors; missing trailing optional params are `undefined`.
 */
export function parseParams(def: AnyMethod, raw: unknown): unknown[] {
  const out = new Array<unknown>(def.params.length)
  if (raw === undefined) raw = []
  if (Array.isArray(raw)) {
    if (raw.length > def.params.length) throw new RpcError('INVALID_PARAMS', `${def.method} takes at most ${def.params.length} params, got ${raw.length}`)
    for (let i = 0; i < def.params.length; i++) out[i] = parseOne(def.params[i]!, raw[i])
    return out
  }
  if (typeof raw === 'object' && raw !== null) {
    const rec = raw as Record<string, unknown>
    const names = new Set(def.params.map((p) => p.name))
    for (const k of Object.keys(rec)) if (!names.has(k)) throw new RpcError('INVALID_PARAMS', `${def.method} has no param ${k.slice(0, 64)}`, { path: k.slice(0, 64) })
    for (let i = 0; i < def.params.length; i++) out[i] = parseOne(def.params[i]!, Object.hasOwn(rec, def.params[i]!.name) ? rec[def.params[i]!.name] : undefined)
    return out
  }
  throw new RpcError('INVALID_PARAMS', 'params must be an array or an object')
}

function parseOne(p: ParamDef<unknown>, value: unknown): unknown {
  try {
    if (value === undefined && !isOptional(p.wire.schema)) throw new WireError('MISSING', `${p.name}: missing`, { path: p.name })
    return p.wire.fromJson(value, p.name)
  } catch (err) {
    if (err instanceof WireError) throw new RpcError('INVALID_PARAMS', err.message, err.details)
    throw err
  }
}

function isOptional(s: JsonSchema): boolean {
  return Array.isArray(s.oneOf) && s.oneOf.some((a: unknown) => typeof a === 'object' && a !== null && (a as { type?: unknown }).type === 'null')
}

let openRpcCache: Json | undefined

/** OpenRPC 1.2.6 document of the whole API, from the table. */
export function computeOpenRpcDocument(): Json {
  if (openRpcCache !== undefined) return openRpcCache
  const doc = {
    openrpc: '1.2.6',
    info: { title: 'XSC JSON-RPC', version: '1.0.0', description: 'JSON-RPC 2.0 over HTTP POST and WebSocket. Amounts are decimal strings, bytes 0x-hex. Raw blobs: HTTP PUT /blob.' },
    methods: listMethods().map((m) => ({
      name: m.method,
      summary: m.summary,
      paramStructure: 'either',
      params: m.params.map((p) => ({ name: p.name, description: p.description, required: !isOptional(p.wire.schema), schema: p.wire.schema })),
      result: { name: m.result.name, description: m.result.description, schema: m.result.wire.schema },
    })),
    components: {
      errors: Object.fromEntries(Object.entries(RPC_CODES).map(([name, code]) => [name, { code, message: RPC_CODE_DESCRIPTIONS[name as keyof typeof RPC_CODES], data: { reason: name } }])),
    },
  }
  openRpcCache = JSON.parse(JSON.stringify(doc)) as Json
  return openRpcCache
}
