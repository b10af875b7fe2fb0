/** Structured logger the node hands in (a pino child fits); the network layer never prints. */
export interface NetLogger {
  debug(msg: string, ctx?: Record<string, unknown>): void
  info(msg: string, ctx?: Record<string, unknown>): void
  warn(msg: string, ctx?: Record<string, unknown>): void
}

export const silentLogger: NetLogger = { debug: () => {}, info: () => {}, warn: () => {} }
