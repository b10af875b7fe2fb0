// One function per page: fetch what it shows (bounded: pages of at most 100 blocks or 500 rows),
// render, and return {title, cleanup} (cleanup drops live listeners when the page changes).
import { batch, call, range, RpcError } from './rpc.js'
import {
  ACTIVITY_ROLE, ASSET_KIND, ASSET_STATUS, AUDIT_OUTCOME, COMPLETION_STATUS, EXECUTION_STATUS, HOST_STATUS, OUTCOME, REPUTATION_CAUSE, ROLE,
  accountLink, amount, assetLink, badge, blockHashLink, blockLink, bytes, executionLink, facts, hostLink, html, leUint, link, name, num, raw,
  reputation, reputationColor, short, statusTone, table, time, txLink,
} from './format.js'

const put = (view, content) => {
  view.innerHTML = content.text ?? String(content)
}

/**
 * Live pages redraw in place: only the parts (elements with data-part) whose HTML changed are
 * replaced, so a link the user is about to click is not swapped out under the pointer.
 */
const putParts = (view, content) => {
  const fresh = document.createElement('template')
  fresh.innerHTML = content.text
  const parts = fresh.content.querySelectorAll('[data-part]')
  const current = view.querySelectorAll('[data-part]')
  if (current.length !== parts.length) {
    put(view, content)
    return
  }
  parts.forEach((part, i) => {
    if (current[i].innerHTML !== part.innerHTML) current[i].innerHTML = part.innerHTML
  })
}

const ok = (v) => v !== null && v !== undefined && !(v instanceof RpcError)

const kindBadge = (kind) => badge(kind, kind === 'execution' || kind === 'completion' ? 'ok' : kind === 'audit' ? 'warn' : kind === 'deployment' ? 'ok' : '')

const repCell = (bp) => html`<span class="rep"><i style="background:${reputationColor(bp)}"></i>${reputation(bp)}</span>`

const hostStatus = (s) => badge(name(HOST_STATUS, s), statusTone(name(HOST_STATUS, s)))

const notFoundPanel = (what, id) => html`<div class="panel"><h1>${what} not found</h1><p class="muted"><code>${id}</code> is not known to this node.</p></div>`

// ---------- overview ----------

/** Blocks the overview reads (one batched request of header-only blocks). */
const WINDOW = 100

function windowStats(blocks) {
  const sorted = blocks.filter(ok).sort((a, b) => a.header.height - b.header.height)
  if (sorted.length < 2) return { interval: undefined, txs: 0, execs: 0 }
  const span = (Number(sorted.at(-1).header.timestamp) - Number(sorted[0].header.timestamp)) / 1000
  const counted = sorted.slice(1)
  const txs = counted.filter((b) => ['ledger', 'deployment', 'execution'].includes(b.header.kind)).reduce((s, b) => s + b.entryIds.length, 0)
  const execs = counted.filter((b) => b.header.kind === 'execution').reduce((s, b) => s + b.entryIds.length, 0)
  return { interval: span / (sorted.length - 1), txs: span > 0 ? txs / span : 0, execs: span > 0 ? execs / span : 0 }
}

function blockRow(b, finalized) {
  return [
    blockLink(b.header.height),
    kindBadge(b.header.kind),
    num(b.entryIds.length),
    accountLink(b.header.proposer),
    time(b.header.timestamp),
    b.header.height <= finalized ? badge('final', 'ok') : badge('pending', 'warn'),
  ]
}

const BLOCK_HEAD = ['Height', 'Kind', 'Entries', 'Proposer', 'Time', 'Finality']

function activityOf(blocks) {
  const out = []
  let audits = 0
  for (const b of blocks) {
    if (!ok(b)) continue
    const k = b.header.kind
    for (const id of b.entryIds) {
      if (k === 'deployment') out.push([blockLink(b.header.height), 'deployment', assetLink(id)])
      else if (k === 'execution') out.push([blockLink(b.header.height), 'execution scheduled', executionLink(id)])
      else if (k === 'completion') out.push([blockLink(b.header.height), 'execution settled', executionLink(id)])
      else if (k === 'audit' && audits++ < 3) out.push([blockLink(b.header.height), 'storage audit', ''])
    }
  }
  return out.slice(0, 12)
}

