// Helpers shared by the package's modules. Not re-exported from the package index.

/** A short description of a value for "Expected ..., got ..." messages. @internal */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${typeof value} ${String(value)}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** True for promises and other thenables. @internal */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== undefined && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** True for objects with a `Symbol.asyncIterator` method. @internal */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== undefined &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/** The message of a thrown value, for one-line display. @internal */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : describeValue(error);
}

/** Makes `text` fit on one row: line breaks and tabs become spaces. @internal */
export function oneLine(text: string): string {
  return /[\r\n\t]/.test(text) ? text.replace(/\r\n|[\r\n\t]/g, ' ') : text;
}
