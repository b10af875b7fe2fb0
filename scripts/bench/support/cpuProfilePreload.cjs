// CPU profile of an `xsc node` process over a window, through the inspector (node --cpu-prof only
// writes on a clean exit). Load with NODE_OPTIONS="--require <this file>" and set
// XSC_CPU_PROF_DIR; XSC_CPU_PROF_AFTER_MS (default 40000) delays the start, XSC_CPU_PROF_MS
// (default 20000) is the window; XSC_CPU_PROF_AFTER_MS=signal starts it on SIGUSR2 instead (send it
// once the devnet is idle). Other processes (the devnet driver, tsx) are left alone.
'use strict'
const dir = process.env.XSC_CPU_PROF_DIR
const isNode = process.argv.some((a) => a.endsWith('xsc.js')) && process.argv.includes('node')
if (dir && isNode) {
  const { Session } = require('node:inspector')
  const { writeFileSync, mkdirSync } = require('node:fs')
  const after = Number(process.env.XSC_CPU_PROF_AFTER_MS ?? 40000)
  const windowMs = Number(process.env.XSC_CPU_PROF_MS ?? 20000)
  const role = process.argv.includes('--host') ? 'host' : process.argv.some((a) => a.includes('validator')) ? 'validator' : 'node'
  const begin = () => {
    const session = new Session()
    session.connect()
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
        session.post('Profiler.start', () => {
          setTimeout(() => {
            session.post('Profiler.stop', (err, res) => {
              if (!err) {
                mkdirSync(dir, { recursive: true })
                writeFileSync(`${dir}/${role}-${process.pid}.cpuprofile`, JSON.stringify(res.profile))
              }
              session.disconnect()
            })
          }, windowMs).unref()
        }),
      ),
    )
  }
  if (process.env.XSC_CPU_PROF_AFTER_MS === 'signal') process.once('SIGUSR2', begin)
  else setTimeout(begin, after).unref()
}
