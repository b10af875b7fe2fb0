/**
 * A one-line progress bar on stderr, redrawn in place. Silent unless the stream is a TTY and the
 * output is for people (never with --json), so scripts and pipes see only the result.
 */
export interface ProgressBar {
  update(done: number, total: number, note?: string): void
  /** Ends the line (or does nothing when silent). */
  done(note?: string): void
}

export interface ProgressBarOpts {
  label: string
  enabled: boolean
  stream?: NodeJS.WriteStream
  width?: number
}

export function createProgressBar(opts: ProgressBarOpts): ProgressBar {
  const stream = opts.stream ?? process.stderr
  const active = opts.enabled && stream.isTTY === true
  const width = opts.width ?? 30
  let last = ''
  let drawn = false
  return {
    update(done, total, note) {
      if (!active) return
      const frac = total > 0 ? Math.min(1, done / total) : 1
      const filled = Math.round(frac * width)
      const line = `${opts.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${formatBytesOrCount(done, total)}${note ? ` ${note}` : ''}`
      if (line === last) return
      last = line
      drawn = true
      stream.write(`\r\x1b[2K${line}`)
    },
    done(note) {
      if (!active) return
      if (note !== undefined) stream.write(`\r\x1b[2K${opts.label} ${note}\n`)
      else if (drawn) stream.write('\n')
    },
  }
}

function formatBytesOrCount(done: number, total: number): string {
  if (total < 1024) return `${done}/${total}`
  const unit = total >= 1 << 20 ? [1 << 20, 'MiB'] as const : [1024, 'KiB'] as const
  return `${(done / unit[0]).toFixed(1)}/${(total / unit[0]).toFixed(1)} ${unit[1]}`
}

/** Whether progress should be drawn for this invocation. */
export function isInteractive(json: boolean): boolean {
  return !json && process.stderr.isTTY === true
}
