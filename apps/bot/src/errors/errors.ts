import type { SwitchyardErrorOptions } from '@switchyard/core';
import { registerErrorClass, SwitchyardError } from '@switchyard/core';

/** Base class of every error the bot throws. Match on `code`, not on the message. */
export class BotError extends SwitchyardError {}

/** A command-line option, environment variable or constructor option is not what was expected. */
export class BotConfigError extends BotError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_BOT_CONFIG', message, options);
  }
}

/** A value given to the key-value store cannot be stored (it cannot be structured-cloned). */
export class KvValueError extends BotError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_KV_VALUE', message, options);
  }
}

/** The database was closed; nothing more can be read or written through it. */
export class DatabaseClosedError extends BotError {
  constructor(message = 'The database is closed.', options: SwitchyardErrorOptions = {}) {
    super('ERR_DATABASE_CLOSED', message, options);
  }
}

/** The database failed a query or could not be opened; `cause` is the driver's error. */
export class DatabaseError extends BotError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_DATABASE', message, options);
  }
}

/**
 * The embedded database is gone for good: its PGlite thread ended (crashed, exited, or was
 * terminated after a statement outran the statement timeout) and, in memory, its data went with it.
 * Every later query fails with this; the bot must be restarted. Not transient, unlike
 * {@link DatabaseError}.
 */
export class DatabaseLostError extends BotError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_DATABASE_LOST', message, options);
  }
}

registerErrorClass('ERR_BOT_CONFIG', BotConfigError);
registerErrorClass('ERR_KV_VALUE', KvValueError);
registerErrorClass('ERR_DATABASE_CLOSED', DatabaseClosedError);
registerErrorClass('ERR_DATABASE', DatabaseError);
registerErrorClass('ERR_DATABASE_LOST', DatabaseLostError);
