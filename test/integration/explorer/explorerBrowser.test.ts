import { existsSync, mkdirSync } from 'node:fs'

import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { ACTIVITY_ROLE } from '../../../src/chain/accountActivity.ts'
import { transfer, waitForTransaction } from '../../../src/client/index.ts'
import { fromHex, toHex } from '../../../src/crypto/index.ts'
import { type ComputeNetwork, startComputeNetwork } from '../../support/computeNetwork.ts'
import { waitFor } from '../../support/nodeProcess.ts'

/**
 * The explorer in a real headless Chromium (software WebGL) against a real network: one
 * validator and four hosts as separate processes, with a deploy → execute round trip for data.
 * Screenshots go to .tmp/screenshots (gitignored).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SHOTS = '.tmp/screenshots'

let net: ComputeNetwork
let browser: Browser
let page: Page
let base: string
let asset: string
let execution: string
let transferId: string
let completionHeight: number
const problems: string[] = []
const external: string[] = []

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (CI: .ci/run does it)`)
  mkdirSync(SHOTS, { recursive: true })
  const t0 = performance.now()
  const [n, b] = await Promise.all([
    startComputeNetwork({ name: 'explorer', validators: 1, hosts: 4, auditEpochSlots: 6, slotMs: 500, params: { dataShards: 2, parityShards: 2 } }),
    puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--window-size=1440,900'] }),
  ])
  net = n
  browser = b
  base = net.validators[0]!.rpc.replace(/\/$/, '')
  await net.waitForHosts(4)
  const assetId = await net.deployFixture('fixtures/wasm/fib.wasm')
  asset = toHex(assetId)
  const done = await net.executeAndWait(assetId, u32(20), { replicas: 3, quorum: 2 })
  execution = toHex(done.id)
  completionHeight = done.completion.block.height
  const sent = await transfer(net.rpc(), { account: net.client, to: net.hostKeys[0]!.publicKey, amount: 12_345_000_000n, fee: 1n })
  await waitForTransaction(net.rpc(), { id: sent, timeoutMs: 20_000 })
  transferId = toHex(sent)
  console.log(`explorer test: network and data ready in ${Math.round(performance.now() - t0)} ms`)

  page = await browser.newPage()
  await page.setViewport({ width: 1440, height: 900 })
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`))
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url())
  })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await net?.close()
})

async function go(hash: string, ready: string): Promise<void> {
  await page.goto(`${base}/#${hash}`, { waitUntil: 'domcontentloaded' })
  await page.waitForSelector(ready, { timeout: 15_000 })
}

// In-page code is passed as strings: the test is compiled without the DOM library.
const text = (selector = 'main'): Promise<string> => page.evaluate(`document.querySelector(${JSON.stringify(selector)}).innerText`) as Promise<string>
const shot = (name: string): Promise<unknown> => page.screenshot({ path: `${SHOTS}/${name}.png` })

describe('the explorer in headless Chromium against a real network', () => {
  it('overview shows live head and finalized heights, rates and hosts by status; the head rises on screen', async () => {
    await go('/', '#stat-head')
    const main = await text()
    expect(main).toMatch(/Block interval\s+\d+\.\d+ s/i)
    expect(main).toMatch(/Txs \/ s\s+\d+\.\d+/i)
    expect(main).toMatch(/Executions \/ s\s+\d+\.\d+/i)
    // Hosts by status: all four, whatever audits under load did to them (active, suspended…).
    expect(main).toMatch(/Hosts\s+4\s+\d+ active/i)
    expect(main).toMatch(/execution settled/)
    const first = Number((await text('#pill-head')).replace(/\D/g, ''))
    const firstStat = Number((await text('#stat-head')).replace(/\D/g, ''))
    expect(first).toBeGreaterThan(0)
    // Live over the WebSocket: the numbers grow without a reload.
    const start = Math.max(first, firstStat)
    await page.waitForFunction(`Number(document.getElementById('pill-head').textContent) > ${start} && Number(document.getElementById('stat-head').textContent.replace(/\\D/g, '')) > ${start}`, { timeout: 15_000 })
    expect(await page.$eval('#live-dot', (el) => el.classList.contains('up'))).toBe(true)
    await shot('overview')
  })

  it('blocks list pages back, and a block shows its entries by kind', async () => {
    // More blocks than one page (25), so there is an older page to go to.
    await page.waitForFunction(`Number(document.getElementById('pill-head').textContent) > 26`, { timeout: 30_000 })
    await go('/blocks', 'main table')
    expect(await text()).toContain('Older')
    await page.evaluate(`document.querySelector('.pager a:last-child').click()`)
    await page.waitForFunction(`location.hash.startsWith('#/blocks?before=')`)
    await page.waitForSelector('main table')
    await shot('blocks')
    const found = completionHeight
    await go(`/block/${found}`, 'main h2.kind')
    const main = await text()
    expect(main).toContain(`Block #${found}`)
    expect(main).toMatch(/completion entries \(1\)/i)
    expect(main).toContain('agreed')
    await shot('block-completion')
    // By hash too, with the previous/next links.
    const hash = await page.$eval('main dd code', (el) => el.textContent!)
    await go(`/block/${hash}`, 'main h2.kind')
    expect(await text()).toContain(`Block #${found}`)
  })

  it('a tx page and an account with its balance and txs', async () => {
    await go(`/tx/${transferId}`, 'main .facts')
    const tx = await text()
    expect(tx).toContain('transfer')
    expect(tx).toContain('12.345 XSC')
    await shot('tx')
    await go(`/account/${toHex(net.client.publicKey)}`, '#balance')
    const acc = await text()
    expect(acc).toMatch(/Balance\s+[\d,.]+ XSC/i)
    expect(acc).toContain('sent')
    expect(await page.$$eval('main tbody tr', (rows) => rows.length)).toBeGreaterThanOrEqual(3)
    await shot('account')
  })

  it('an execution: input, output, receipts, agreeing hosts, fuel, payouts and refund', async () => {
    await go(`/execution/${execution}`, 'main .facts')
    const main = await text()
    expect(main).toContain('completed')
    expect(main).toContain('6765')
    expect(main).toMatch(/Fuel used\s+[\d,]+/)
    expect(main).toMatch(/Agreeing hosts/)
    expect(main).toMatch(/Refund to client/)
    expect(await page.$$eval('main tbody tr', (rows) => rows.length)).toBeGreaterThanOrEqual(3)
    expect(main).toContain('agrees')
    await shot('execution')
  })

  it('an asset: manifest, shards and hosts, health, audit history, deposit and expiry', async () => {
    // The page is drawn once: wait on the chain for the asset's first passed audit, then draw it.
    await waitFor(async () => {
      const rows = await net.rpc().request('xsc_getActivity', [fromHex(asset), undefined, 200])
      return rows.some((r) => r.role === ACTIVITY_ROLE.auditPassed) || undefined
    }, 60_000, 'a passed audit of the asset')
    await go(`/asset/${asset}`, 'main .facts')
    const main = await text()
    expect(main).toContain('Audit history')
    expect(main).toContain('audit passed')
    expect(main).toContain('2 data + 2 parity shards')
    expect(main).toMatch(/[0-4] of 4 \(any 2 rebuild the data\)/)
    expect(main).toMatch(/Deposit left\s+[\d,.]+ XSC/)
    expect(main).toMatch(/epochs of rent/)
    expect(main).toContain('deployed')
    await shot('asset')
  })

  it('a host: reputation history with causes, earnings per epoch, shards, audits', async () => {
    const hostAddr = await page.$eval('main a[href^="#/host/"]', (a) => a.getAttribute('href')!.slice('#/host/'.length))
    await go(`/host/${hostAddr}`, 'main .stats')
    const main = await text()
    expect(main).toContain('Reputation history')
    expect(main).toContain('Earnings per epoch')
    expect(main).toMatch(/held/)
    expect(main).toMatch(/Coordinates\s+\(\d+, \d+, \d+\)/)
    await shot('host')
  })

  it('the 3D host matrix draws four hosts with WebGL, and draws an asset placement and an execution assignment', async () => {
    await go(`/matrix?asset=${asset}`, '#matrix-canvas canvas')
    await page.waitForFunction(`document.getElementById('sel-info').textContent.includes('Placement')`, { timeout: 10_000 })
    await new Promise((r) => setTimeout(r, 300))
    // Background is #0b1220; count pixels of the WebGL canvas clearly off it.
    const drawn = (await page.evaluate(`(() => {
      const gl = document.querySelector('#matrix-canvas canvas')
      const c = document.createElement('canvas')
      c.width = gl.width
      c.height = gl.height
      const g = c.getContext('2d')
      g.drawImage(gl, 0, 0)
      const px = g.getImageData(0, 0, c.width, c.height).data
      let lit = 0
      for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - 0x0b) + Math.abs(px[i + 1] - 0x12) + Math.abs(px[i + 2] - 0x20) > 60) lit++
      return { lit, total: c.width * c.height }
    })()`)) as { lit: number; total: number }
    expect(drawn.lit).toBeGreaterThan(drawn.total * 0.005)
    expect(await text('#sel-info')).toContain('4 shards on 4 hosts')
    expect(await page.$$eval('#matrix-table tbody tr', (r) => r.length)).toBe(4)
    await shot('matrix-asset')
    await page.evaluate(`document.getElementById('exec-id').value = ${JSON.stringify(execution)}`)
    await page.click('#sel-exec button[type=submit]')
    await page.waitForFunction(`document.getElementById('sel-info').textContent.includes('Assignment')`, { timeout: 10_000 })
    await new Promise((r) => setTimeout(r, 300))
    await shot('matrix-execution')
  })

  it('without WebGL the matrix says so and the rest of the page still works', async () => {
    const noGl = await browser.newPage()
    await noGl.setViewport({ width: 1280, height: 800 })
    const errors: string[] = []
    noGl.on('pageerror', (e) => errors.push(String(e)))
    await noGl.evaluateOnNewDocument(`{
      const original = HTMLCanvasElement.prototype.getContext
      HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
        return String(type).startsWith('webgl') ? null : original.call(this, type, ...rest)
      }
    }`)
    await noGl.goto(`${base}/#/matrix`, { waitUntil: 'domcontentloaded' })
    await noGl.waitForSelector('#nogl', { timeout: 15_000 })
    expect(await noGl.$eval('#nogl', (el) => el.textContent)).toContain('WebGL')
    expect(await noGl.$$eval('#matrix-table tbody tr', (r) => r.length)).toBe(4)
    await noGl.screenshot({ path: `${SHOTS}/matrix-no-webgl.png` })
    await noGl.close()
    expect(errors).toEqual([])
  })

  it('search takes a height, a hash, an execution id and an address', async () => {
    await go('/', '#stat-head')
    const search = async (q: string, expected: RegExp): Promise<void> => {
      await page.evaluate(`document.getElementById('search-input').value = ${JSON.stringify(q)}`)
      await page.click('#search button')
      await page.waitForFunction(`new RegExp(${JSON.stringify(expected.source)}).test(location.hash)`, { timeout: 10_000 })
    }
    await search('3', /^#\/block\/3$/)
    await page.waitForSelector('main h2.kind, main .facts')
    const blockHash = await page.$eval('main dd code', (el) => el.textContent!)
    await search(blockHash, /^#\/block\/0x/)
    await search(execution, /^#\/execution\//)
    await search(asset.slice(2), /^#\/asset\//)
    await search(transferId, /^#\/tx\//)
    await search(toHex(net.hostKeys[1]!.publicKey), /^#\/host\//)
    await search(toHex(net.client.publicKey), /^#\/account\//)
    await search('not a thing', /^#\/search\//)
    await page.waitForFunction(`document.querySelector('main').innerText.includes('Nothing found')`, { timeout: 10_000 })
  })

  it('made no request outside the node and logged no errors', () => {
    expect(external).toEqual([])
    expect(problems).toEqual([])
  })
})
