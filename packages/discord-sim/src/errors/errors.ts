import type { SwitchyardErrorOptions } from '@switchyard/core';
import { registerErrorClass, SwitchyardError } from '@switchyard/core';

/**
 * Base class of every error `@switchyard/discord-sim` throws. Match on `code`, not on the message.
 */
export class DiscordSimError extends SwitchyardError {}

/** An option or argument given to the simulator is not what it expected. */
export class InvalidSimOptionError extends DiscordSimError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_DISCORD_SIM_INVALID_OPTION', message, options);
  }
}

/** The simulator has been closed; start a new one with `startDiscordSim()`. */
export class SimClosedError extends DiscordSimError {
  constructor(
    message = 'The Discord simulator is closed; start a new one with startDiscordSim().',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_DISCORD_SIM_CLOSED', message, options);
  }
}

/** A `waitFor...()` call did not see what it waited for within `timeoutMs`. */
export class SimWaitTimeoutError extends DiscordSimError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_DISCORD_SIM_WAIT_TIMEOUT', message, options);
  }
}

/** A scenario call named a guild, channel, user, member, message or command the simulator does not know. */
export class UnknownSimEntityError extends DiscordSimError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_DISCORD_SIM_UNKNOWN_ENTITY', message, options);
  }
}

registerErrorClass('ERR_DISCORD_SIM_INVALID_OPTION', InvalidSimOptionError, { framework: true });
registerErrorClass('ERR_DISCORD_SIM_CLOSED', SimClosedError, { framework: true });
registerErrorClass('ERR_DISCORD_SIM_WAIT_TIMEOUT', SimWaitTimeoutError, { framework: true });
registerErrorClass('ERR_DISCORD_SIM_UNKNOWN_ENTITY', UnknownSimEntityError, { framework: true });
