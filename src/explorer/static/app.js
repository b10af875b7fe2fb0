// The explorer's shell: hash routing, the search box, the live head/final pill.
import { call, batch, Live, RpcError } from './rpc.js'
import { html, setToken } from './format.js'
import * as pages from './pages.js'

const view = document.getElementById('view')
const live = new Live()
const ctx = { live, params: undefined, status: undefined }

/** Routes: #/<name>/<arg>?query */
const ROUTES = {
  '': pages.home,
  blocks: pages.blocks,
  block: pages.block,
  tx: pages.tx,
  account: pages.account,
  execution: pages.execution,
  asset: pages.asset,
  host: pages.host,
  hosts: pages.hosts,
  matrix: pages.matrix,
  search: pages.notFound,
}

let current = { cleanup: undefined, token: 0 }

async function render() {
  const hash = location.hash.replace(/^#\/?/, '')
  const [path, query = ''] = hash.split('?')
  const [name = '', arg = ''] = path.split('/')
  const page = ROUTES[name] ?? pages.notFound
  current.cleanup?.()
  const token = ++current.token
  for (const a of document.querySelectorAll('.top nav a')) a.classList.toggle('active', a.getAttribute('href') === `#/${name}`)
  // Each render gets its own element: a slow page that finishes after the user moved on writes
  // into a detached element, never over the page now shown.
  const pageView = document.createElement('div')
  pageView.innerHTML = '<p class="loading">Loading…</p>'
  view.replaceChildren(pageView)
  try {
    const out = await page({ ...ctx, arg: decodeURIComponent(arg), query: new URLSearchParams(query), view: pageView, isCurrent: () => token === current.token })
    if (token !== current.token) {
      out?.cleanup?.()
      return
    }
    current.cleanup = out?.cleanup
    document.title = out?.title ? `${out.title} · XSC explorer` : 'XSC explorer'
  } catch (err) {
    if (token !== current.token) return
    console.warn(err)
    pageView.innerHTML = html`<div class="panel"><h1>Could not load this page</h1><p class="error">${err instanceof RpcError ? `${err.message} (${err.code})` : String(err.message ?? err)}</p></div>`.text
  }
}

// ---------- search: a height, or a 32-byte hex id/address ----------

const HEX32 = /^(0x)?[0-9a-fA-F]{64}$/

/** Where a query leads: block height, or the first kind of object the id names. */
export async function resolveSearch(q) {
  const s = q.trim()
  if (/^\d{1,10}$/.test(s)) return `#/block/${Number(s)}`
  if (!HEX32.test(s)) return undefined
  const id = (s.startsWith('0x') ? s : '0x' + s).toLowerCase()
  const [block, execution, asset, tx, host] = await batch([
    ['xsc_getBlockByHash', [id, false]],
    ['xsc_getExecution', [id]],
    ['xsc_getAsset', [id]],
    ['xsc_getTransaction', [id]],
    ['xsc_getHost', [id]],
  ])
  const found = (v) => v !== null && v !== undefined && !(v instanceof RpcError)
  if (found(block)) return `#/block/${id}`
  if (found(execution)) return `#/execution/${id}`
  if (found(asset)) return `#/asset/${id}`
  if (found(tx)) return `#/tx/${id}`
  if (found(host)) return `#/host/${id}`
  return `#/account/${id}`
}

document.getElementById('search').addEventListener('submit', async (e) => {
  e.preventDefault()
  const input = document.getElementById('search-input')
  const q = input.value
  const target = await resolveSearch(q).catch(() => undefined)
  if (target) {
    input.value = ''
    location.hash = target
  } else location.hash = `#/search/${encodeURIComponent(q.trim())}`
})

// ---------- live pill ----------

const pillHead = document.getElementById('pill-head')
const pillFinal = document.getElementById('pill-final')
live.onState((up) => document.getElementById('live-dot').classList.toggle('up', up))
live.on('newHeads', (e) => {
  pillHead.textContent = String(e.height)
})
live.on('finalizedHeads', (e) => {
  pillFinal.textContent = String(e.height)
})

async function start() {
  const [params, status] = await Promise.all([call('xsc_getChainParams'), call('xsc_chainStatus')])
  ctx.params = params
  ctx.status = status
  setToken(params.tokenSymbol, params.tokenDecimals)
  pillHead.textContent = String(status.head.height)
  pillFinal.textContent = String(status.finalized.height)
  document.getElementById('footer').textContent = `Chain ${params.chainId} · slot ${params.slotMs} ms · served by this node, no external requests.`
  window.addEventListener('hashchange', render)
  await render()
}

start().catch((err) => {
  view.innerHTML = html`<div class="panel"><h1>The node did not answer</h1><p class="error">${String(err.message ?? err)}</p></div>`.text
})
