import type { SwitchyardErrorOptions } from '@switchyard/core';
import { registerErrorClass, SwitchyardError } from '@switchyard/core';

/** Base class of the errors `@switchyard/pool-thread` adds to core's. */
export class PoolThreadError extends SwitchyardError {}

/** A worker thread ended without being asked to (`process.exit()` inside it, even with code 0). */
export class ThreadExitError extends PoolThreadError {
  /** The thread's exit code, when known (not after crossing a boundary). */
  readonly exitCode: number | undefined;

  constructor(
    message = 'The worker thread exited on its own.',
    options: SwitchyardErrorOptions & { exitCode?: number } = {},
  ) {
    super('ERR_THREAD_EXIT', message, options);
    this.exitCode = options.exitCode;
  }
}

/** The thread could not load the worker module or find its `defineWorker` definition. */
export class ThreadStartError extends PoolThreadError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_THREAD_START', message, options);
  }
}

registerErrorClass('ERR_THREAD_EXIT', ThreadExitError, { framework: true });
registerErrorClass('ERR_THREAD_START', ThreadStartError, { framework: true });
