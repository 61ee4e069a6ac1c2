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
}

type ErrorClass = new (message: string, options?: { cause?: unknown }) => SwitchyardError;

const registry = new Map<string, ErrorClass>();

/**
 * Teaches {@link deserializeError} to rebuild errors with `code` as instances of `ctor`.
 * Every package registers its own error classes when it loads; core's are registered here.
 */
export function registerErrorClass(code: string, ctor: ErrorClass): void {
  registry.set(code, ctor);
}

for (const ctor of Object.values(errors) as ErrorClass[]) {
  // Instantiate once to read the class's stable code; constructors take (message, options).
  registry.set(new ctor('probe').code, ctor);
}
registry.set('ABORT_ERR', AbortError);

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
 * Rebuilds an error serialized with {@link serializeError}: one of Switchyard's classes when its
 * `code` is registered, otherwise a {@link RemoteError} carrying the original name, message and stack.
 */
export function deserializeError(data: SerializedError): Error {
  const cause = rebuildCause(data.cause);
  const options = cause === undefined ? {} : { cause };
  const ctor = data.code === undefined ? undefined : registry.get(data.code);
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
