// Allocation profile of an `xsc node` process over a window: V8's sampling heap profiler through the
// inspector, keeping the samples of objects a scavenge or a mark-compact already freed (so it counts
// what was allocated, not what is still live). Load with NODE_OPTIONS="--require <this file>" and set
// XSC_HEAP_PROF_DIR; the first SIGUSR2 starts sampling, XSC_HEAP_PROF_MS later (default 30000) the
// profile is written to DIR/<role>-<pid>.heapprofile (Chrome DevTools' format; read it with
// heapProfileTop.mjs). XSC_HEAP_PROF_INTERVAL is the mean bytes between samples (default 4096).
// Other processes (the devnet driver, tsx) are left alone.
'use strict'
const dir = process.env.XSC_HEAP_PROF_DIR
const isNode = process.argv.some((a) => a.endsWith('xsc.js')) && process.argv.includes('node')
if (dir && isNode) {
  const { Session } = require('node:inspector')
  const { writeFileSync, mkdirSync } = require('node:fs')
  const windowMs = Number(process.env.XSC_HEAP_PROF_MS ?? 30000)
  const interval = Number(process.env.XSC_HEAP_PROF_INTERVAL ?? 4096)
  const role = process.argv.includes('--host') ? 'host' : process.argv.some((a) => a.includes('validator')) ? 'validator' : 'node'
  process.once('SIGUSR2', () => {
    const session = new Session()
    session.connect()
    const flags = { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }
    session.post('HeapProfiler.startSampling', flags, (startErr) => {
      if (startErr) return process.stderr.write(`heapSamplePreload: ${startErr.message}\n`)
      setTimeout(() => {
        session.post('HeapProfiler.stopSampling', (err, res) => {
          if (!err) {
            mkdirSync(dir, { recursive: true })
            writeFileSync(`${dir}/${role}-${process.pid}.heapprofile`, JSON.stringify({ ...res.profile, windowMs, interval }))
          }
          session.disconnect()
        })
      }, windowMs).unref()
    })
  })
}
