/**
 * Options accepted by every Switchyard error constructor.
 */
export interface SwitchyardErrorOptions {
  /** The underlying error or abort reason, exposed as `error.cause`. */
  cause?: unknown;
}

/**
 * Base class of every error Switchyard throws. Each subclass has a stable `code`
 * (`ERR_POOL_CLOSED` style) that tests and callers match on; messages are for people.
 *
 * @example
 * ```ts
 * try { await worker.enqueue(task); }
 * catch (err) { if (err instanceof SwitchyardError && err.code === 'ERR_WORKER_KILLED') retry(); }
 * ```
 */
export class SwitchyardError extends Error {
  /** A stable, machine-readable identifier of what went wrong. */
  readonly code: string;

  constructor(code: string, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * An error that happened on the other side of a thread or socket boundary and is not one of
 * Switchyard's own classes. It keeps the original `name`, `message` and `stack`.
 */
export class RemoteError extends SwitchyardError {
  /** The `name` of the error as it was thrown on the remote side (e.g. `TypeError`). */
  readonly remoteName: string;
  /** The remote error's own `code`, when it had one that Switchyard does not know. */
  readonly remoteCode: string | undefined;

  constructor(
    remoteName: string,
    message: string,
    options: SwitchyardErrorOptions & { stack?: string; remoteCode?: string } = {},
  ) {
    super('ERR_REMOTE', message, options);
    this.remoteName = remoteName;
    this.remoteCode = options.remoteCode;
    if (options.stack !== undefined) this.stack = options.stack;
  }
}

/** A task, dispatch or wait was aborted through its `AbortSignal`; `cause` is `signal.reason`. */
export class AbortError extends SwitchyardError {
  constructor(message = 'The operation was aborted.', options: SwitchyardErrorOptions = {}) {
    super('ABORT_ERR', message, options);
  }
}
