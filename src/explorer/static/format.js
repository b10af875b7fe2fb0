// Formatting helpers: escaping, links, amounts, names of protocol constants.
// Names mirror blocks/schema.ts and src/state/records.ts (the RPC sends the numbers).

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Marks a string as already-escaped HTML. */
export class Html {
  constructor(text) {
    this.text = text
  }
  toString() {
    return this.text
  }
}

export const raw = (text) => new Html(text)

function escapeValue(v) {
  if (v instanceof Html) return v.text
  if (Array.isArray(v)) return v.map(escapeValue).join('')
  if (v === undefined || v === null || v === false) return ''
  return String(v).replace(/[&<>"']/g, (c) => ESC[c])
}

/** Tagged template: interpolated values are escaped unless they are Html. */
export function html(strings, ...values) {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += escapeValue(values[i]) + strings[i + 1]
  return new Html(out)
}

export const short = (hex) => (typeof hex === 'string' && hex.length > 18 ? `${hex.slice(0, 10)}…${hex.slice(-6)}` : hex ?? '')

export const link = (href, text, title) => html`<a href="${href}" title="${title ?? ''}">${text}</a>`
export const blockLink = (height) => link(`#/block/${height}`, `#${height}`)
export const hashLink = (kind, hex) => link(`#/${kind}/${hex}`, html`<code>${short(hex)}</code>`, hex)
export const accountLink = (hex) => hashLink('account', hex)
export const hostLink = (hex) => hashLink('host', hex)
export const assetLink = (hex) => hashLink('asset', hex)
export const txLink = (hex) => hashLink('tx', hex)
export const executionLink = (hex) => hashLink('execution', hex)
export const blockHashLink = (hex) => hashLink('block', hex)

let decimals = 9
let symbol = 'XSC'
export function setToken(tokenSymbol, tokenDecimals) {
  symbol = tokenSymbol
  decimals = tokenDecimals
}

/** Base units (decimal string) → "1,234.5 XSC"; exact (string arithmetic, no floats). */
export function amount(units, withSymbol = true) {
  const s = String(units ?? '0').padStart(decimals + 1, '0')
  const whole = s.slice(0, s.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const frac = s.slice(s.length - decimals).replace(/0+$/, '')
  return `${whole}${frac ? '.' + frac : ''}${withSymbol ? ' ' + symbol : ''}`
}

export const num = (n) => Number(n).toLocaleString('en-US')

export function bytes(n) {
  const v = Number(n)
  if (v < 1024) return `${v} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let x = v
  let i = -1
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024
    i++
  }
  return `${x.toFixed(x < 10 ? 1 : 0)} ${units[i]}`
}

export function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - Number(ms)) / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

export const time = (ms) => html`<time datetime="${new Date(Number(ms)).toISOString()}" title="${new Date(Number(ms)).toISOString()}">${ago(ms)}</time>`

export const reputation = (bp) => `${(bp / 100).toFixed(2)} %`

export const HOST_STATUS = ['active', 'draining', 'suspended', 'disqualified', 'left']
export const ASSET_STATUS = ['active', 'graced', 'expired']
export const ASSET_KIND = ['blob', 'module', 'component']
export const EXECUTION_STATUS = ['pending', 'completed', 'failed']
export const COMPLETION_STATUS = ['agreed', 'failed']
export const OUTCOME = ['ok', 'trap', 'out of fuel', 'limit', 'invalid']
export const AUDIT_OUTCOME = ['pass', 'fail', 'no answer']
export const REPUTATION_CAUSE = ['audit passed', 'audit failed', 'audit unanswered', 'receipt agreed', 'receipt dissented', 'no-show']
export const ACTIVITY_ROLE = ['sent', 'received', 'shard placed', 'assigned', 'receipt', 'payout', '(unused)', 'rent', 'audit passed', 'audit failed', 'repaired', 'expired', 'deployed']
export const ROLE = { sent: 0, received: 1, shardPlaced: 2, assigned: 3, receipt: 4, payout: 5, rent: 7, auditPassed: 8, auditFailed: 9, repaired: 10, expired: 11, deployed: 12 }

export const name = (table, i) => table[i] ?? `#${i}`

export function badge(text, tone) {
  return html`<span class="badge ${tone ?? ''}">${text}</span>`
}

export const statusTone = (s) => ({ active: 'ok', agreed: 'ok', completed: 'ok', pass: 'ok', ok: 'ok', healthy: 'ok', draining: 'warn', graced: 'warn', pending: 'warn', suspended: 'bad', disqualified: 'bad', failed: 'bad', fail: 'bad', expired: 'bad', left: 'muted' })[s] ?? ''

/** Reputation basis points → a colour from red (0) through amber to green (10000). */
export function reputationColor(bp) {
  const t = Math.max(0, Math.min(1, bp / 10000))
  const hue = Math.round(t * 130)
  return `hsl(${hue} 70% 45%)`
}

/** A key-value table. Rows: [label, value] (values escaped unless Html). */
export function facts(rows) {
  return html`<dl class="facts">${rows.filter(Boolean).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`
}

/** A table with a header; rows are arrays of cells. */
export function table(head, rows, empty = 'Nothing yet.') {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`
  return html`<div class="table-wrap"><table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table></div>`
}

/** Hex of little-endian bytes as an unsigned integer when it is 1–8 bytes (e.g. a u64 result). */
export function leUint(hex) {
  const b = hex.slice(2)
  if (b.length === 0 || b.length > 16) return undefined
  let v = 0n
  for (let i = b.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(b.slice(i, i + 2), 16))
  return v.toString()
}
