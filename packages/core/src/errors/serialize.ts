import * as errors from './errors.js';
import { AbortError, RemoteError, SwitchyardError } from './SwitchyardError.js';

/**
 * How an error travels across a thread or socket boundary: plain, structured-cloneable data.
 */
export interface SerializedError {
  /** The Switchyard `code`, when the error had one. */
  code?: string;
  /** The error's class name (`TypeError`, `WorkerKilledError`, ...). */
  name: string;
  message: string;
  stack?: string;
  /** The serialized `cause`, if any (one level of nesting is kept per hop). */
  cause?: SerializedError | { value: unknown };
  /**
   * Set when Switchyard itself raised the error (not a handler): only then is an error with a
   * framework `code` rebuilt as the framework's class.
   */
  framework?: true;
}

type ErrorClass = new (message: string, options?: { cause?: unknown }) => SwitchyardError;

/** Options of {@link registerErrorClass}. */
export interface RegisterErrorClassOptions {
  /**
   * The class belongs to Switchyard: an error with its `code` is rebuilt as the class only when
   * Switchyard raised it, never when a handler threw it (a handler cannot fake a crash, a
   * timeout or back-pressure). Switchyard's own packages set it; applications leave it off.
   * @default false
   */
  framework?: boolean;
}

const registry = new Map<string, { ctor: ErrorClass; framework: boolean }>();

/**
 * Teaches {@link deserializeError} to rebuild errors with `code` as instances of `ctor`.
 * Every package registers its own error classes when it loads; core's are registered here.
 * An application registers its own classes the same way, so that a handler's
 * `throw new QuotaError()` reaches the caller as a `QuotaError`.
 */
export function registerErrorClass(code: string, ctor: ErrorClass, options: RegisterErrorClassOptions = {}): void {
  registry.set(code, { ctor, framework: options.framework === true });
}

for (const ctor of Object.values(errors) as ErrorClass[]) {
  // Instantiate once to read the class's stable code; constructors take (message, options).
  registerErrorClass(new ctor('probe').code, ctor, { framework: true });
}
registerErrorClass('ABORT_ERR', AbortError, { framework: true });

/** Errors that came out of user code (handlers, hooks), whatever their class. */
const fromUserCode = new WeakSet<object>();

/**
 * Records that `error` was thrown by user code (an `onEvent` handler, `createTenant`, `startup`), so
 * that {@link serializeError} never marks it as raised by the framework. Returns `error`.
 * @internal Called by the tenant runtime where it calls user code.
 */
export function markUserError<T>(error: T): T {
  if (error !== null && (typeof error === 'object' || typeof error === 'function')) fromUserCode.add(error);
  return error;
}

function serializeCause(cause: unknown, depth: number): SerializedError['cause'] {
  if (cause instanceof Error)
    return depth < 4 ? serializeError(cause, depth + 1) : { name: cause.name, message: cause.message };
  try {
    structuredClone(cause);
    return { value: cause };
  } catch {
    return { value: String(cause) };
  }
}

/**
 * Turns any thrown value into {@link SerializedError}, keeping `code`, `name`, `message`,
 * `stack` and `cause`.
 */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return {
      name: 'Error',
      message: typeof error === 'string' ? error : `Non-error value thrown: ${safeString(error)}`,
    };
  }
  const out: SerializedError = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (error instanceof SwitchyardError && !fromUserCode.has(error)) out.framework = true;
  if (error.stack !== undefined) out.stack = error.stack;
  if (error.cause !== undefined) {
    const cause = serializeCause(error.cause, depth);
    if (cause !== undefined) out.cause = cause;
  }
  return out;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function rebuildCause(cause: SerializedError['cause']): unknown {
  if (cause === undefined) return undefined;
  if ('value' in cause && !('message' in cause)) return cause.value;
  return deserializeError(cause as SerializedError);
}

/**
 * Rebuilds an error serialized with {@link serializeError}: the registered class of its `code`
 * (for a framework class, only when the framework raised it), otherwise a {@link RemoteError}
 * carrying the original name, message, stack and code (`remoteCode`).
 */
export function deserializeError(data: SerializedError): Error {
  const cause = rebuildCause(data.cause);
  const options = cause === undefined ? {} : { cause };
  const entry = data.code === undefined ? undefined : registry.get(data.code);
  const ctor = entry !== undefined && (!entry.framework || data.framework === true) ? entry.ctor : undefined;
  let error: Error;
  if (ctor !== undefined) {
    error = new ctor(data.message, options);
    if (data.stack !== undefined) error.stack = data.stack;
  } else {
    error = new RemoteError(data.name, data.message, {
      ...options,
      ...(data.stack === undefined ? {} : { stack: data.stack }),
      ...(data.code === undefined ? {} : { remoteCode: data.code }),
    });
  }
  return error;
}

/** True when `error` is a {@link SwitchyardError} with the given `code`. */
export function isSwitchyardError(error: unknown, code?: string): error is SwitchyardError {
  return error instanceof SwitchyardError && (code === undefined || error.code === code);
}
