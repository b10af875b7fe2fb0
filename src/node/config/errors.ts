import { XscError } from '../../../blocks/errors.ts'

export type ConfigErrorPayloads = {
  BAD_TOML: { file: string; line: number; column: number }
  /** `suggestion`: the known key the name is closest to. */
  UNKNOWN_KEY: { key: string; file: string; suggestion?: string }
  WRONG_TYPE: { key: string; file: string; expected: string }
  UNREADABLE: { file: string }
}
export type ConfigErrorCode = keyof ConfigErrorPayloads

/** A node config file that cannot be used; `details.key` names the offending key when there is one. */
export class ConfigError extends XscError<ConfigErrorPayloads> {}
