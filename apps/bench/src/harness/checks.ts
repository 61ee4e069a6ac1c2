import { isDeepStrictEqual, inspect } from 'node:util';
import { CheckFailedError } from './errors.js';

/**
 * Throws {@link CheckFailedError} unless `actual` deeply equals `expected`: the answer check every
 * contender passes before it is timed, so that a broken peer (or a broken Switchyard) cannot look fast.
 *
 * @param what - What was asked, for the message: `'piscina run(41)'`.
 */
export function expectAnswer(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new CheckFailedError(
      `${what} answered ${inspect(actual, { depth: 4, breakLength: Infinity })}, expected ${inspect(expected, { depth: 4, breakLength: Infinity })}.`,
    );
  }
}

/**
 * Runs `check` with a bound of `timeoutMs`: a contender that never answers fails its check with
 * {@link CheckFailedError} instead of hanging the run. Errors thrown by `check` are wrapped (their
 * `cause` kept) unless they already are check failures.
 */
export async function runCheck(name: string, check: () => Promise<void>, timeoutMs: number): Promise<void> {
  try {
    await bounded(
      check(),
      timeoutMs,
      () => new CheckFailedError(`${name} did not answer its check within ${timeoutMs} ms.`),
    );
  } catch (error) {
    if (error instanceof CheckFailedError) throw error;
    throw new CheckFailedError(`${name} failed its check: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/**
 * `work`, or the error `onTimeout` makes if it has not settled after `timeoutMs`. The timer is
 * not `unref()`ed on purpose: some pools unref their workers, and a caller waiting only for them
 * would otherwise see Node exit in the middle of a run.
 */
export async function bounded<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
