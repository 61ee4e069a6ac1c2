import type { SwitchyardErrorOptions } from '@switchyard/core';
import { registerErrorClass, SwitchyardError } from '@switchyard/core';

/**
 * Base class of every error `@switchyard/status` throws. Match on `code`, not on the message.
 */
export class StatusError extends SwitchyardError {}

/** An option or argument given to the status board or to the worker helpers is not what was expected. */
export class StatusInvalidArgumentError extends StatusError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_STATUS_INVALID_ARGUMENT', message, options);
  }
}

/** The board was closed: it accepts no new jobs, watches or log lines. */
export class StatusBoardClosedError extends StatusError {
  constructor(
    message = 'The status board is closed; create a new one with createStatusBoard().',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_STATUS_BOARD_CLOSED', message, options);
  }
}

/** The job was closed: its row shows its final text and accepts no more updates. */
export class StatusJobClosedError extends StatusError {
  constructor(
    message = 'The status job is closed; add a new job with board.addJob() to report more work.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_STATUS_JOB_CLOSED', message, options);
  }
}

registerErrorClass('ERR_STATUS_INVALID_ARGUMENT', StatusInvalidArgumentError, { framework: true });
registerErrorClass('ERR_STATUS_BOARD_CLOSED', StatusBoardClosedError, { framework: true });
registerErrorClass('ERR_STATUS_JOB_CLOSED', StatusJobClosedError, { framework: true });
