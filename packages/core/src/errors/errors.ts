import type { SwitchyardErrorOptions } from './SwitchyardError.js';
import { SwitchyardError } from './SwitchyardError.js';

// ---------------------------------------------------------------------------------------------
// Task queues
// ---------------------------------------------------------------------------------------------

/** A pending task was removed with `worker.dequeue()` before it ran. */
export class TaskDequeuedError extends SwitchyardError {
  constructor(
    message = 'The task was dequeued before it ran; enqueue it again if it is still needed.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_TASK_DEQUEUED', message, options);
  }
}

/** The worker was killed: pending work is rejected and new work is refused. */
export class WorkerKilledError extends SwitchyardError {
  constructor(
    message = 'The worker was killed; create a new worker to run more tasks.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_WORKER_KILLED', message, options);
  }
}

/** A value given to a Switchyard function is not what it expected (wrong type, out of range). */
export class InvalidArgumentError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Job pool
// ---------------------------------------------------------------------------------------------

/** The pool configuration is inconsistent (min > max, negative numbers, initial outside [min, max]). */
export class PoolConfigError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_POOL_CONFIG', message, options);
  }
}

/** The pool has been closed; a closed pool cannot be started, resized or closed again. */
export class PoolClosedError extends SwitchyardError {
  constructor(
    message = 'The pool is closed; create a new Pool to run jobs again.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_POOL_CLOSED', message, options);
  }
}

/** The pool is already running a job; close it before starting another. */
export class PoolRunningError extends SwitchyardError {
  constructor(
    message = 'The pool is already running; close it before starting it again.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_POOL_RUNNING', message, options);
  }
}

/** The pool has not been started yet, so it cannot be resized or closed. */
export class PoolNotRunningError extends SwitchyardError {
  constructor(message = 'The pool is not running; call start(job) first.', options: SwitchyardErrorOptions = {}) {
    super('ERR_POOL_NOT_RUNNING', message, options);
  }
}

/** `more()` would go above the pool's `max`. */
export class PoolMaxWorkersError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_POOL_MAX_WORKERS', message, options);
  }
}

/** `less()` would go below the pool's `min`. */
export class PoolMinWorkersError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_POOL_MIN_WORKERS', message, options);
  }
}

/** `close({ timeoutMs })` gave up before every running job finished. */
export class PoolCloseTimeoutError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_POOL_CLOSE_TIMEOUT', message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Tenant-sharded workers
// ---------------------------------------------------------------------------------------------

/** A tenant id is not `{ kind: 'guild' | 'user', id: <snowflake as a decimal string> }`. */
export class InvalidTenantIdError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_INVALID_TENANT_ID', message, options);
  }
}

/** An event cannot cross to a worker (not structured-cloneable: a function, a symbol, ...). */
export class InvalidEventError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_INVALID_EVENT', message, options);
  }
}

/** `runScript` was called on a worker whose definition has no script engine. */
export class ScriptsUnsupportedError extends SwitchyardError {
  constructor(
    message = 'This worker has no script engine; pass `scriptEngine` to defineWorker() to run scripts.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_SCRIPTS_UNSUPPORTED', message, options);
  }
}

/** The thread or process running the event died while the event was in flight; it may have run. */
export class WorkerCrashedError extends SwitchyardError {
  constructor(
    message = 'The worker crashed while the event was in flight; it may or may not have run. Retry if the handler is idempotent.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_WORKER_CRASHED', message, options);
  }
}

/** The worker gave up restarting (too many consecutive failures) and accepts no more events. */
export class WorkerUnavailableError extends SwitchyardError {
  constructor(
    message = 'The worker is unavailable: it failed too many times in a row and will not be restarted.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_WORKER_UNAVAILABLE', message, options);
  }
}

/** A bounded buffer is full; slow down or raise its limit. */
export class BackpressureError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_BACKPRESSURE', message, options);
  }
}

/** A message that crossed a boundary was malformed or of an unknown protocol version. */
export class ProtocolError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_PROTOCOL', message, options);
  }
}

/** A waited event's handler did not finish within its `timeoutMs`; it may still run to its end. */
export class HandlerTimeoutError extends SwitchyardError {
  constructor(
    message = 'The handler did not finish in time; it may still complete, but nobody waits for it.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_HANDLER_TIMEOUT', message, options);
  }
}

/**
 * The worker's answer to a cancel that came too late: the handler had already started and runs on
 * (its signal is aborted). The master rejects the caller with the reason it gave up, and keeps the
 * event's place in the worker until the handler really ends. Never reaches a caller.
 */
export class HandlerStillRunningError extends SwitchyardError {
  constructor(
    message = 'The handler had already started when it was cancelled.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_HANDLER_STILL_RUNNING', message, options);
  }
}

/** The worker stopped answering liveness probes (a handler stuck in a loop, a stopped process). */
export class WorkerHungError extends SwitchyardError {
  constructor(
    message = 'The worker did not answer its liveness probe in time and was treated as hung.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_WORKER_HUNG', message, options);
  }
}

/** A handler returned a value that cannot be sent back to the caller (not structured-cloneable); the event fails. */
export class ResultNotCloneableError extends SwitchyardError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_RESULT_NOT_CLONEABLE', message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Control plane: broadcast, quarantine, per-tenant budgets
// ---------------------------------------------------------------------------------------------

/** A worker did not answer a `broadcast` before its deadline (it was restarting, or its `onBroadcast` was slow). */
export class BroadcastTimeoutError extends SwitchyardError {
  constructor(message = 'The worker did not answer the broadcast in time.', options: SwitchyardErrorOptions = {}) {
    super('ERR_BROADCAST_TIMEOUT', message, options);
  }
}

/**
 * A tenant's handoff did not finish within the resize's `handoffTimeoutMs` (a handler of it whose
 * caller gave up still runs on its old worker): the tenant moved without its state (listed in the
 * resize's `failures`), and its old worker releases that state once the handler ends.
 */
export class HandoffTimeoutError extends SwitchyardError {
  constructor(message = 'The tenant was not handed off in time.', options: SwitchyardErrorOptions = {}) {
    super('ERR_HANDOFF_TIMEOUT', message, options);
  }
}

/** A `broadcast` reached a worker whose definition has no `onBroadcast` hook. */
export class BroadcastUnsupportedError extends SwitchyardError {
  constructor(
    message = 'This worker has no onBroadcast hook; pass `onBroadcast` to defineWorker() to receive broadcasts.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_BROADCAST_UNSUPPORTED', message, options);
  }
}

/**
 * The tenant crashed, hung or overran its hard deadline `quarantine.strikes` times within
 * `quarantine.windowMs`: its events are refused until `quarantine.durationMs` passed or `release(tenant)`.
 */
export class TenantQuarantinedError extends SwitchyardError {
  constructor(
    message = 'The tenant is quarantined after repeated crashes; its events are refused for now.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_TENANT_QUARANTINED', message, options);
  }
}

/** The tenant is over its own budget (`tenantLimits.maxQueued` or `tenantLimits.rate`); other tenants are unaffected. */
export class TenantBackpressureError extends SwitchyardError {
  constructor(message = 'The tenant is over its budget; slow it down.', options: SwitchyardErrorOptions = {}) {
    super('ERR_TENANT_BACKPRESSURE', message, options);
  }
}
