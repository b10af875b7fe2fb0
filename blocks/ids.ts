import { bytesKey, concatBytes, equalBytes, hash, hashParts, leafHash, merkleRoot, utf8 } from '../src/crypto/index.ts'
import { decodeTrusted, encode, MAX_ENCODED_BYTES } from './codec.ts'
import { CodecError } from './errors.ts'
import { arrayHead, skipValue } from './msgpackSpans.ts'
import { AttestationBody, Block, BlockEntry, BlockHeader, ExecutionKeysBody, type Hash, ReceiptBody, SealFields, SignedTx, StorageAckBody, TxBody, UnsignedHeader } from './schema.ts'

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

/** What is derived from a tx's canonical bytes: its id, its length, and its hash as a block's tx entry. */
interface TxMemo { id: Hash; bytes: Uint8Array; entryHash?: Hash }
const txMemos = new WeakMap<SignedTx, TxMemo>()

/**
 * A tx reaches a node as several objects with the same content: its gossip copy, then inside a
 * proposal and a commit, each decoded anew. The txs memoized last, by signature, let a new copy
 * reuse what its twin's bytes gave, when the two are equal field by field (equal values have
 * one canonical encoding, so one id); otherwise it is encoded and hashed as usual.
 */
const RECENT_TXS = 16_384
const recentBySignature = new Map<string, SignedTx>()

/** Whether two decoded values (records, lists, bytes, scalars) are equal field by field: equal values have one canonical encoding, so one id and one signing hash. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (a instanceof Uint8Array) return b instanceof Uint8Array && equalBytes(a, b)
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  if (b instanceof Uint8Array || Array.isArray(b)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const k of keys) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

/** The recent tx with this signature key and its memo, when both are held (a candidate twin: the caller checks equality). */
function recentTwin(key: string): { twin: SignedTx; memo: TxMemo } | undefined {
  const twin = recentBySignature.get(key)
  const memo = twin === undefined ? undefined : txMemos.get(twin)
  return twin === undefined || memo === undefined ? undefined : { twin, memo }
}

function txMemo(tx: SignedTx): TxMemo {
  let memo = txMemos.get(tx)
  if (memo !== undefined) return memo
  const key = bytesKey(tx.signature)
  const known = recentTwin(key)
  if (known !== undefined && sameValue(known.twin, tx)) {
    memo = known.memo
    const signing = signingHashes.get(known.twin.body)
    if (signing !== undefined) signingHashes.set(tx.body, signing)
  } else {
    const bytes = encode(SignedTx, tx)
    memo = { id: hash(bytes), bytes }
    rememberRecent(key, tx)
  }
  txMemos.set(tx, memo)
  return memo
}

function rememberRecent(key: string, tx: SignedTx): void {
  if (recentBySignature.size >= RECENT_TXS) recentBySignature.delete(recentBySignature.keys().next().value!)
  recentBySignature.set(key, tx)
}

/**
 * A SignedTx is `[body, signature]`: its encoding is a 2-array head (0x92), the body's encoding,
 * and the signature as bin 8 of 64 bytes (0xc4 0x40 + 64 bytes). So the body's bytes, which the
 * signing hash covers, are a slice of the tx's.
 */
const SIGNATURE_TAIL = 66

/**
 * Takes note of the canonical bytes a tx was just decoded from (`decode` checked that they are
 * its encoding, or the caller encoded them itself): its id, length and signing hash come from
 * them, with no encode. A tx that reaches a node from RPC or in a tx batch is otherwise encoded
 * twice more (once whole for its id, once its body for the signing hash). Bytes of another shape
 * are ignored (the tx is then encoded on demand as before).
 */
export function noteTxBytes(tx: SignedTx, bytes: Uint8Array): void {
  if (txMemos.has(tx)) return
  const n = bytes.length
  if (n <= SIGNATURE_TAIL + 1 || bytes[0] !== 0x92 || bytes[n - SIGNATURE_TAIL] !== 0xc4 || bytes[n - SIGNATURE_TAIL + 1] !== 0x40) return
  const key = bytesKey(tx.signature)
  // A copy of a tx met before: the same bytes, the same hashes.
  const known = recentTwin(key)
  const twinSigning = known === undefined ? undefined : signingHashes.get(known.twin.body)
  if (known !== undefined && twinSigning !== undefined && equalBytes(known.memo.bytes, bytes)) {
    txMemos.set(tx, known.memo)
    signingHashes.set(tx.body, twinSigning)
    return
  }
  txMemos.set(tx, { id: hash(bytes), bytes })
  if (!signingHashes.has(tx.body)) signingHashes.set(tx.body, hashParts(DOMAIN.tx, bytes.subarray(1, n - SIGNATURE_TAIL)))
  rememberRecent(key, tx)
}

