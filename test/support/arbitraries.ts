import fc from 'fast-check'

import type { Block, BlockEntry, Coord, HostParams, Manifest, Receipt, SignedTx, TxPayload } from '../../blocks/schema.ts'

/** fast-check generators for every wire type: valid values of the schema, within its limits. */
export const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
export const b64 = fc.uint8Array({ minLength: 64, maxLength: 64 })
export const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
export const u8 = fc.integer({ min: 0, max: 255 })
export const u16 = fc.integer({ min: 0, max: 0xffff })
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
export const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })
export const smallBytes = fc.uint8Array({ maxLength: 64 })
const chainId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/)

export const coord: fc.Arbitrary<Coord> = fc.record({ x: u32, y: u32, z: u32 })
export const hostParams: fc.Arbitrary<HostParams> = fc.record({
  coord,
  zone: fc.string({ maxLength: 32 }),
  capacityBytes: u64,
  capabilities: u32,
  askPerFuel: u128,
  askPerByteEpoch: u128,
  peerId: fc.string({ maxLength: 60 }),
  memoryBytes: u64,
  encryptionKey: fc.option(b32, { nil: undefined }),
})
export const manifest: fc.Arbitrary<Manifest> = fc.record({
  size: u64,
  dataHash: b32,
  k: u8,
  m: u8,
  segmentSize: u32,
  shardSize: u64,
  chunkSize: u32,
  shardHashes: fc.array(b32, { maxLength: 6 }),
  chunkRoots: fc.array(b32, { maxLength: 6 }),
})

export const payload: fc.Arbitrary<TxPayload> = fc.oneof(
  fc.record({ type: fc.constant('transfer' as const), to: b32, amount: u128 }),
  fc.record({ type: fc.constant('host.join' as const), host: hostParams }),
  fc.record({ type: fc.constant('host.update' as const), host: hostParams }),
  fc.record({ type: fc.constant('host.leave' as const) }),
  fc.record({ type: fc.constant('stake' as const), amount: u128 }),
  fc.record({ type: fc.constant('unstake' as const), amount: u128 }),
  fc.record({ type: fc.constant('deploy' as const), assetKind: u8, manifest, deposit: u128, bidPerByteEpoch: u128, origin: coord, zones: fc.array(fc.string({ maxLength: 32 }), { maxLength: 16 }), strategy: u8 }),
  fc.record({
    type: fc.constant('execute' as const),
    asset: b32,
    fn: fc.string({ maxLength: 20 }),
    input: smallBytes,
    fuelLimit: u64,
    bidPerFuel: u128,
    replicas: u8,
    quorum: u8,
    private: fc.boolean(),
    deadlineSlots: u32,
    origin: coord,
    zones: fc.array(fc.string({ maxLength: 32 }), { maxLength: 16 }),
    strategy: u8,
    minMemoryBytes: u64,
  }),
)

export const signedTx: fc.Arbitrary<SignedTx> = fc.record({
  body: fc.record({ chainId, from: b32, nonce: u32, fee: u128, payload }),
  signature: b64,
})

export const receipt: fc.Arbitrary<Receipt> = fc.record({
  body: fc.record({ chainId, executionId: b32, host: b32, outcome: u8, resultHash: b32, fuelUsed: u64, writeSetHash: b32, output: smallBytes, preStateHash: b32 }),
  signature: b64,
})

const payout = fc.record({ to: b32, amount: u128 })
const repChange = fc.record({ host: b32, before: u16, after: u16, cause: u8 })

export const entryOfKind: Record<Block['header']['kind'], fc.Arbitrary<BlockEntry>> = {
  genesis: fc.record({ type: fc.constant('genesis' as const), config: smallBytes }),
  ledger: fc.record({ type: fc.constant('tx' as const), tx: signedTx }),
  deployment: fc.record({ type: fc.constant('deployment' as const), tx: signedTx, placement: fc.array(b32, { maxLength: 6 }) }),
  execution: fc.record({ type: fc.constant('execution' as const), tx: signedTx, assignment: fc.array(b32, { maxLength: 5 }), escrow: u128 }),
  completion: fc.record({
    type: fc.constant('completion' as const),
    executionId: b32,
    status: u8,
    outcome: u8,
    resultHash: b32,
    fuelUsed: u64,
    output: smallBytes,
    writeSet: fc.array(fc.record({ key: smallBytes, value: fc.option(smallBytes, { nil: undefined }) }), { maxLength: 3 }),
    receipts: fc.array(receipt, { maxLength: 3 }),
    payouts: fc.array(payout, { maxLength: 3 }),
    refund: u128,
    burn: u128,
    reputation: fc.array(repChange, { maxLength: 3 }),
  }),
  audit: fc.record({
    type: fc.constant('audit' as const),
    epoch: u32,
    results: fc.array(fc.record({ asset: b32, shardIndex: u8, host: b32, chunkIndex: u32, outcome: u8, chunk: smallBytes, path: fc.array(b32, { maxLength: 4 }) }), { maxLength: 3 }),
    repairs: fc.array(fc.record({ asset: b32, shardIndex: u8, from: b32, to: b32 }), { maxLength: 2 }),
    rent: fc.array(payout, { maxLength: 3 }),
    expired: fc.array(b32, { maxLength: 2 }),
    reputation: fc.array(repChange, { maxLength: 3 }),
  }),
  storage: fc.record({
    type: fc.constant('storageAck' as const),
    acks: fc.array(fc.record({ body: fc.record({ chainId, asset: b32, shardIndex: u8, shardHash: b32, host: b32 }), signature: b64 }), { maxLength: 3 }),
  }),
}

export const block: fc.Arbitrary<Block> = fc
  .constantFrom(...(Object.keys(entryOfKind) as Block['header']['kind'][]))
  .chain((kind) =>
    fc.record({
      header: fc.record({
        chainId,
        height: u32,
        prevHash: b32,
        kind: fc.constant(kind),
        slot: u32,
        timestamp: u64,
        proposer: b32,
        bodyRoot: b32,
        stateRoot: b32,
        baseFee: u128,
        txBytes: u32,
        round: u32,
        beaconReveal: b32,
        proofs: fc.array(fc.record({ scheme: fc.stringMatching(/^[a-z]{1,16}$/), data: smallBytes }), { maxLength: 4 }),
        signature: b64,
      }),
      entries: fc.array(entryOfKind[kind], { maxLength: 3 }),
    }),
  )
