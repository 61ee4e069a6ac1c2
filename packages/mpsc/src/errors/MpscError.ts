import type { SwitchyardErrorOptions } from '@switchyard/core';
import { registerErrorClass, SwitchyardError } from '@switchyard/core';

const defaultHasInstance = Function.prototype[Symbol.hasInstance];

/**
 * Base class of the errors `@switchyard/mpsc` throws, apart from {@link InvalidLimitError} (which
 * derives from `RangeError`, see there). Match on `err.code`, not on the message.
 */
export class MpscError extends SwitchyardError {
  /**
   * `err instanceof MpscError` is also true for {@link InvalidLimitError}, which cannot have
   * `MpscError` in its prototype chain because it derives from `RangeError`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (defaultHasInstance.call(this, value)) return true;
    return this === MpscError && defaultHasInstance.call(InvalidLimitError, value);
  }
}

/**
 * A queue `limit` (or a `recvMany` limit) is not a positive integer.
 *
 * It derives from `RangeError`, as the issue asks, so `err instanceof RangeError` is true. JavaScript
 * has single inheritance, so it is *not* a `SwitchyardError` by prototype; it still carries the
 * package's conventions: a stable `code` (`ERR_INVALID_LIMIT`), `name`, `cause`, it is registered
 * with `registerErrorClass`, and `err instanceof MpscError` is true.
 */
export class InvalidLimitError extends RangeError {
  /** Always `'ERR_INVALID_LIMIT'`. */
  readonly code = 'ERR_INVALID_LIMIT';

  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
  }
}

/** `sendTimeout` gave up: the bounded queue had no room within the given number of seconds. */
export class SendTimeoutError extends MpscError {
  constructor(
    message = 'The queue stayed full for the whole timeout; the value was not sent.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_SEND_TIMEOUT', message, options);
  }
}

/** The queue (or this producer handle) is closed: sending is refused, waiting senders are rejected. */
export class QueueClosedError extends MpscError {
  constructor(
    message = 'The queue is closed; values can still be received but no more can be sent.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_QUEUE_CLOSED', message, options);
  }
}

/** A second `recv`/`recvMany` was started while one was still waiting: a queue has a single consumer. */
export class ConsumerBusyError extends MpscError {
  constructor(
    message = 'Another recv()/recvMany() is already waiting on this queue; an MPSC queue has a single consumer, so await the pending one first.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_CONSUMER_BUSY', message, options);
  }
}

/** A value cannot be sent: `undefined`, or not structured-cloneable (a function, a symbol, ...). */
export class InvalidValueError extends MpscError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_INVALID_VALUE', message, options);
  }
}

/** `queue.producer()` was called while the queue already has the maximum number of producers. */
export class TooManyProducersError extends MpscError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_TOO_MANY_PRODUCERS', message, options);
  }
}

registerErrorClass('ERR_SEND_TIMEOUT', SendTimeoutError, { framework: true });
registerErrorClass('ERR_QUEUE_CLOSED', QueueClosedError, { framework: true });
registerErrorClass('ERR_CONSUMER_BUSY', ConsumerBusyError, { framework: true });
registerErrorClass('ERR_INVALID_VALUE', InvalidValueError, { framework: true });
registerErrorClass('ERR_TOO_MANY_PRODUCERS', TooManyProducersError, { framework: true });
// The registry's type wants a SwitchyardError constructor; InvalidLimitError has the same
// (message, options) constructor and a `code`, which is all deserializeError relies on.
registerErrorClass(
  'ERR_INVALID_LIMIT',
  InvalidLimitError as unknown as new (message: string, options?: SwitchyardErrorOptions) => SwitchyardError,
);
