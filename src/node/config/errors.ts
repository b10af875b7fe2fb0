import { XscError } from '../../../blocks/errors.ts'

export type ConfigErrorCode = 'BAD_TOML' | 'UNKNOWN_KEY' | 'WRONG_TYPE' | 'UNREADABLE'

/** A node config file that cannot be used; `details.key` names the offending key when there is one. */
export class ConfigError extends XscError<ConfigErrorCode> {}
