import { XscError, type XscErrorOptions } from '../../blocks/errors.ts'
import type { ExecResult } from './commands/exec.ts'

/** A usage mistake (exit 2) or a failure with nothing more to say. */
export class CliError extends XscError<{ USAGE: {}; FAILED: {} }> {}

/** What each CommandError code carries beside its advice. */
export type CommandErrorPayloads = {
  FILE_NOT_FOUND: { file?: string }
  NOT_FOUND: { asset?: string; execution?: string; tx?: string }
  NO_HOSTS: { eligible: number; needed: number; bid: bigint }
  INSUFFICIENT_FUNDS: { balance: bigint; needed: bigint }
  TOO_LARGE: { size: number; max: number }
  EXECUTION_FAILED: Omit<ExecResult, 'status'> & { status: string }
  UPLOAD_MISMATCH: {}
  HOST_EXISTS: {}
  CODE_REFUSED: { code: string }
  KEY_REQUIRED: { asset: string }
  DECRYPT_FAILED: { asset: string }
  VERIFY_FAILED: { asset: string }
}
export type CommandErrorCode = keyof CommandErrorPayloads

type WithAdvice = { [C in CommandErrorCode]: CommandErrorPayloads[C] & { advice: string } }

/** `new CommandError(code, message, advice, details)`, details checked against the code's payload. */
type CommandErrorArgs = {
  [C in CommandErrorCode]: {} extends CommandErrorPayloads[C]
    ? [code: C, message: string, advice: string, details?: CommandErrorPayloads[C], options?: XscErrorOptions]
    : [code: C, message: string, advice: string, details: CommandErrorPayloads[C], options?: XscErrorOptions]
}[CommandErrorCode]

/**
 * A command that ran but could not do what was asked, for a reason the user can act on:
 * `details.advice` says what to do. Usage mistakes are CliError('USAGE') (exit 2); these exit 1.
 */
export class CommandError extends XscError<WithAdvice> {
  constructor(...[code, message, advice, details, options]: CommandErrorArgs) {
    // The tuple union pairs each code with its payload; spreading it loses that pairing for the compiler.
    super(...([code, message, { ...details, advice }, options] as ConstructorParameters<typeof XscError<WithAdvice>>))
  }
}
