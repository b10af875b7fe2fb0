import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface NodeProcess { child: ChildProcess; rpc: string; ws: string; stop: () => Promise<void>; kill: () => Promise<void>; /** libp2p multiaddrs from the ready line (with /p2p/<peer id>). */ p2p: string[] }

/** Starts `xsc node` (bin/xsc.js) as a child process and waits for its ready line. */
export function startNodeProcess(args: string[], env: Record<string, string> = {}): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['bin/xsc.js', 'node', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XSC_LOG_LEVEL: process.env.XSC_TEST_NODE_LOG_LEVEL ?? 'warn', ...env } })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  // XSC_TEST_NODE_LOGS=DIR keeps every node's log (stderr) in DIR/<pid>.log, for debugging a failed run.
  const logDir = process.env.XSC_TEST_NODE_LOGS
  if (logDir !== undefined && child.pid !== undefined) child.stderr!.pipe(createWriteStream(join(logDir, `${child.pid}.log`)))
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const ended = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  return new Promise((resolve, reject) => {
    // A node that does not come up is killed, never left running behind a failed test.
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node did not start: ${stderr}`))
    }, 60_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`node exited with ${code}: ${stderr}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; rpc: string; ws: string; p2p?: string[] }
        if (msg.event === 'ready') {
          clearTimeout(timer)
          resolve({ child, rpc: msg.rpc, ws: msg.ws, stop: () => ended('SIGTERM'), kill: () => ended('SIGKILL'), p2p: msg.p2p ?? [] })
        }
      } catch {
        // not a JSON line
      }
    })
  })
}

export async function waitFor<T>(f: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
