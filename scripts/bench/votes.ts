// The vote-exchange answer (/votes/1) for growing validator sets: encode and decode time and size
// of one answer (every validator's latest vote), against the old fixed bound of 1,024 votes.
// Usage: npx tsx scripts/bench/votes.ts  (last line: one JSON object)
import { decode, encode, list } from '../../blocks/codec.ts'
import { Attestation } from '../../blocks/schema.ts'
import { signAttestation } from '../../consensus/finality.ts'
import { hash, keyPairFromSecret, utf8 } from '../../src/crypto/index.ts'
import { computeMaxVoteAnswerBytes, voteListCodec } from '../../src/node/network/voteExchange.ts'

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d
const OLD = list(Attestation, 1024)

function votes(count: number): Attestation[] {
  return Array.from({ length: count }, (_, i) => {
    const key = keyPairFromSecret(hash(utf8(`bench-votes/${i}`)))
    return signAttestation({ chainId: 'xsc-bench', height: 1_000_000 + i, blockHash: hash(utf8(`block ${i}`)), validator: key.publicKey }, key.secretKey)
  })
}

const rows = []
for (const n of [100, 1_000, 4_000, 10_000]) {
  const all = votes(n)
  const codec = voteListCodec(n)
  let bytes = encode(codec, all)
  const enc: number[] = []
  const dec: number[] = []
  for (let r = 0; r < 9; r++) {
    let t = performance.now()
    bytes = encode(codec, all)
    enc.push(performance.now() - t)
    t = performance.now()
    decode(codec, bytes)
    dec.push(performance.now() - t)
  }
  let oldEncodes = true
  try {
    encode(OLD, all)
  } catch {
    oldEncodes = false
  }
  rows.push({ validators: n, bytes: bytes.length, bytesPerVote: round(bytes.length / n, 1), capBytes: computeMaxVoteAnswerBytes(n), encodeMedianMs: round(median(enc)), decodeMedianMs: round(median(dec)), oldBoundEncodes: oldEncodes })
  console.log(JSON.stringify(rows.at(-1)))
}
const at1000 = rows.find((r) => r.validators === 1_000)!
console.log(JSON.stringify({ bench: 'votes', rows, encodeMs1000: at1000.encodeMedianMs, decodeMs1000: at1000.decodeMedianMs, bytes1000: at1000.bytes, oldBoundMaxValidators: 1024 }))
