import { InvalidArgumentError } from '../errors/errors.js';
import { describeValue } from './internal.js';

/**
 * Work a pool runs over and over: each pool worker calls it, waits for it to settle, and calls it
 * again until the worker is stopped. A job fails by throwing or by returning a rejected promise.
 *
 * `signal` is the worker's own: it aborts when the worker is removed with `pool.less()`, when the
 * pool closes, and when the pool stops after an error (`stopOnErrors`). Honour it as soon as you
 * can (pass it to `fetch`, timers, queries); errors thrown after it aborted are not failures.
 *
 * @example
 * ```ts
 * const job: Job = async (signal) => {
 *   const message = await queue.receive({ signal });
 *   await handle(message);
 * };
 * ```
 */
export type Job = (signal: AbortSignal) => void | Promise<void>;

/**
 * Builds one {@link Job} per pool worker, called when the worker joins the pool (at `start` and on
 * every `more()`). State captured by the built job belongs to that one worker, which runs its job
 * strictly one call at a time, so it needs no locking.
 *
 * @example
 * ```ts
 * const builder: JobBuilder = () => {
 *   let handled = 0; // this worker's own counter
 *   return async (signal) => { await work(signal); handled++; };
 * };
 * ```
 */
export type JobBuilder = () => Job;

/**
 * Wraps a job to extend what it does (count, time, retry, pause, log...). The pool applies its
 * middlewares to each worker's job when the worker joins; {@link wrap} applies them by hand.
 *
 * The type parameter lets the same middleware shape wrap other kinds of jobs (for example event
 * handlers); it defaults to the pool's {@link Job}.
 *
 * @example
 * ```ts
 * const log: Middleware = (job) => async (signal) => {
 *   try { await job(signal); } catch (error) { logger.error(error); throw error; }
 * };
 * ```
 */
export type Middleware<J extends (...args: any[]) => unknown = Job> = (job: J) => J;

/**
 * Applies `middlewares` to `job` in order: the first middleware wraps the job, the next wraps the
 * result, and so on, so the last one is the outermost and runs first (as the seed's Go `Wrap`).
 *
 * @throws {@link InvalidArgumentError} when `job` or a middleware is not a function, or a
 * middleware does not return one.
 *
 * @example
 * ```ts
 * const c = counter();
 * pool.start(wrap(job, retry(2), c)); // c counts once per call, however many attempts it took
 * ```
 */
export function wrap<J extends (...args: any[]) => unknown = Job>(job: J, ...middlewares: Array<Middleware<J>>): J {
  if (typeof job !== 'function')
    throw new InvalidArgumentError(`Expected \`job\` to be a function, got ${describeValue(job)}.`);
  let wrapped = job;
  for (const [index, middleware] of middlewares.entries()) {
    if (typeof middleware !== 'function') {
      throw new InvalidArgumentError(
        `Expected middleware ${index} to be a function (job) => job, got ${describeValue(middleware)}.`,
      );
    }
    wrapped = middleware(wrapped);
    if (typeof wrapped !== 'function') {
      throw new InvalidArgumentError(
        `Expected middleware ${index} to return a job function, got ${describeValue(wrapped)}.`,
      );
    }
  }
  return wrapped;
}
