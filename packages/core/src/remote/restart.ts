import { InvalidArgumentError } from '../errors/errors.js';
import { checkInteger, checkObject } from '../internal/options.js';

/** How a crashed worker (thread or process) is restarted: one policy for every topology. */
export interface RestartOptions {
  /**
   * How long to wait (ms) before restarting after the `failures`-th consecutive failure (1, 2, ...).
   * @default (failures) => Math.min(failures, 5) * 3000
   */
  backoff?: (failures: number) => number;
  /**
   * After this many consecutive failures the worker gives up: it emits `fatal` and rejects its
   * events with `WorkerUnavailableError` instead of restarting.
   * @default 10
   */
  maxConsecutiveFailures?: number;
  /**
   * A worker that ran at least this long (ms) before it crashed starts the failure count again.
   * @default 30_000
   */
  stableAfterMs?: number;
}

/** The seed's backoff: 3 s per consecutive failure, at most 15 s. */
export function defaultRestartBackoff(failures: number): number {
  return Math.min(failures, 5) * 3000;
}

/** Validated restart settings. @internal */
export interface RestartPolicy {
  readonly backoff: (failures: number) => number;
  readonly maxConsecutiveFailures: number;
  readonly stableAfterMs: number;
}

/** Fills in the defaults and checks every field. @internal */
export function restartPolicy(options: RestartOptions | undefined): RestartPolicy {
  checkObject('restart', options);
  const { backoff = defaultRestartBackoff, maxConsecutiveFailures = 10, stableAfterMs = 30_000 } = options ?? {};
  if (typeof backoff !== 'function')
    throw new InvalidArgumentError(
      `Expected \`restart.backoff\` to be a function (failures) => ms, got ${typeof backoff}.`,
    );
  checkInteger('restart.maxConsecutiveFailures', maxConsecutiveFailures, 1);
  checkInteger('restart.stableAfterMs', stableAfterMs, 0);
  return { backoff, maxConsecutiveFailures, stableAfterMs };
}

/** Asks `backoff` for the delay and checks its answer. @internal */
export function restartDelay(policy: RestartPolicy, failures: number): number {
  const delay = policy.backoff(failures);
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    throw new InvalidArgumentError(
      `Expected \`restart.backoff(${failures})\` to return a finite number >= 0, got ${String(delay)}.`,
    );
  }
  return delay;
}
