import { type Logger, pino } from 'pino'

export type { Logger }

/** Structured JSON logs on stderr (stdout stays free for command output). */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({ name: opts.name ?? 'xsc', level: opts.level ?? process.env.XSC_LOG_LEVEL ?? 'info' }, pino.destination(2))
}