export function txSigningHash(body: TxBody): Hash {
  let h = signingHashes.get(body)
  if (h === undefined) {
    h = hashParts(DOMAIN.tx, encode(TxBody, body))
    signingHashes.set(body, h)
  }
  return h
}

export function txId(tx: SignedTx): Hash {
  return txMemo(tx).id
}

/** The length of the tx's canonical encoding (fees are priced per byte); shares txId's encoding. */
export function txByteLength(tx: SignedTx): number {
  return txMemo(tx).bytes.length
}

export function headerSigningHash(header: Omit<BlockHeader, 'signature'>): Hash {
  return hashParts(DOMAIN.header, encode(UnsignedHeader, header))
}

/** What every proof scheme commits to: the header minus proofs and signature. */
export function sealHash(header: Omit<BlockHeader, 'proofs' | 'signature'>): Hash {
  return hash(encode(SealFields, header))
}

// Headers are values too: a block's id is asked for at every stage of its way (held, checked,
// voted on, committed, fed), each time of the same header object.
const blockHashes = new WeakMap<BlockHeader, Hash>()

export function blockHash(header: BlockHeader): Hash {
  let h = blockHashes.get(header)
  if (h === undefined) {
    h = hash(encode(BlockHeader, header))
    blockHashes.set(header, h)
  }
  return h
}

/** A tx entry is `[1, tx]`: its encoding is these two bytes (a 2-array, tag 1) and the tx's own. */
const TX_ENTRY_PREFIX = new Uint8Array([0x92, 0x01])

// Entries, like txs, are values: never mutated once built or decoded. A block is checked for
// structure when it arrives (consensusDriver) and again when it is imported (BlockVerifier), and a
// proposer's body root is computed for its draft and again when its own block is checked: the
// entry hashes and the root are memoized on the objects, so each is computed once per node.
const entryHashes = new WeakMap<BlockEntry, Hash>()
/** The root of an entries array, with the entries it was computed over (a reused array that changed is computed again). */
const bodyRoots = new WeakMap<readonly BlockEntry[], { entries: readonly BlockEntry[]; root: Hash }>()

export function entryHash(entry: BlockEntry): Hash {
  if (entry.type !== 'tx') {
    let h = entryHashes.get(entry)
    if (h === undefined) {
      h = leafHash(encode(BlockEntry, entry))
      entryHashes.set(entry, h)
    }
    return h
  }
  const memo = txMemo(entry.tx)
  memo.entryHash ??= leafHash(concatBytes(TX_ENTRY_PREFIX, memo.bytes))
  return memo.entryHash
}

/**
 * Takes note of the bytes a block was just decoded from (`decode(Block, bytes)` accepted them, so
 * they are its canonical encoding, and each entry's encoding and each entry tx's is a slice of
 * them): entry hashes and tx ids come from the slices, with no encode. A node that never saw a
 * block's txs or entries before (a host taking a committed block) otherwise encodes each entry
 * for the body root and each tx for its id. Bytes of another shape are ignored.
 */
export function noteBlockBytes(block: Block, bytes: Uint8Array): void {
  const top = arrayHead(bytes, 0)
  if (top === undefined || top.length !== 2) return
  const list = arrayHead(bytes, skipValue(bytes, top.first))
  if (list === undefined || list.length !== block.entries.length) return
  const { spans } = entrySpans(bytes, list.first, list.length)
  block.entries.forEach((entry, i) => noteEntrySpan(entry, spans[i]!))
}

/** The byte slices of `n` msgpack values one after another from `first`, and the offset after the last. */
function entrySpans(bytes: Uint8Array, first: number, n: number): { spans: Uint8Array[]; end: number } {
  const spans: Uint8Array[] = []
  let at = first
  for (let i = 0; i < n; i++) {
    const end = skipValue(bytes, at)
    spans.push(bytes.subarray(at, end))
    at = end
  }
  return { spans, end: at }
}

