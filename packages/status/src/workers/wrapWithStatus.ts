import type { StatusBoard } from '../board/StatusBoard.js';
import type { StatusJob } from '../board/StatusJob.js';
import { StatusInvalidArgumentError } from '../errors/errors.js';
import type { PrefixFormat } from '../format/formatPrefix.js';
import { compilePrefix } from '../internal/compilePrefix.js';
import { describeValue, isAsyncIterable, isPromiseLike, messageOf } from '../internal/describe.js';
import type { WorkerConstructor, WorkerSource, WorkerValue } from './runWorkers.js';

/** Options of {@link wrapWithStatus}. */
export interface WrapWithStatusOptions {
  /**
   * The job's prefix: a printf-like template formatted with the worker id (`%d`, `%2d`, `%02d`,
   * `%-2d`, `%%`), or a function of the id.
   * @default 'worker %2d:'
   */
  prefix?: PrefixFormat;
  /**
   * The job's text until the worker updates it.
   * @default 'waiting'
   */
  initialText?: string;
  /**
   * The job's text once the worker completed (its iterable ended or its promise resolved).
   * @default 'done'
   */
  completeText?: string;
  /**
   * The job's text when the worker was stopped early (the run's signal aborted before it ended).
   * @default 'stopped'
   */
  stoppedText?: string;
  /**
   * The job's text when the worker failed.
   * @default (error) => `failed: ${error.message}`
   */
  failedText?: (error: unknown) => string;
}

/**
 * A worker constructor that reports on a status board: it receives its board job (instead of the
 * id), the run's signal, and its id, and may update the job as it works.
 */
export type StatusWorkerConstructor<S extends WorkerSource = WorkerSource> = (
  job: StatusJob,
  signal: AbortSignal,
  id: number,
) => S;

/** What {@link wrapWithStatus} returns: a constructor for {@link runWorkers}. */
export type WrappedWorkerSource<S extends WorkerSource> = AsyncIterableIterator<WorkerValue<S>> | Promise<void>;

type Outcome = { kind: 'ended' } | { kind: 'failed'; error: unknown };

function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string')
    throw new StatusInvalidArgumentError(`Expected \`${name}\` to be a string, got ${describeValue(value)}.`);
}

/**
 * Wraps a worker constructor so that each worker gets a job on `board` (a port of active-status'
 * `wrap-with-status`): the job is added when the worker is created, with the formatted prefix and
 * `initialText`, passed to the constructor, and closed when the worker ends, with `completeText`,
 * `stoppedText` (the run's signal aborted) or `failedText(error)`. A worker that closed its job
 * itself keeps its own final text. The result is a constructor for {@link runWorkers}; the values
 * the worker conveys pass through unchanged.
 *
 * @throws {@link StatusInvalidArgumentError} when `constructor` is not a function or an option is
 *   invalid (checked now, not when the workers start).
 *
 * @example
 * ```ts
 * using board = createStatusBoard();
 * const work = ['a.csv', 'b.csv', 'c.csv'];
 * for await (const rows of runWorkers(2, wrapWithStatus(board, async function* (job, signal) {
 *   for (let file = work.shift(); file !== undefined; file = work.shift()) {
 *     job.update(`importing ${file}`);
 *     yield await importFile(file, { signal });
 *   }
 * }))) {
 *   total += rows;
 * }
 * ```
 */
export function wrapWithStatus<S extends WorkerSource>(
  board: StatusBoard,
  constructor: StatusWorkerConstructor<S>,
  options: WrapWithStatusOptions = {},
): WorkerConstructor<WrappedWorkerSource<S>> {
  if (board === null || typeof board !== 'object' || typeof (board as Partial<StatusBoard>).addJob !== 'function') {
    throw new StatusInvalidArgumentError(`Expected \`board\` to be a status board, got ${describeValue(board)}.`);
  }
  if (typeof constructor !== 'function') {
    throw new StatusInvalidArgumentError(
      `Expected \`constructor\` to be a function (job, signal, id) => worker, got ${describeValue(constructor)}.`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new StatusInvalidArgumentError(`Expected the options to be an object, got ${describeValue(options)}.`);
  }
  const { initialText = 'waiting', completeText = 'done', stoppedText = 'stopped' } = options;
  const { failedText = (error: unknown) => `failed: ${messageOf(error)}` } = options;
  const prefix = compilePrefix(options.prefix ?? 'worker %2d:', 'prefix');
  assertString(initialText, 'initialText');
  assertString(completeText, 'completeText');
  assertString(stoppedText, 'stoppedText');
  if (typeof failedText !== 'function') {
    throw new StatusInvalidArgumentError(
      `Expected \`failedText\` to be a function (error) => string, got ${describeValue(failedText)}.`,
    );
  }

  return (id, signal) => {
    const job = board.addJob({ prefix: prefix(id), initialText });
    let closed = false;
    const finish = (outcome: Outcome): void => {
      if (closed) return;
      closed = true;
      let text: string;
      if (outcome.kind === 'failed' && !signal.aborted) {
        const out: unknown = failedText(outcome.error);
        text = typeof out === 'string' ? out : `failed: ${messageOf(outcome.error)}`;
      } else {
        text = signal.aborted ? stoppedText : completeText;
      }
      job.close(text);
    };

    let source: unknown;
    try {
      source = constructor(job, signal, id);
    } catch (error) {
      finish({ kind: 'failed', error });
      throw error;
    }
    if (isAsyncIterable(source)) return track(source as AsyncIterable<WorkerValue<S>>, finish);
    if (isPromiseLike(source)) {
      return Promise.resolve(source).then(
        () => finish({ kind: 'ended' }),
        (error: unknown) => {
          finish({ kind: 'failed', error });
          throw error;
        },
      );
    }
    const error = new StatusInvalidArgumentError(
      `Expected worker ${id}'s constructor to return an async iterable or a promise, got ${describeValue(source)}.`,
    );
    finish({ kind: 'failed', error });
    throw error;
  };
}

/** Passes `source`'s values through and calls `finish` once, when it ends, fails or is returned. */
function track<T>(source: AsyncIterable<T>, finish: (outcome: Outcome) => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next() {
      try {
        const result = await iterator.next();
        if (result.done === true) finish({ kind: 'ended' });
        return result;
      } catch (error) {
        finish({ kind: 'failed', error });
        throw error;
      }
    },
    async return(value?: unknown) {
      try {
        const result =
          iterator.return === undefined ? { value: undefined, done: true as const } : await iterator.return(value);
        finish({ kind: 'ended' });
        return result as IteratorResult<T>;
      } catch (error) {
        finish({ kind: 'failed', error });
        throw error;
      }
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