export async function home({ view, live, isCurrent }) {
  const status = await call('xsc_chainStatus')
  const from = Math.max(0, status.head.height - WINDOW + 1)
  const [hosts, ...blocks] = await batch([['xsc_getHosts', [0, 1000]], ...range(from, status.head.height).reverse().map((h) => ['xsc_getBlockByHeight', [h, false]])])
  let recent = blocks.filter(ok)
  let finalized = status.finalized.height
  let head = status.head.height
  let hostList = ok(hosts) ? hosts : []
  let hostsAt = Date.now()

  const draw = () => {
    const s = windowStats(recent)
    const byStatus = HOST_STATUS.map((label, i) => [label, hostList.filter((h) => h.record.status === i).length]).filter(([, n]) => n > 0)
    putParts(view, html`
      <div class="page-head"><h1>Overview</h1><span class="sub">live from this node over WebSocket</span></div>
      <div class="stats" data-part="stats">
        <div class="stat"><div class="label">Head</div><div class="value" id="stat-head">${num(head)}</div><div class="sub">${link(`#/block/${head}`, 'latest block')}</div></div>
        <div class="stat"><div class="label">Finalized</div><div class="value" id="stat-final">${num(finalized)}</div><div class="sub">${Math.max(0, head - finalized)} behind head</div></div>
        <div class="stat"><div class="label">Block interval</div><div class="value">${s.interval === undefined ? '–' : `${s.interval.toFixed(2)} s`}</div><div class="sub">over the last ${recent.length} blocks</div></div>
        <div class="stat"><div class="label">Txs / s</div><div class="value">${s.txs.toFixed(2)}</div><div class="sub">ledger, deploy, execute</div></div>
        <div class="stat"><div class="label">Executions / s</div><div class="value">${s.execs.toFixed(2)}</div><div class="sub">scheduled</div></div>
        <div class="stat"><div class="label">Hosts</div><div class="value">${num(hostList.length)}</div><div class="sub">${byStatus.length ? byStatus.map(([l, n]) => `${n} ${l}`).join(' · ') : 'none joined'}</div></div>
      </div>
      <div class="grid two">
        <section class="panel"><h2>Latest blocks</h2><div data-part="blocks">${table(BLOCK_HEAD, recent.slice(0, 15).map((b) => blockRow(b, finalized)))}</div>
          <div class="pager">${link('#/blocks', 'All blocks →')}</div></section>
        <section class="panel"><h2>Recent compute and storage</h2><div data-part="recent">${table(['Block', 'What', 'Id'], activityOf(recent), 'No deployments, executions or audits in the last blocks.')}</div>
          <h2 style="margin-top:16px">Hosts by status</h2><div data-part="hosts">${table(['Status', 'Hosts'], byStatus.map(([l, n]) => [badge(l, statusTone(l)), num(n)]), 'No hosts have joined.')}</div>
          <div class="pager">${link('#/matrix', '3D host matrix →')}</div></section>
      </div>`)
  }
  draw()

  let redraw
  const offHead = live.on('newHeads', async (e) => {
    if (!isCurrent() || recent.some((x) => x.hash === e.hash)) return
    head = Math.max(head, e.height)
    const b = await call('xsc_getBlockByHeight', [e.height, false])
    if (!b || !isCurrent()) return
    recent = [b, ...recent.filter((x) => x.header.height !== b.header.height)].sort((x, y) => y.header.height - x.header.height).slice(0, WINDOW)
    if (Date.now() - hostsAt > 5000) {
      // Host statuses move with audits and joins: refresh them every few seconds, not every block.
      hostsAt = Date.now()
      const fresh = await call('xsc_getHosts', [0, 1000]).catch(() => undefined)
      if (fresh) hostList = fresh
    }
    clearTimeout(redraw)
    redraw = setTimeout(draw, 50)
  })
  const offFinal = live.on('finalizedHeads', (e) => {
    finalized = Math.max(finalized, e.height)
    head = Math.max(head, finalized)
    clearTimeout(redraw)
    redraw = setTimeout(draw, 50)
  })
  return { title: 'Overview', cleanup: () => { offHead(); offFinal(); clearTimeout(redraw) } }
}

// ---------- blocks ----------

const PAGE = 25

export async function blocks({ view, live, query, isCurrent }) {
  const status = await call('xsc_chainStatus')
  const before = query.has('before') ? Math.min(Number(query.get('before')), status.head.height + 1) : status.head.height + 1
  const top = before - 1
  const heights = range(Math.max(0, top - PAGE + 1), top).reverse()
  let list = (await batch(heights.map((h) => ['xsc_getBlockByHeight', [h, false]]))).filter(ok)
  let finalized = status.finalized.height
  const rows = () => table(BLOCK_HEAD, list.map((b) => blockRow(b, finalized)))
  // Live updates replace the rows only, so the pager links stay put under the pointer.
  const redrawRows = () => {
    const el = document.getElementById('blocks-list')
    if (el) el.innerHTML = rows().text
  }
  const draw = () => {
    const last = list.at(-1)?.header.height ?? 0
    put(view, html`
      <div class="page-head"><h1>Blocks</h1><span class="sub">${query.has('before') ? `below #${before}` : 'latest, live'}</span></div>
      <section class="panel"><div id="blocks-list">${rows()}</div>
        <div class="pager">
          ${query.has('before') ? link(`#/blocks?before=${Math.min(status.head.height + 1, before + PAGE)}`, '← Newer') : ''}
          ${last > 0 ? link(`#/blocks?before=${last}`, 'Older →') : ''}
        </div></section>`)
  }
  draw()
  if (query.has('before')) return { title: 'Blocks' }
  const off = live.on('newHeads', async (e) => {
    const b = await call('xsc_getBlockByHeight', [e.height, false])
    if (!b || !isCurrent()) return
    list = [b, ...list.filter((x) => x.header.height !== b.header.height)].sort((x, y) => y.header.height - x.header.height).slice(0, PAGE)
    redrawRows()
  })
  const offFinal = live.on('finalizedHeads', (e) => {
    finalized = Math.max(finalized, e.height)
  })
  return { title: 'Blocks', cleanup: () => { off(); offFinal() } }
}

function payloadSummary(p) {
  switch (p.type) {
    case 'transfer': return html`${amount(p.amount)} to ${accountLink(p.to)}`
    case 'host.join':
    case 'host.update': return html`at (${p.host.coord.x}, ${p.host.coord.y}, ${p.host.coord.z}) in <b>${p.host.zone}</b>, ${bytes(p.host.capacityBytes)}, asks ${amount(p.host.askPerFuel, false)}/fuel · ${amount(p.host.askPerByteEpoch, false)}/byte-epoch`
    case 'host.leave': return 'leaves the host set'
    case 'stake':
    case 'unstake': return amount(p.amount)
    case 'deploy': return html`${name(ASSET_KIND, p.assetKind)} of ${bytes(p.manifest.size)} as ${p.manifest.k}+${p.manifest.m} shards, deposit ${amount(p.deposit)}`
    case 'execute': return html`${p.fn}() on ${assetLink(p.asset)}, ${p.replicas} replicas / quorum ${p.quorum}, fuel ≤ ${num(p.fuelLimit)}${p.private ? ', private' : ''}`
    default: return p.type
  }
}

function entryTables(b) {
  const ids = b.entryIds
  const groups = new Map()
  b.entries.forEach((e, i) => {
    if (!groups.has(e.type)) groups.set(e.type, [])
    groups.get(e.type).push([e, ids[i], i])
  })
  const out = []
  for (const [type, list] of groups) {
    let t
    if (type === 'tx') t = table(['#', 'Tx', 'From', 'Type', 'Details', 'Fee'], list.map(([e, id, i]) => [i, txLink(id), accountLink(e.tx.body.from), badge(e.tx.body.payload.type), payloadSummary(e.tx.body.payload), amount(e.tx.body.fee)]))
    else if (type === 'deployment') t = table(['#', 'Asset', 'Deployer', 'Data', 'Placement'], list.map(([e, id, i]) => [i, assetLink(id), accountLink(e.tx.body.from), payloadSummary(e.tx.body.payload), html`${e.placement.map((h, s) => html`<div>${s}: ${hostLink(h)}</div>`)}`]))
    else if (type === 'execution') t = table(['#', 'Execution', 'Client', 'Request', 'Assigned', 'Escrow'], list.map(([e, id, i]) => [i, executionLink(id), accountLink(e.tx.body.from), payloadSummary(e.tx.body.payload), html`${e.assignment.map((h) => html`<div>${hostLink(h)}</div>`)}`, amount(e.escrow)]))
    else if (type === 'completion') t = table(['#', 'Execution', 'Status', 'Outcome', 'Fuel', 'Receipts', 'Paid', 'Refund'], list.map(([e, , i]) => [i, executionLink(e.executionId), badge(name(COMPLETION_STATUS, e.status), statusTone(name(COMPLETION_STATUS, e.status))), name(OUTCOME, e.outcome), num(e.fuelUsed), e.receipts.length, amount(e.payouts.reduce((s, p) => s + BigInt(p.amount), 0n)), amount(e.refund)]))
    else if (type === 'audit') t = list.map(([e]) => html`${facts([
      ['Epoch', e.epoch],
      ['Audits', `${e.results.filter((r) => r.outcome === 0).length} passed, ${e.results.filter((r) => r.outcome !== 0).length} failed`],
      ['Repairs', e.repairs.length],
      ['Rent paid', amount(e.rent.reduce((s, p) => s + BigInt(p.amount), 0n))],
      ['Expired assets', e.expired.length ? html`${e.expired.map((a) => html`<div>${assetLink(a)}</div>`)}` : 'none'],
    ])}${table(['Asset', 'Shard', 'Host', 'Chunk', 'Outcome'], e.results.slice(0, 200).map((r) => [assetLink(r.asset), r.shardIndex, hostLink(r.host), r.chunkIndex, badge(name(AUDIT_OUTCOME, r.outcome), statusTone(name(AUDIT_OUTCOME, r.outcome)))]), 'No challenges this epoch.')}`)
    else t = html`<p class="muted">${list.length} ${type} entr${list.length === 1 ? 'y' : 'ies'}</p>`
    out.push(html`<section class="panel"><h2 class="kind">${type[0].toUpperCase() + type.slice(1)} entries (${list.length})</h2>${t}</section>`)
  }
  return out
}

export async function block({ view, arg, live, isCurrent }) {
  const byHeight = /^\d+$/.test(arg)
  const [b, status] = await batch([[byHeight ? 'xsc_getBlockByHeight' : 'xsc_getBlockByHash', [byHeight ? Number(arg) : arg, true]], ['xsc_chainStatus', []]])
  if (!ok(b)) {
    put(view, notFoundPanel('Block', arg))
    return { title: 'Block not found' }
  }
  const h = b.header
  const draw = (finalHeight, headHeight) => put(view, html`
    <div class="page-head"><h1>Block #${num(h.height)} ${kindBadge(h.kind)}</h1>
      <span class="sub">${h.height > 0 ? link(`#/block/${h.height - 1}`, '← previous') : ''} ${h.height < headHeight ? link(`#/block/${h.height + 1}`, 'next →') : ''}</span></div>
    <section class="panel">${facts([
      ['Hash', html`<code>${b.hash}</code>`],
      ['Finality', h.height <= finalHeight ? badge('finalized', 'ok') : badge(`pending (final at ${finalHeight})`, 'warn')],
      ['Time', html`${time(h.timestamp)} · slot ${num(h.slot)}`],
      ['Proposer', accountLink(h.proposer)],
      ['Parent', h.height > 0 ? blockHashLink(h.prevHash) : '—'],
      ['State root', html`<code>${h.stateRoot}</code>`],
      ['Body root', html`<code>${h.bodyRoot}</code>`],
      ['Proofs', h.proofs.map((p) => p.scheme).join(', ') || 'none'],
      ['Entries', num(b.entryIds.length)],
    ])}</section>
    ${b.entries.length ? entryTables(b) : html`<section class="panel"><p class="empty">No entries: an empty ${h.kind} block keeps the slot.</p></section>`}`)
  draw(status.finalized.height, status.head.height)
  let fin = status.finalized.height
  let head = status.head.height
  const off1 = live.on('finalizedHeads', (e) => {
    if (!isCurrent()) return
    if (fin < h.height && e.height >= h.height) draw((fin = e.height), head)
    fin = Math.max(fin, e.height)
  })
  const off2 = live.on('newHeads', (e) => {
    if (isCurrent() && head === h.height && e.height > head) draw(fin, (head = e.height))
    head = Math.max(head, e.height)
  })
  return { title: `Block ${h.height}`, cleanup: () => { off1(); off2() } }
}

// ---------- tx ----------

export async function tx({ view, arg }) {
  const [t, st] = await batch([['xsc_getTransaction', [arg]], ['xsc_chainStatus', []]])
  if (!ok(t)) {
    put(view, notFoundPanel('Transaction', arg))
    return { title: 'Tx not found' }
  }
  const body = t.tx.body
  const p = body.payload
  put(view, html`
    <div class="page-head"><h1>Transaction ${badge(p.type)}</h1><span class="sub"><code>${t.id}</code></span></div>
    <section class="panel">${facts([
      ['Block', html`${blockLink(t.blockHeight)} (entry ${t.index}) · ${blockHashLink(t.blockHash)}`],
      ok(st) && ['Finality', t.blockHeight <= st.finalized.height ? badge('finalized', 'ok') : badge('pending', 'warn')],
      ['From', accountLink(body.from)],
      ['Nonce', body.nonce],
      ['Fee', amount(body.fee)],
      ['Chain', body.chainId],
      ['Payload', payloadSummary(p)],
      p.type === 'deploy' && ['Asset', assetLink(t.id)],
      p.type === 'execute' && ['Execution', executionLink(t.id)],
      p.type === 'deploy' && ['Data hash', html`<code>${p.manifest.dataHash}</code>`],
      p.type === 'execute' && ['Input', p.private ? 'private' : html`<code>${p.input}</code>`],
      ['Signature', html`<code>${short(t.tx.signature)}</code>`],
    ])}</section>`)
  return { title: `Tx ${short(t.id)}` }
}

// ---------- account ----------

/** Rows of one page, trimmed to whole blocks so the next page (beforeHeight) loses nothing. */
async function activityPage(subject, before, limit) {
  const rows = await call('xsc_getActivity', before === undefined ? [subject, null, limit] : [subject, before, limit])
  if (rows.length < limit) return { rows, next: undefined }
  const lastHeight = rows.at(-1).height
  if (rows[0].height === lastHeight) return { rows, next: lastHeight }
  return { rows: rows.filter((r) => r.height !== lastHeight), next: lastHeight + 1 }
}

function roleRef(r) {
  switch (r.role) {
    case ROLE.sent:
    case ROLE.received: return txLink(r.ref)
    case ROLE.assigned:
    case ROLE.receipt:
    case ROLE.payout: return executionLink(r.ref)
    case ROLE.shardPlaced:
    case ROLE.repaired: return html`${assetLink(r.ref)} shard ${r.aux}`
    case ROLE.auditPassed:
    case ROLE.auditFailed: return html`${assetLink(r.ref)} shard ${r.aux}`
    case ROLE.rent: return `epoch ${r.aux}`
    case ROLE.deployed: return accountLink(r.ref)
    default: return html`<code>${short(r.ref)}</code>`
  }
}

const roleBadge = (r) => {
  const label = name(ACTIVITY_ROLE, r.role)
  const tone = r.role === ROLE.auditFailed ? 'bad' : r.role === ROLE.receipt && r.aux === 0 ? 'bad' : [ROLE.payout, ROLE.rent, ROLE.received, ROLE.auditPassed].includes(r.role) ? 'ok' : ''
  return badge(r.role === ROLE.receipt ? (r.aux ? 'receipt (agreed)' : 'receipt (dissented)') : label, tone)
}

export async function account({ view, arg, query }) {
  const before = query.has('before') ? Number(query.get('before')) : undefined
  const [balance, nonce, host, page] = await Promise.all([call('xsc_getBalance', [arg]), call('xsc_getNonce', [arg]), call('xsc_getHost', [arg]), activityPage(arg, before, 50)])
  // The txs behind sent/received rows, to say what they were (one batch, at most 50).
  const txRows = page.rows.filter((r) => r.role === ROLE.sent || r.role === ROLE.received)
  const txs = new Map((await batch(txRows.map((r) => ['xsc_getTransaction', [r.ref]]))).map((t, i) => [txRows[i].ref, ok(t) ? t : undefined]))
  const what = (r) => {
    const t = txs.get(r.ref)
    if (!t) return ''
    const p = t.tx.body.payload
    return html`${badge(p.type)} ${payloadSummary(p)}`
  }
  const amountOf = (r) => (r.role === ROLE.sent ? html`<span class="muted">fee</span> ${amount(r.amount)}` : r.amount === '0' ? '' : amount(r.amount))
  put(view, html`
    <div class="page-head"><h1>Account</h1><span class="sub"><code>${arg}</code></span></div>
    <div class="stats">
      <div class="stat"><div class="label">Balance</div><div class="value" id="balance">${amount(balance)}</div></div>
      <div class="stat"><div class="label">Next nonce</div><div class="value">${num(nonce)}</div><div class="sub">txs sent, pending ones included</div></div>
      <div class="stat"><div class="label">Host</div><div class="value">${host ? link(`#/host/${arg}`, name(HOST_STATUS, host.record.status)) : 'no'}</div></div>
    </div>
    <section class="panel"><h2>Activity${before !== undefined ? ` below block ${before}` : ''}</h2>
      ${table(['Block', 'Role', 'Ref', 'What', 'Amount'], page.rows.map((r) => [blockLink(r.height), roleBadge(r), roleRef(r), what(r), amountOf(r)]), 'No transactions or payments yet.')}
      <div class="pager">${before !== undefined ? link(`#/account/${arg}`, '← Newest') : ''} ${page.next !== undefined ? link(`#/account/${arg}?before=${page.next}`, 'Older →') : ''}</div>
    </section>`)
  return { title: `Account ${short(arg)}` }
}

// ---------- execution ----------

function agrees(receipt, entry) {
  return receipt.body.outcome === entry.outcome && receipt.body.resultHash === entry.resultHash && receipt.body.fuelUsed === entry.fuelUsed
}

function outputCell(hex, isPrivate) {
  if (isPrivate) return badge('private', 'muted')
  const n = leUint(hex)
  return html`<code>${hex === '0x' ? '(empty)' : hex}</code>${n !== undefined && hex.length === 18 ? html` <span class="muted">= ${n} (u64 LE)</span>` : ''}`
}

export async function execution({ view, arg, live, isCurrent }) {
  const load = () => call('xsc_getExecution', [arg])
  const x = await load()
  if (!x) {
    put(view, notFoundPanel('Execution', arg))
    return { title: 'Execution not found' }
  }
  const draw = (x) => {
    const r = x.record
    const c = x.completion?.entry
    const receipts = c?.receipts ?? []
    const agreeing = c ? receipts.filter((rc) => agrees(rc, c)) : []
    const dissenting = c ? receipts.filter((rc) => !agrees(rc, c)) : []
    const answered = new Set(receipts.map((rc) => rc.body.host))
    const silent = c ? r.assignment.filter((h) => !answered.has(h)) : []
    const st = name(EXECUTION_STATUS, r.status)
    put(view, html`
      <div class="page-head"><h1>Execution ${badge(st, statusTone(st))}</h1><span class="sub"><code>${x.id}</code> · ${link(`#/matrix?execution=${x.id}`, 'show assignment in the host matrix')}</span></div>
      <div class="grid two">
        <section class="panel"><h2>Request</h2>${facts([
          ['Client', accountLink(r.client)],
          ['Asset', assetLink(r.asset)],
          ['Function', html`<code>${r.fn}</code>`],
          ['Input', outputCell(r.input, r.private)],
          ['Fuel limit', num(r.fuelLimit)],
          ['Bid', html`${amount(r.bidPerFuel)} per fuel`],
          ['Replicas / quorum', `${r.replicas} / ${r.quorum}`],
          ['Escrow', amount(r.escrow)],
          ['Origin', `(${r.origin.x}, ${r.origin.y}, ${r.origin.z})`],
          ['Scheduled', html`${blockLink(x.scheduled.height)} · slots ${num(r.startSlot)} → ${num(r.deadlineSlot)}`],
          ['Assigned hosts', html`${r.assignment.map((h) => html`<div>${hostLink(h)}</div>`)}`],
        ])}</section>
        <section class="panel"><h2>Result</h2>${c ? facts([
          ['Settled in', blockLink(x.completion.block.height)],
          ['Status', badge(name(COMPLETION_STATUS, c.status), statusTone(name(COMPLETION_STATUS, c.status)))],
          ['Outcome', name(OUTCOME, c.outcome)],
          ['Output', outputCell(c.output, r.private)],
          ['Result hash', html`<code>${c.resultHash}</code>`],
          ['Fuel used', num(c.fuelUsed)],
          ['Agreeing hosts', agreeing.length ? html`${agreeing.map((rc) => html`<div>${hostLink(rc.body.host)}</div>`)}` : 'none'],
          ['Dissenting hosts', dissenting.length ? html`${dissenting.map((rc) => html`<div>${hostLink(rc.body.host)}</div>`)}` : 'none'],
          ['No receipt', silent.length ? html`${silent.map((h) => html`<div>${hostLink(h)}</div>`)}` : 'none'],
          ['Refund to client', amount(c.refund)],
          ['Burned', amount(c.burn)],
          ['Writes', num(c.writeSet.length)],
        ]) : html`<p class="muted">Waiting for receipts; the page updates when the completion block lands.</p>`}</section>
      </div>
      ${c ? html`
        <section class="panel"><h2>Receipts</h2>${table(['Host', 'Verdict', 'Outcome', 'Fuel', 'Result hash'], receipts.map((rc) => [hostLink(rc.body.host), agrees(rc, c) ? badge('agrees', 'ok') : badge('dissents', 'bad'), name(OUTCOME, rc.body.outcome), num(rc.body.fuelUsed), html`<code>${short(rc.body.resultHash)}</code>`]))}</section>
        <div class="grid two">
          <section class="panel"><h2>Payouts</h2>${table(['To', 'Amount'], c.payouts.map((p) => [accountLink(p.to), amount(p.amount)]), 'No payouts.')}</section>
          <section class="panel"><h2>Reputation changes</h2>${table(['Host', 'Cause', 'Before', 'After'], c.reputation.map((ch) => [hostLink(ch.host), name(REPUTATION_CAUSE, ch.cause), reputation(ch.before), reputation(ch.after)]), 'None.')}</section>
        </div>` : ''}`)
  }
  draw(x)
  if (x.completion) return { title: `Execution ${short(arg)}` }
  const off = live.on('newHeads', async () => {
    const y = await load()
    if (y && isCurrent()) {
      draw(y)
      if (y.completion) off()
    }
  })
  return { title: `Execution ${short(arg)}`, cleanup: off }
}

// ---------- asset ----------

export async function asset({ view, arg, params, status }) {
  const [a, page, st] = await Promise.all([call('xsc_getAsset', [arg]), activityPage(arg, undefined, 200), call('xsc_chainStatus')])
  if (!a) {
    put(view, notFoundPanel('Asset', arg))
    return { title: 'Asset not found' }
  }
  const r = a.record
  const m = r.manifest
  const hosts = await batch(r.placement.map((h) => ['xsc_getHost', [h]]))
  // Rent per epoch: each shard pays min(its host's ask, the asset's bid) per byte-epoch (computeStorageRent).
  const perEpoch = r.placement.reduce((s, _h, i) => {
    const ask = ok(hosts[i]) ? BigInt(hosts[i].record.params.askPerByteEpoch) : 0n
    const bid = BigInt(r.bidPerByteEpoch)
    return s + (ask < bid ? ask : bid) * BigInt(m.shardSize)
  }, 0n)
  const epochsLeft = perEpoch > 0n ? BigInt(r.deposit) / perEpoch : undefined
  const epochSlots = params.params.auditEpochSlots
  const head = await call('xsc_getBlockByHeight', [st.head.height, false])
  const epochNow = head ? Math.floor(head.header.slot / epochSlots) : 0
  const grace = params.params.rentGraceEpochs
  const ast = name(ASSET_STATUS, r.status)
  const expiry = r.status === 2 ? 'expired' : r.exhaustedEpoch != null ? `deposit ran out in epoch ${r.exhaustedEpoch}; expires at epoch ${r.exhaustedEpoch + grace}` : epochsLeft === undefined ? '—' : `≈ ${num(epochsLeft)} more epochs of rent (${amount(perEpoch)} per epoch), then ${grace} grace epochs: ≈ epoch ${num(BigInt(epochNow) + epochsLeft + BigInt(grace))} (now ${epochNow}, ${num(epochSlots)} slots each)`
  const audits = page.rows.filter((x) => [ROLE.auditPassed, ROLE.auditFailed, ROLE.repaired, ROLE.expired, ROLE.deployed].includes(x.role))
  put(view, html`
    <div class="page-head"><h1>Asset ${badge(ast, statusTone(ast))}</h1><span class="sub"><code>${a.id}</code> · ${link(`#/matrix?asset=${a.id}`, 'show placement in the host matrix')}</span></div>
    <div class="grid two">
      <section class="panel"><h2>Manifest</h2>${facts([
        ['Kind', name(ASSET_KIND, r.kind)],
        ['Owner', accountLink(r.owner)],
        ['Deploy tx', txLink(a.id)],
        ['Size', `${bytes(m.size)} (${num(m.size)} bytes)`],
        ['Data hash', html`<code>${m.dataHash}</code>`],
        ['Erasure coding', `${m.k} data + ${m.m} parity shards of ${bytes(m.shardSize)}`],
        ['Segment / chunk', `${bytes(m.segmentSize)} / ${bytes(m.chunkSize)}`],
        ['Created', blockLink(r.createdHeight)],
      ])}</section>
      <section class="panel"><h2>Deposit and expiry</h2>${facts([
        ['Deposit left', amount(r.deposit)],
        ['Bid', html`${amount(r.bidPerByteEpoch)} per byte-epoch`],
        ['Status', badge(ast, statusTone(ast))],
        ['Expiry', expiry],
        ['Healthy shards', `${a.shards.filter((s) => s.healthy).length} of ${a.shards.length} (any ${m.k} rebuild the data)`],
      ])}</section>
    </div>
    <section class="panel"><h2>Shards and their hosts</h2>${table(['Shard', 'Host', 'Zone', 'Shard hash', 'Failures', 'Health'], a.shards.map((s, i) => [
      s.index < m.k ? `${s.index} (data)` : `${s.index} (parity)`,
      hostLink(s.host),
      ok(hosts[i]) ? hosts[i].record.params.zone : '—',
      html`<code>${short(m.shardHashes[s.index])}</code>`,
      s.failures,
      s.healthy ? badge('healthy', 'ok') : badge('failing', 'bad'),
    ]))}</section>
    <section class="panel"><h2>Audit history</h2>${table(['Block', 'Event', 'Shard', 'Host'], audits.map((x) => [
      blockLink(x.height),
      x.role === ROLE.auditPassed ? badge('audit passed', 'ok') : x.role === ROLE.auditFailed ? badge('audit failed', 'bad') : badge(name(ACTIVITY_ROLE, x.role)),
      x.role === ROLE.expired || x.role === ROLE.deployed ? '' : x.aux,
      x.role === ROLE.expired ? `epoch ${x.aux}` : x.role === ROLE.deployed ? accountLink(x.ref) : hostLink(x.ref),
    ]), 'Not audited yet (audits run once per epoch).')}</section>`)
  return { title: `Asset ${short(arg)}` }
}

// ---------- host ----------

export async function host({ view, arg, params }) {
  const [h, page] = await Promise.all([call('xsc_getHost', [arg]), activityPage(arg, undefined, 500)])
  if (!h) {
    put(view, notFoundPanel('Host', arg))
    return { title: 'Host not found' }
  }
  const r = h.record
  const p = r.params
  const epochSlots = params.params.auditEpochSlots
  const earnings = new Map()
  for (const x of page.rows) {
    if (x.role !== ROLE.payout && x.role !== ROLE.rent) continue
    const epoch = x.role === ROLE.rent ? x.aux : Math.floor(x.slot / epochSlots)
    const e = earnings.get(epoch) ?? { compute: 0n, rent: 0n }
    if (x.role === ROLE.payout) e.compute += BigInt(x.amount)
    else e.rent += BigInt(x.amount)
    earnings.set(epoch, e)
  }
  const shards = new Map()
  for (const x of [...page.rows].reverse()) if (x.role === ROLE.shardPlaced || x.role === ROLE.repaired) shards.set(`${x.ref}/${x.aux}`, x)
  const shardList = [...shards.values()].slice(-100)
  const assets = await batch(shardList.map((x) => ['xsc_getAsset', [x.ref]]))
  const passed = page.rows.filter((x) => x.role === ROLE.auditPassed).length
  const failed = page.rows.filter((x) => x.role === ROLE.auditFailed).length
  const receipts = page.rows.filter((x) => x.role === ROLE.receipt)
  const events = [...h.events].reverse()
  put(view, html`
    <div class="page-head"><h1>Host ${hostStatus(r.status)}</h1><span class="sub"><code>${h.address}</code> · ${link(`#/account/${h.address}`, 'account')} · ${link(`#/matrix?host=${h.address}`, 'in the matrix')}</span></div>
    <div class="stats">
      <div class="stat"><div class="label">Reputation</div><div class="value">${repCell(r.reputation)}</div></div>
      <div class="stat"><div class="label">Audits</div><div class="value">${passed} / ${failed}</div><div class="sub">passed / failed (recent); ${r.failedAudits} consecutive failures now</div></div>
      <div class="stat"><div class="label">Receipts</div><div class="value">${receipts.filter((x) => x.aux).length} / ${receipts.filter((x) => !x.aux).length}</div><div class="sub">agreed / dissented</div></div>
      <div class="stat"><div class="label">Storage</div><div class="value">${bytes(r.usedBytes)}</div><div class="sub">of ${bytes(p.capacityBytes)}</div></div>
    </div>
    <div class="grid two">
      <section class="panel"><h2>Offer</h2>${facts([
        ['Coordinates', `(${p.coord.x}, ${p.coord.y}, ${p.coord.z})`],
        ['Zone', p.zone],
        ['Capacity', bytes(p.capacityBytes)],
        ['Capabilities', ['storage', 'compute', 'private'].filter((_, i) => p.capabilities & (1 << i)).join(', ') || 'none'],
        ['Ask per fuel', amount(p.askPerFuel)],
        ['Ask per byte-epoch', amount(p.askPerByteEpoch)],
        ['Bond', 'not part of the host record (hosts post no bond in this protocol version)'],
        ['Joined', blockLink(r.joinedHeight)],
        ['Peer id', html`<code>${short(p.peerId)}</code>`],
      ])}</section>
      <section class="panel"><h2>Earnings per epoch</h2><div class="scroll">${table(['Epoch', 'Compute payouts', 'Storage rent', 'Total'], [...earnings.entries()].sort((a, b) => b[0] - a[0]).map(([ep, e]) => [ep, e.compute ? amount(e.compute) : '–', e.rent ? amount(e.rent) : '–', amount(e.compute + e.rent)]), 'Nothing earned yet.')}</div></section>
    </div>
    <section class="panel"><h2>Reputation history</h2><div class="scroll">${table(['Block', 'Cause', 'Move', 'Subject'], events.map((e) => [
      blockLink(e.height),
      badge(name(REPUTATION_CAUSE, e.cause), e.after >= e.before ? 'ok' : 'bad'),
      html`${reputation(e.before)} → ${reputation(e.after)} <span class="muted">(${e.after >= e.before ? '+' : ''}${((e.after - e.before) / 100).toFixed(2)})</span>`,
      e.cause >= 3 ? executionLink(e.subject) : blockHashLink(e.subject),
    ]), 'No reputation moves yet.')}</div></section>
    <section class="panel"><h2>Shards</h2>${table(['Asset', 'Shard', 'Since', 'Now'], shardList.map((x, i) => [
      assetLink(x.ref), x.aux, blockLink(x.height),
      ok(assets[i]) ? (assets[i].record.placement[x.aux] === h.address ? badge('held', 'ok') : badge('moved away', 'muted')) : badge('gone', 'muted'),
    ]), 'No shards placed on this host.')}</section>`)
  return { title: `Host ${short(arg)}` }
}

// ---------- hosts ----------

export async function hosts({ view }) {
  const list = await call('xsc_getHosts', [0, 1000])
  put(view, html`
    <div class="page-head"><h1>Hosts</h1><span class="sub">${list.length} joined · ${link('#/matrix', '3D matrix')}</span></div>
    <section class="panel">${hostTable(list)}</section>`)
  return { title: 'Hosts' }
}

export function hostTable(list) {
  return table(['Host', 'Zone', 'Coordinates', 'Capacity', 'Used', 'Reputation', 'Status'], list.map((h) => [
    hostLink(h.address), h.record.params.zone, `(${h.record.params.coord.x}, ${h.record.params.coord.y}, ${h.record.params.coord.z})`,
    bytes(h.record.params.capacityBytes), bytes(h.record.usedBytes), repCell(h.record.reputation), hostStatus(h.record.status),
  ]), 'No hosts have joined.')
}

// ---------- 3D matrix ----------

export async function matrix(ctx) {
  const { view, query, live, isCurrent, params } = ctx
  const list = await call('xsc_getHosts', [0, 1000])
  put(view, html`
    <div class="page-head"><h1>Host matrix</h1><span class="sub">hosts at their (x, y, z) · colour = reputation · size = capacity · boxes = zones · live</span></div>
    <div class="matrix">
      <div>
        <div class="matrix-canvas" id="matrix-canvas"><div class="overlay" id="matrix-overlay">Loading 3D view…</div><div class="tip" id="matrix-tip"></div></div>
        <div class="legend"><span><i style="background:${reputationColor(0)}"></i>0 %</span><span><i style="background:${reputationColor(5000)}"></i>50 %</span><span><i style="background:${reputationColor(10000)}"></i>100 % reputation</span><span>drag to turn · wheel to zoom · click a host</span></div>
      </div>
      <aside class="panel side">
        <h2>Show</h2>
        <form id="sel-asset"><label for="asset-id">Asset placement</label><input id="asset-id" placeholder="asset id 0x…" value="${query.get('asset') ?? ''}"><div class="row"><button type="submit">Draw</button></div></form>
        <form id="sel-exec"><label for="exec-id">Execution assignment</label><input id="exec-id" placeholder="execution id 0x…" value="${query.get('execution') ?? ''}"><div class="row"><button type="submit">Draw</button><button type="button" class="ghost" id="sel-clear">Clear</button></div></form>
        <div id="sel-info" class="muted" style="margin-top:12px"></div>
      </aside>
    </div>
    <section class="panel" style="margin-top:16px"><h2>Hosts</h2><div id="matrix-table">${hostTable(list)}</div></section>`)

  const info = document.getElementById('sel-info')
  let scene
  try {
    const mod = await import('./matrix.js')
    if (!isCurrent()) return
    scene = await mod.createMatrix(document.getElementById('matrix-canvas'), { gridSize: params.params.gridSize, onPick: (addr) => (location.hash = `#/host/${addr}`) })
  } catch (err) {
    console.warn('3D view unavailable', err)
  }
  const overlay = document.getElementById('matrix-overlay')
  if (!scene) {
    document.getElementById('matrix-canvas').classList.add('off')
    document.getElementById('matrix-canvas').innerHTML = '<div class="nogl" id="nogl"><b>The 3D view needs WebGL, which this browser does not offer.</b><br>Everything else works: the host table below has the same data.</div>'
  } else {
    scene.setHosts(list)
    overlay.textContent = `${list.length} hosts`
  }

  const select = async (kind, id) => {
    if (!id) return
    if (kind === 'asset') {
      const a = await call('xsc_getAsset', [id]).catch(() => null)
      if (!a) {
        info.innerHTML = html`<span class="error">No asset ${short(id)}</span>`.text
        return
      }
      scene?.showSelection(a.record.placement.map((h, i) => ({ host: h, label: `shard ${i}` })), undefined)
      info.innerHTML = html`Placement of ${assetLink(id)}: ${a.record.placement.length} shards on ${new Set(a.record.placement).size} hosts.`.text
    } else {
      const x = await call('xsc_getExecution', [id]).catch(() => null)
      if (!x) {
        info.innerHTML = html`<span class="error">No execution ${short(id)}</span>`.text
        return
      }
      scene?.showSelection(x.record.assignment.map((h) => ({ host: h, label: 'assigned' })), x.record.origin)
      info.innerHTML = html`Assignment of ${executionLink(id)}: ${x.record.assignment.length} hosts from origin (${x.record.origin.x}, ${x.record.origin.y}, ${x.record.origin.z}).`.text
    }
  }
  document.getElementById('sel-asset').addEventListener('submit', (e) => {
    e.preventDefault()
    void select('asset', document.getElementById('asset-id').value.trim())
  })
  document.getElementById('sel-exec').addEventListener('submit', (e) => {
    e.preventDefault()
    void select('execution', document.getElementById('exec-id').value.trim())
  })
  document.getElementById('sel-clear').addEventListener('click', () => {
    scene?.showSelection([], undefined)
    info.textContent = ''
  })
  if (query.get('asset')) await select('asset', query.get('asset'))
  else if (query.get('execution')) await select('execution', query.get('execution'))
  if (query.get('host')) scene?.highlight(query.get('host'))

  // Live: refresh hosts (reputation, capacity, joins) at most every 2 s as blocks arrive.
  let last = 0
  let timer
  const refresh = async () => {
    last = Date.now()
    const fresh = await call('xsc_getHosts', [0, 1000])
    if (!isCurrent()) return
    scene?.setHosts(fresh)
    if (scene) overlay.textContent = `${fresh.length} hosts · updated ${new Date().toLocaleTimeString()}`
    document.getElementById('matrix-table').innerHTML = hostTable(fresh).text
  }
  const off = live.on('newHeads', () => {
    clearTimeout(timer)
    timer = setTimeout(refresh, Math.max(0, 2000 - (Date.now() - last)))
  })
  return { title: 'Host matrix', cleanup: () => { off(); clearTimeout(timer); scene?.dispose() } }
}

export async function notFound({ view, arg }) {
  put(view, html`<div class="panel"><h1>Nothing found</h1><p class="muted">${arg ? html`<code>${arg}</code> is neither a block height nor a 32-byte hex id or address.` : 'This page does not exist.'}</p><p>${link('#/', 'Back to the overview')}</p></div>`)
  return { title: 'Not found' }
}

export { raw }
