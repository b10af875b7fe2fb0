// What an idle node does per second (docs/devnet.md, "Session 9: idle cost"). Preload into every
// devnet process: COUNT_DIR=/tmp/counts NODE_OPTIONS="--import ./scripts/bench/support/idleCountsPreload.mjs" npm run devnet
// Then SIGUSR2 to the node processes starts counting, a second SIGUSR2 writes
// $COUNT_DIR/<name>-<pid>.json (libp2p streams opened per protocol, in and out; gossipsub RPCs,
// messages per topic and control parts) and $COUNT_DIR/timers-<name>-<pid>.json (timer callbacks
// fired, by the code that set them). A diagnostic only: it patches library prototypes.
import { writeFileSync } from 'node:fs'
const dir = process.env.COUNT_DIR
if (dir) {
  const nm = new URL('../../../node_modules', import.meta.url).pathname
  const { Connection } = await import(nm + '/libp2p/dist/src/connection.js')
  const { GossipSub } = await import(nm + '/@libp2p/gossipsub/dist/src/gossipsub.js')
  let c = {}
  const inc = (k, n = 1) => { c[k] = (c[k] ?? 0) + n }
  const short = (t) => t.split('/').slice(-2).join('/')
  const orig = Connection.prototype.onIncomingStream
  Connection.prototype.onIncomingStream = async function (evt) {
    try { return await orig.call(this, evt) } finally { inc('in ' + (evt.detail.protocol || '?').replace(/\/xsc\/[^/]+\//, '')) }
  }
  const { AbstractStreamMuxer } = await import(nm + '/@libp2p/utils/dist/src/abstract-stream-muxer.js')
  const create = AbstractStreamMuxer.prototype.createStream
  AbstractStreamMuxer.prototype.createStream = function (options) {
    inc('out ' + (options?.protocol ?? '?').replace(/\/xsc\/[^/]+\//, ''))
    return create.call(this, options)
  }
  const recv = GossipSub.prototype.handleReceivedRpc
  GossipSub.prototype.handleReceivedRpc = function (from, rpc) {
    inc('gs rpc recv')
    for (const m of rpc.messages ?? []) inc('gs msg recv ' + short(m.topic))
    const ctl = rpc.control
    if (ctl) { inc('gs ihave recv', ctl.ihave?.length ?? 0); inc('gs iwant recv', ctl.iwant?.length ?? 0); inc('gs idontwant recv', ctl.idontwant?.length ?? 0); inc('gs graft recv', ctl.graft?.length ?? 0); inc('gs prune recv', ctl.prune?.length ?? 0) }
    return recv.call(this, from, rpc)
  }
  const send = GossipSub.prototype.sendRpc
  GossipSub.prototype.sendRpc = function (id, rpc) {
    inc('gs rpc sent')
    for (const m of rpc.messages ?? []) inc('gs msg sent ' + short(m.topic))
    return send.call(this, id, rpc)
  }
  // Per-block work outside libp2p: ed25519 signs and verifies (libsodium since session 16),
  // LevelDB calls, socket writes and reads, file syncs (the sign guard), hashes made.
  const nodeCrypto = await import('node:crypto')
  const cjs = (await import('node:module')).createRequire(import.meta.url)
  const cryptoCjs = cjs('node:crypto')
  const sodium = cjs(nm + '/sodium-native/index.js')
  for (const [name, fn] of [['sign', 'crypto_sign_detached'], ['verify', 'crypto_sign_verify_detached']]) {
    const o = sodium[fn]
    sodium[fn] = function (...a) { inc('crypto ' + name); return o.apply(this, a) }
  }
  const oneShot = cryptoCjs.hash
  if (oneShot) cryptoCjs.hash = function (...a) { inc('crypto hash'); return oneShot.apply(this, a) }
  const ch = cryptoCjs.createHash
  cryptoCjs.createHash = function (...a) { inc('crypto createHash ' + a[0]); return ch.apply(this, a) }
  void nodeCrypto
  const { ClassicLevel } = await import(nm + '/classic-level/index.js')
  for (const name of ['batch', 'put', 'get', 'getMany', 'del', 'iterator']) {
    const o = ClassicLevel.prototype[name]
    if (typeof o !== 'function') continue
    ClassicLevel.prototype[name] = function (...a) { inc('level ' + name); if (name === 'batch' && Array.isArray(a[0])) inc('level batch ops', a[0].length); return o.apply(this, a) }
  }
  const netMod = cjs('node:net')
  const w = netMod.Socket.prototype.write
  // By path (session 14): a fast link's sealed frames (validatorLinks/fastLinks on the stack), libp2p's
  // connections (@libp2p/tcp), anything else (RPC, shard HTTP).
  const pathOf = (stack) => /validatorLinks|fastLink/.test(stack) ? 'fast link' : /@libp2p\/tcp/.test(stack) ? 'libp2p' : 'other'
  netMod.Socket.prototype.write = function (...a) {
    const path = pathOf(new Error().stack ?? '')
    inc('socket write'); inc('socket write ' + path); inc('socket write bytes', a[0]?.length ?? 0)
    return w.apply(this, a)
  }
  // What reaches libuv: one per _write, one per _writev (several chunks: corked or queued writes).
  for (const name of ['_write', '_writev']) {
    const o = netMod.Socket.prototype[name]
    if (typeof o === 'function') netMod.Socket.prototype[name] = function (...a) { inc('socket ' + name); return o.apply(this, a) }
  }
  const push = netMod.Socket.prototype.push
  netMod.Socket.prototype.push = function (chunk, ...a) { if (chunk) inc('socket read chunk'); return push.call(this, chunk, ...a) }
  const fsMod = cjs('node:fs')
  for (const name of ['fdatasync', 'fsync', 'write', 'writeSync', 'fdatasyncSync']) {
    const o = fsMod[name]
    fsMod[name] = function (...a) { inc('fs ' + name); return o.apply(this, a) }
  }
  cjs('node:module').syncBuiltinESMExports() // ESM named imports of node:crypto/fs see the patches
  // Consensus traffic by kind (session 14): our own modules, from the compiled build the node runs
  // (bin/build.mjs; same URLs, so the same module instances), patched once at the first signal.
  // 'link send' counts calls (each goes to every linked validator), 'recv' what reached the driver
  // (links, gossip and round-state pulls alike).
  let patched = false
  const patchOurs = async () => {
    if (patched) return
    patched = true
    const root = new URL('../../..', import.meta.url).pathname
    const { ensureBuild } = await import(root + 'bin/build.mjs')
    const d = await ensureBuild()
    const { decode } = await import(d + '/blocks/codec.js')
    const { ConsensusMessage } = await import(d + '/consensus/bft/messages.js')
    const kindOf = (m) => m.type === 'vote' ? (m.vote.body.step === 1 ? 'prevote' : 'precommit') : m.type
    const { ValidatorLinks } = await import(d + '/src/node/network/validatorLinks.js')
    const ls = ValidatorLinks.prototype.send
    ValidatorLinks.prototype.send = function (topic, bytes) {
      let k = topic
      if (topic === 'consensus') try { k = kindOf(decode(ConsensusMessage, bytes)) } catch { k = 'consensus ?' }
      inc('link send ' + k)
      const ok = ls.call(this, topic, bytes)
      if (!ok) inc('link send not all linked ' + k)
      return ok
    }
    const { ConsensusDriver } = await import(d + '/src/node/network/consensusDriver.js')
    const hm = ConsensusDriver.prototype.handleMessage
    ConsensusDriver.prototype.handleMessage = function (message, from) { inc('recv ' + kindOf(message) + (from === undefined ? ' (own)' : '')); return hm.call(this, message, from) }
    const pb = ConsensusDriver.prototype.processBlock
    ConsensusDriver.prototype.processBlock = function (...a) { inc('recv block'); return pb.apply(this, a) }
    const hc = ConsensusDriver.prototype.handleCommittedBlock
    ConsensusDriver.prototype.handleCommittedBlock = function (...a) { inc('recv committed block'); return hc.apply(this, a) }
    const { CommitFeedServer } = await import(d + '/src/node/network/commitFeed.js')
    const fp = CommitFeedServer.prototype.publish
    CommitFeedServer.prototype.publish = function (bytes) { inc('commit feed publish'); inc('commit feed subscribers', this.subscriberCount); return fp.call(this, bytes) }
  }
  let on = false, t0 = 0
  process.on('SIGUSR2', () => {
    if (!on) { void patchOurs().catch((e) => { inc('patch failed: ' + String(e).slice(0, 80)) }); c = {}; t0 = Date.now(); on = true; return }
    const name = (process.argv.find((a) => a.includes('validator-') || a.includes('host-')) ?? 'x').split('/').pop()
    writeFileSync(`${dir}/${name}-${process.pid}.json`, JSON.stringify({ secs: (Date.now() - t0) / 1000, counts: c }))
    on = false
  })
}
if (process.env.COUNT_DIR) {
  // timers fired, by the first caller frame outside node internals and libp2p's utils wrappers
  const { writeFileSync: _w } = await import('node:fs')
  const fired = new Map()
  const where = () => {
    const lines = (new Error().stack ?? '').split('\n').slice(3)
    const skip = ['node:internal', 'countpreload', 'node:timers', 'it-queue', 'mortice', 'peer-store', 'p-queue', 'p-event', 'race-signal', 'datastore', 'processTicksAndRejections', '<anonymous>', 'new Promise']
    const l = lines.filter((x) => !skip.some((s) => x.includes(s))).slice(0, 2).join(' < ') || '?'
    return l.trim().replace(/^at /, '').replace(/file:\/\/\/work\/(wt-idle9|main)\//, '').replace(/\(.*node_modules\//, '(')
  }
  for (const name of ['setTimeout', 'setInterval']) {
    const orig = globalThis[name]
    globalThis[name] = function (fn, ms, ...rest) {
      if (typeof fn !== 'function') return orig.call(this, fn, ms, ...rest)
      const k = name + ' ' + where()
      return orig.call(this, function (...a) { fired.set(k, (fired.get(k) ?? 0) + 1); return fn.apply(this, a) }, ms, ...rest)
    }
  }
  let on2 = false, t1 = 0
  process.on('SIGUSR2', () => {
    if (!on2) { fired.clear(); t1 = Date.now(); on2 = true; return }
    const name = (process.argv.find((a) => a.includes('validator-') || a.includes('host-')) ?? 'x').split('/').pop()
    const top = [...fired].sort((a, b) => b[1] - a[1]).slice(0, 25)
    _w(`${process.env.COUNT_DIR}/timers-${name}-${process.pid}.json`, JSON.stringify({ secs: (Date.now() - t1) / 1000, top }))
    on2 = false
  })
}
