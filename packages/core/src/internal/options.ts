import { InvalidArgumentError } from '../errors/errors.js';
import type { KvStore } from '../kv/KvStore.js';
import { describeValue } from './values.js';

/**
 * Checks an integer option: `Expected \`name\` to be an integer >= min, got …` otherwise.
 * `Infinity` passes when `allowInfinity` is set. Packages pass their own error class when they
 * have one for bad options. @internal
 */
export function checkInteger(
  name: string,
  value: unknown,
  min: number,
  allowInfinity = false,
  ErrorClass: new (message: string) => Error = InvalidArgumentError,
): number {
  if ((allowInfinity && value === Infinity) || (Number.isSafeInteger(value) && (value as number) >= min))
    return value as number;
  throw new ErrorClass(
    `Expected \`${name}\` to be an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}, got ${describeValue(value)}.`,
  );
}

/** Checks an optional object option (`undefined` passes). @internal */
export function checkObject(name: string, value: unknown): void {
  if (value !== undefined && (value === null || typeof value !== 'object'))
    throw new InvalidArgumentError(`Expected \`${name}\` to be an object, got ${describeValue(value)}.`);
}

/** Checks that `store` is a {@link KvStore}. @internal */
export function checkStore(store: unknown): KvStore {
  if (
    store === null ||
    typeof store !== 'object' ||
    (['get', 'set', 'delete', 'list'] as const).some((m) => typeof (store as KvStore)[m] !== 'function')
  ) {
    throw new InvalidArgumentError(
      'Expected `store` to be a KvStore (an object with get, set, delete and list methods).',
    );
  }
  return store as KvStore;
}

/** How long `broadcast` waits for the workers unless told otherwise. @internal */
export const DEFAULT_BROADCAST_TIMEOUT_MS = 30_000;
