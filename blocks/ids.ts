import { hash, hashParts, leafHash, merkleRoot, utf8 } from '../src/crypto/index.ts'
import { encode } from './codec.ts'
import { AttestationBody, BlockEntry, BlockHeader, ExecutionKeysBody, type Hash, ReceiptBody, SealFields, SignedTx, StorageAckBody, TxBody, UnsignedHeader } from './schema.ts'

/**
 * Ids and signing messages. An id is hash(canonical bytes). A signature covers
 * hash(domain tag || canonical bytes), so a signature for one type can never be replayed as
 * another (a tx body can't pass as a receipt).
 */
const DOMAIN = {
  tx: utf8('XSC/tx/v1'),
  header: utf8('XSC/header/v1'),
  receipt: utf8('XSC/receipt/v1'),
  attestation: utf8('XSC/attestation/v1'),
  storageAck: utf8('XSC/storage-ack/v1'),
  blobUpload: utf8('XSC/blob-upload/v1'),
  executionKeys: utf8('XSC/execution-keys/v1'),
}

// Txs are values: once built or decoded they are never mutated, so their hashes are memoized
// (block import needs a tx's id and signing hash several times).
const signingHashes = new WeakMap<TxBody, Hash>()
const txIds = new WeakMap<SignedTx, Hash>()
const txSizes = new WeakMap<SignedTx, number>()

export function txSigningHash(body: TxBody): Hash {
  let h = signingHashes.get(body)
  if (h === undefined) {
    h = hashParts(DOMAIN.tx, encode(TxBody, body))
    signingHashes.set(body, h)
  }
  return h
}

export function txId(tx: SignedTx): Hash {
  let h = txIds.get(tx)
  if (h === undefined) {
    const bytes = encode(SignedTx, tx)
    h = hash(bytes)
    txIds.set(tx, h)
    txSizes.set(tx, bytes.length)
  }
  return h
}

/** The length of the tx's canonical encoding (fees are priced per byte); shares txId's encoding. */
export function txByteLength(tx: SignedTx): number {
  let n = txSizes.get(tx)
  if (n === undefined) {
    txId(tx)
    n = txSizes.get(tx)!
  }
  return n
}

export function headerSigningHash(header: Omit<BlockHeader, 'signature'>): Hash {
  return hashParts(DOMAIN.header, encode(UnsignedHeader, header))
}

/** What every proof scheme commits to: the header minus proofs and signature. */
export function sealHash(header: Omit<BlockHeader, 'proofs' | 'signature'>): Hash {
  return hash(encode(SealFields, header))
}

export function blockHash(header: BlockHeader): Hash {
  return hash(encode(BlockHeader, header))
}

export function entryHash(entry: BlockEntry): Hash {
  return leafHash(encode(BlockEntry, entry))
}

export function computeBodyRoot(entries: readonly BlockEntry[]): Hash {
  return merkleRoot(entries.map(entryHash))
}

export function receiptSigningHash(body: ReceiptBody): Hash {
  return hashParts(DOMAIN.receipt, encode(ReceiptBody, body))
}

export function executionKeysSigningHash(body: ExecutionKeysBody): Hash {
  return hashParts(DOMAIN.executionKeys, encode(ExecutionKeysBody, body))
}

export function storageAckSigningHash(body: StorageAckBody): Hash {
  return hashParts(DOMAIN.storageAck, encode(StorageAckBody, body))
}

/**
 * What an uploader signs to `PUT /blob` (off chain): its address, the blob's data hash and an
 * expiry (ms since the epoch), bound to the chain id so a signature serves one chain only.
 */
export function blobUploadSigningHash(chainId: string, address: Hash, dataHash: Hash, expiresAtMs: number): Hash {
  const expiry = new Uint8Array(8)
  new DataView(expiry.buffer).setBigUint64(0, BigInt(expiresAtMs))
  return hashParts(DOMAIN.blobUpload, utf8(chainId), address, dataHash, expiry)
}

export function attestationSigningHash(body: AttestationBody): Hash {
  return hashParts(DOMAIN.attestation, encode(AttestationBody, body))
}

