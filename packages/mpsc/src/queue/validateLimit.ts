import { InvalidLimitError } from '../errors/MpscError.js';

/**
 * Checks a queue or batch limit: a positive safe integer, else InvalidLimitError.
 *
 * @internal
 */
export function validateLimit(limit: unknown, what: string): number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidLimitError(
      `Expected \`${what}\` to be a positive integer, got ${typeof limit === 'number' ? limit : typeof limit}.`,
    );
  }
  return limit;
}
