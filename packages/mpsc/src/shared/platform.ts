/**
 * Typed access to the few platform functions the shared `lib` (ES2023) does not declare yet:
 * `Atomics.waitAsync` (ES2024, in Node since 16) and `String.prototype.isWellFormed` (ES2024, in
 * Node 20), and Buffer's long-standing undocumented per-encoding methods, which skip the encoding
 * dispatch of `toString`/`write` (used by Node's own `lib/buffer.js`, undici and ws).
 *
 * @internal
 */

export type WaitAsyncResult =
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

export const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult;
  }
).waitAsync;

const wellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed;

/** True when `s` has no lone surrogate (so UTF-8 keeps it intact). */
export function isWellFormed(s: string): boolean {
  return wellFormed.call(s);
}

/** A Buffer with its per-encoding fast paths. */
export interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  ucs2Write(s: string, offset: number): number;
  utf8Write(s: string, offset: number): number;
}

/** A FastBuffer over `length` bytes of `buffer` from `offset`. */
export function fastBuffer(buffer: SharedArrayBuffer, offset: number, length: number): FastBuffer {
  return Buffer.from(buffer, offset, length) as FastBuffer;
}