/** An entry's canonical encoding (a slice of its block's bytes): its hash, and its tx's bytes. */
function noteEntrySpan(entry: BlockEntry, span: Uint8Array, leaf?: Hash): void {
  if (entry.type !== 'tx' && !entryHashes.has(entry)) entryHashes.set(entry, leaf ?? leafHash(span))
  if ('tx' in entry) {
    // [tag, tx, …]: a fixarray head and a fixint tag, then the tx. Copied: a memoized tx (kept
    // while it is among the recent ones) must not hold the whole block's buffer.
    if (span.length < 2 || span[0]! < 0x92 || span[0]! > 0x9f || span[1]! > 0x7f) return
    noteTxBytes(entry.tx, span.slice(2, skipValue(span, 2)))
  }
}

/**
 * `decode(Block, bytes)` of a block a verified commit names (`blockId`), without re-encoding the
 * whole block to check that `bytes` are its canonical encoding: the header's hash must be
 * `blockId`, its bytes its encoding and the array heads minimal, and each entry's slice hashes
 * into the header's body root, which the committing validators computed over the canonical
 * encodings of the entries they checked; so the slices are those encodings (collision
 * resistance) and `bytes` is `encode(Block, block)` exactly. Returns undefined when the header is
 * not the committed one; throws CodecError NON_CANONICAL (or MALFORMED) otherwise. The entry
 * hashes, tx ids and body root are memoized from the slices (`noteBlockBytes`).
 */
export function decodeCommittedBlock(bytes: Uint8Array, blockId: Hash): Block | undefined {
  if (bytes.length > MAX_ENCODED_BYTES) throw new CodecError('TOO_LARGE', `Block: ${bytes.length} bytes exceeds ${MAX_ENCODED_BYTES}`)
  const block = decodeTrusted(Block, bytes)
  const headerBytes = encode(BlockHeader, block.header)
  if (!equalBytes(hash(headerBytes), blockId)) return undefined
  const nonCanonical = (): never => {
    throw new CodecError('NON_CANONICAL', 'Block: not the canonical encoding')
  }
  const n = block.entries.length
  const top = arrayHead(bytes, 0)
  if (bytes[0] !== 0x92 || top === undefined) return nonCanonical()
  const headerEnd = top.first + headerBytes.length
  if (!equalBytes(bytes.subarray(top.first, headerEnd), headerBytes)) return nonCanonical()
  const list = arrayHead(bytes, headerEnd)
  const minimalHead = n <= 15 ? bytes[headerEnd] === (0x90 | n) : bytes[headerEnd] === (n <= 0xffff ? 0xdc : 0xdd)
  if (list === undefined || list.length !== n || !minimalHead) return nonCanonical()
  const { spans, end } = entrySpans(bytes, list.first, n)
  const leaves = spans.map((s) => leafHash(s))
  if (end !== bytes.length || !equalBytes(merkleRoot(leaves), block.header.bodyRoot)) return nonCanonical()
  block.entries.forEach((e, i) => noteEntrySpan(e, spans[i]!, leaves[i]))
  bodyRoots.set(block.entries, { entries: block.entries.slice(), root: block.header.bodyRoot })
  return block
}

export function computeBodyRoot(entries: readonly BlockEntry[]): Hash {
  const memo = bodyRoots.get(entries)
  if (memo !== undefined && memo.entries.length === entries.length && memo.entries.every((e, i) => e === entries[i])) return memo.root
  const root = merkleRoot(entries.map(entryHash))
  bodyRoots.set(entries, { entries: entries.slice(), root })
  return root
}

// A host signs its receipt's body and its own pool takes the same object at once (hostRole
// `#sendReceipt`): bodies are values, so their signing hash is memoized on them.
const receiptSigningHashes = new WeakMap<ReceiptBody, Hash>()

/**
 * Takes note of a receipt body's canonical bytes (a slice of a message `decode` just accepted):
 * its signing hash is hashed from them, with no encode. The caller vouches that `bytes` are the
 * body's encoding.
 */
export function noteReceiptBodyBytes(body: ReceiptBody, bytes: Uint8Array): void {
  if (!receiptSigningHashes.has(body)) receiptSigningHashes.set(body, hashParts(DOMAIN.receipt, bytes))
}

export function receiptSigningHash(body: ReceiptBody): Hash {
  let h = receiptSigningHashes.get(body)
  if (h === undefined) {
    h = hashParts(DOMAIN.receipt, encode(ReceiptBody, body))
    receiptSigningHashes.set(body, h)
  }
  return h
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

