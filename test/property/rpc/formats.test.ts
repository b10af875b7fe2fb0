import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { SignedTx, type TxPayload } from '../../../blocks/schema.ts'
import { WireError } from '../../../src/rpc/errors.ts'
import * as F from '../../../src/rpc/formats.ts'
import { jsonWireOf } from '../../../src/rpc/jsonWireOf.ts'
import { amount, u64, type Wire } from '../../../src/rpc/wire.ts'

/** Server and client share the wires: domain → JSON text → domain must be the identity. */
function roundTrip<T>(wire: Wire<T>, value: T): T {
  return wire.fromJson(JSON.parse(JSON.stringify(wire.toJson(value))), 'v')
}

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })
const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })
const u64Arb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const u32Arb = fc.integer({ min: 0, max: 0xffff_ffff })
const coord = fc.record({ x: u32Arb, y: u32Arb, z: u32Arb })
const hostParams = fc.record({
  coord,
  zone: fc.string({ maxLength: 32 }),
  capacityBytes: u64Arb,
  capabilities: u32Arb,
  askPerFuel: u128,
  askPerByteEpoch: u128,
  peerId: fc.string({ maxLength: 60 }),
  memoryBytes: u64Arb,
  encryptionKey: fc.option(bytes(32), { nil: undefined }),
})

const payload: fc.Arbitrary<TxPayload> = fc.oneof(
  fc.record({ type: fc.constant('transfer' as const), to: bytes(32), amount: u128 }),
  fc.record({ type: fc.constant('host.join' as const), host: hostParams }),
  fc.record({ type: fc.constant('host.leave' as const) }),
  fc.record({ type: fc.constant('stake' as const), amount: u128 }),
  fc.record({
    type: fc.constant('execute' as const),
    asset: bytes(32),
    fn: fc.string({ maxLength: 20 }),
    input: fc.uint8Array({ maxLength: 100 }),
    fuelLimit: u64Arb,
    bidPerFuel: u128,
    replicas: fc.integer({ min: 0, max: 255 }),
    quorum: fc.integer({ min: 0, max: 255 }),
    private: fc.boolean(),
    deadlineSlots: u32Arb,
    origin: coord,
    zones: fc.array(fc.string({ maxLength: 32 }), { maxLength: 16 }),
    strategy: fc.integer({ min: 0, max: 255 }),
    minMemoryBytes: u64Arb,
  }),
)

const signedTxArb: fc.Arbitrary<SignedTx> = fc.record({
  body: fc.record({ chainId: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), from: bytes(32), nonce: u32Arb, fee: u128, payload }),
  signature: bytes(64),
})

describe('wire formats', () => {
  it('SignedTx survives domain → JSON → domain, as fields and as raw canonical hex', () => {
    fc.assert(fc.property(signedTxArb, (tx) => {
      expect(roundTrip(jsonWireOf(SignedTx), tx)).toEqual(tx)
      expect(roundTrip(F.RawSignedTx, tx)).toEqual(tx)
    }), { numRuns: 300 })
  })

  it('amounts are exact decimal strings for every u128 and refuse anything else', () => {
    fc.assert(fc.property(u128, (v) => {
      expect(amount.toJson(v)).toBe(v.toString())
      expect(roundTrip(amount, v)).toBe(v)
    }))
    for (const bad of [-1, 1, '-1', '01', '1e3', ' 1', '0x10', (1n << 128n).toString(), '9'.repeat(1000), null, [], {}]) {
      expect(() => amount.fromJson(bad, 'a')).toThrow(WireError)
    }
    expect(() => u64.fromJson((1n << 64n).toString(), 'a')).toThrow(WireError)
  })

  it('random JSON never parses into a SignedTx unless it is one, and never throws anything but WireError', () => {
    fc.assert(fc.property(fc.jsonValue(), (j) => {
      try {
        jsonWireOf(SignedTx).fromJson(j, 'tx')
      } catch (err) {
        expect(err).toBeInstanceOf(WireError)
      }
      try {
        F.RawSignedTx.fromJson(j, 'tx')
      } catch (err) {
        expect(err).toBeInstanceOf(WireError)
      }
    }), { numRuns: 500 })
  })
})
