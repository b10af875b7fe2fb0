import { readFileSync } from 'node:fs'

/**
 * What the benchmark reads back from a devnet's log file (the nodes' pino JSON lines on stderr,
 * plus the devnet's own stdout lines prefixed `[devnet]`). A missing file reads as empty.
 */
export class DevnetLog {
  constructor(readonly file: string) {}

  #text(): string | undefined {
    try {
      return readFileSync(this.file, 'utf8')
    } catch {
      return undefined
    }
  }

  /** The lines that contain `text`. */
  lines(containing: string): string[] {
    return (this.#text() ?? '').split('\n').filter((l) => l.includes(containing))
  }

  /** The log's error lines (pino level ≥ 50, and non-JSON lines such as stack traces) and its last `n` lines. */
  tail(n: number): string {
    const text = this.#text()
    if (text === undefined) return ''
    const lines = text.split('\n')
    const errors = lines.filter((l) => /"level":(50|60)/.test(l) || (l.startsWith('[') && !l.includes('{"level"') && !l.startsWith('[devnet]')))
    return [...errors.slice(-10), '...', ...lines.slice(-n)].join('\n')
  }

  /** Execution id → times (ms) of the hosts' "receipt sent" lines. */
  receiptTimes(): Map<string, number[]> {
    const out = new Map<string, number[]>()
    for (const line of (this.#text() ?? '').split('\n')) {
      if (!line.includes('receipt sent')) continue
      const at = line.indexOf('{')
      try {
        const o = JSON.parse(line.slice(at)) as { msg?: string; time?: number; execution?: string }
        if (o.msg === 'receipt sent' && o.execution && o.time) out.set(o.execution, [...(out.get(o.execution) ?? []), o.time])
      } catch {
        // a line split by a pipe chunk: skipped
      }
    }
    return out
  }
}
