import type { SwitchyardErrorOptions } from '@switchyard/core';
import { InvalidArgumentError, registerErrorClass, SwitchyardError } from '@switchyard/core';

/**
 * Base class of every error `@switchyard/pool-process` throws. Match on `code`, not on the message.
 */
export class PoolProcessError extends SwitchyardError {}

/**
 * An option given to the hub, the pool or a worker process is not what it expected. Its code is
 * core's `ERR_INVALID_ARGUMENT`, as for every bad option of every topology.
 */
export class InvalidProcessOptionError extends InvalidArgumentError {}

/**
 * `createProcessPool()` gave up: some workers did not connect to the hub within `startTimeoutMs`
 * (or their process exited first). `workerIds` names them.
 */
export class WorkerStartError extends PoolProcessError {
  /** The ids of the workers that did not connect. */
  readonly workerIds: readonly number[];

  constructor(message: string, options: SwitchyardErrorOptions & { workerIds?: readonly number[] } = {}) {
    super('ERR_WORKER_START', message, options);
    this.workerIds = Object.freeze([...(options.workerIds ?? [])]);
  }
}

/** A worker process exited (the `cause` of a `crash`); `exitCode` or `signal` says how. */
export class WorkerExitedError extends PoolProcessError {
  readonly exitCode: number | null;
  readonly signal: string | null;

  constructor(
    message: string,
    options: SwitchyardErrorOptions & { exitCode?: number | null; signal?: string | null } = {},
  ) {
    super('ERR_WORKER_EXITED', message, options);
    this.exitCode = options.exitCode ?? null;
    this.signal = options.signal ?? null;
  }
}

/** A worker stopped answering the hub's pings; it is treated as crashed and terminated. */
export class HeartbeatTimeoutError extends PoolProcessError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_HEARTBEAT_TIMEOUT', message, options);
  }
}

/** The WebSocket between a worker and the hub closed while it was in use. */
export class ConnectionLostError extends PoolProcessError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_CONNECTION_LOST', message, options);
  }
}

/** A worker (re)started but did not connect to the hub within `startTimeoutMs`. */
export class WorkerStartTimeoutError extends PoolProcessError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_WORKER_START_TIMEOUT', message, options);
  }
}

/** One event, result or kv value serializes to more than the hub's `maxPayload`; it was not sent. */
export class PayloadTooLargeError extends PoolProcessError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_PAYLOAD_TOO_LARGE', message, options);
  }
}

/** A handler's result (or a kv value) cannot be serialized to cross back to the master. */
export class UnserializableValueError extends PoolProcessError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_UNSERIALIZABLE_VALUE', message, options);
  }
}

/** Worker side: `ctx.kv` was used while the worker was not connected to the hub (or it disconnected). */
export class HubDisconnectedError extends PoolProcessError {
  constructor(
    message = 'The worker is not connected to the hub; the call was not served.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_HUB_DISCONNECTED', message, options);
  }
}

/** The hub has been closed; it accepts no workers. */
export class HubClosedError extends PoolProcessError {
  constructor(message = 'The hub is closed; create a new one with createHub().', options: SwitchyardErrorOptions = {}) {
    super('ERR_HUB_CLOSED', message, options);
  }
}

/** A worker id is already served by another `ProcessWorker` attached to the same hub. */
export class WorkerIdInUseError extends PoolProcessError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_WORKER_ID_IN_USE', message, options);
  }
}

registerErrorClass('ERR_WORKER_START', WorkerStartError, { framework: true });
registerErrorClass('ERR_WORKER_EXITED', WorkerExitedError, { framework: true });
registerErrorClass('ERR_HEARTBEAT_TIMEOUT', HeartbeatTimeoutError, { framework: true });
registerErrorClass('ERR_CONNECTION_LOST', ConnectionLostError, { framework: true });
registerErrorClass('ERR_WORKER_START_TIMEOUT', WorkerStartTimeoutError, { framework: true });
registerErrorClass('ERR_PAYLOAD_TOO_LARGE', PayloadTooLargeError, { framework: true });
registerErrorClass('ERR_UNSERIALIZABLE_VALUE', UnserializableValueError, { framework: true });
registerErrorClass('ERR_HUB_DISCONNECTED', HubDisconnectedError, { framework: true });
registerErrorClass('ERR_HUB_CLOSED', HubClosedError, { framework: true });
registerErrorClass('ERR_WORKER_ID_IN_USE', WorkerIdInUseError, { framework: true });
