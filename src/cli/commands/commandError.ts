import { XscError } from '../../../blocks/errors.ts'

/**
 * A command that ran but could not do what was asked, for a reason the user can act on:
 * `details.advice` says what to do. Usage mistakes are CliError('USAGE') (exit 2); these exit 1.
 */
export type CommandErrorCode =
  | 'FILE_NOT_FOUND'
  | 'NOT_FOUND'
  | 'NO_HOSTS'
  | 'INSUFFICIENT_FUNDS'
  | 'TOO_LARGE'
  | 'EXECUTION_FAILED'
  | 'UPLOAD_MISMATCH'
  | 'HOST_EXISTS'

export class CommandError extends XscError<CommandErrorCode> {
  constructor(code: CommandErrorCode, message: string, advice: string, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, advice })
  }
}
