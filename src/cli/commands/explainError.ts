import { XscError } from '../../../blocks/errors.ts'
import { RpcClientError } from '../../client/index.ts'
import { KeystoreError } from '../../node/errors.ts'
import { CommandError } from '../errors.ts'

/**
 * What to do about an error, by its code: the RPC application codes a node answers with
 * (RpcClientError, docs/rpc.md), the client's transport codes, and state rule codes a node
 * reports as `data.reason`. Errors that carry `details.advice` keep their own.
 */
const ADVICE: Record<string, string> = {
  // RPC application codes
  NONCE_TOO_LOW: 'another tx from this key used that nonce first; run the command again (the next nonce is fetched fresh)',
  NONCE_TOO_HIGH: 'earlier txs from this key are still pending or were dropped; wait for them to be included, then retry',
  INSUFFICIENT_FUNDS: 'fund the account or lower --deposit / --fuel / --bid / --amount (send it funds with xsc transfer --to ADDRESS --amount N from a funded key)',
  BAD_SIGNATURE: 'the key file\'s secret key does not sign for its address; check --key',
  WRONG_CHAIN: 'the node at --rpc runs another chain; point --rpc (or $XSC_RPC) at a node of the chain you mean',
  MEMPOOL_FULL: 'the node holds too many pending txs (or too many from this key); retry in a few seconds',
  ALREADY_KNOWN: 'this exact tx is already pending; wait for it instead of sending it again',
  FEE_TOO_LOW: 'raise --fee',
  INVALID_TX: 'the tx breaks a protocol rule (see reason); compare your flags with the chain parameters (xsc status --json)',
  UNKNOWN_ASSET: 'check the asset id; a deploy becomes an asset only once it is in a block (xsc deploy --wait, then xsc asset ID)',
  UNKNOWN_EXECUTION: 'check the execution id (it is the execute tx id)',
  FUEL_LIMIT_TOO_HIGH: 'lower --fuel to at most the chain\'s maxFuelLimit (xsc status --json shows params.maxFuelLimit)',
  BLOB_TOO_LARGE: 'the file is larger than the node accepts (params.maxModuleBytes for modules); deploy a smaller file',
  BLOB_UNAUTHORIZED: 'uploads are signed by the --key account, which must hold funds on this chain; check the key, fund it, and that your clock is right (the signature expires)',
  BLOB_QUOTA_EXCEEDED: 'this account holds too many uploads no deploy has named yet; deploy them, or wait an hour for the node to drop them',
  REQUEST_TOO_LARGE: 'the request is larger than the node accepts; send less input (--input-file) or a smaller file',
  RATE_LIMITED: 'too many calls on this connection; wait a second and retry',
  UNAVAILABLE: 'the node is starting, syncing, busy or does not offer this (dry runs need a node started with --host); retry or use another node',
  TIMEOUT: 'the chain did not get there in time: check that blocks are being produced (xsc status) and retry, or raise --timeout',
  HISTORY_UNAVAILABLE: 'resume from a newer height',
  INTERNAL_ERROR: 'the node failed on this request; its log has the cause',
  INVALID_PARAMS: 'the node refused a parameter (see details.data.path); check the values you passed',
  METHOD_NOT_FOUND: 'the node does not know this method; it may run an older version than this CLI',
  REJECTED: 'the node refused the request (see reason)',
  // client-side
  TRANSPORT_FAILED: 'no node answered at --rpc; start one (xsc node --data DIR, or npm run devnet) or point --rpc / $XSC_RPC at a running node',
  BAD_RESPONSE: 'the node answered something this CLI does not understand; check that node and CLI are the same version',
  UNKNOWN_RPC_CODE: 'the node answered with an error code this CLI does not know; check versions',
  DROPPED: 'the node dropped the tx because it cannot apply (e.g. no eligible hosts at your bid, or the balance no longer covers it); fix the cause (see reason) and send it again',
  CLOSED: 'the connection closed; retry',
  // local files
  BAD_KEY_FILE: 'pass a key file written by `xsc keys new --out key.json`',
  // state rules a node reports as data.reason
  HOST_EXISTS: 'this key is already a host; see it with xsc host status --key K, or leave first (xsc host leave)',
  UNKNOWN_HOST: 'this key is not a host; join first with xsc host join',
  STAKE_TOO_LOW: 'stake at least the chain\'s minStake (xsc status --json shows params.minStake)',
  SLASHED: 'this key was slashed for equivocation and may never stake again; use a new validator key',
  ALREADY_SLASHED: 'the offender was already slashed: each offence is punished once',
  EVIDENCE_EXPIRED: 'the offence is older than the unbonding period (params.unbondingHeights): it can no longer be punished',
  EVIDENCE_FROM_FUTURE: 'the node has not reached the offence\'s height yet; retry once it has',
}

/** Advice for an error, or undefined when there is none to give. */
export function explainError(err: unknown): string | undefined {
  if (!(err instanceof XscError)) return undefined
  if (err instanceof CommandError) return err.details.advice
  if (err instanceof KeystoreError && err.details.advice !== undefined) return err.details.advice
  const reason = err instanceof RpcClientError && 'data' in err.details ? err.details.data.reason : undefined
  if (typeof reason === 'string' && reason !== err.code && ADVICE[reason] !== undefined) return ADVICE[reason]
  return ADVICE[err.code]
}
