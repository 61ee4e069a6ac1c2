import type { WorkerTaskStats } from '@switchyard/core';
import { createWorkers, InvalidArgumentError, WorkerKilledError } from '@switchyard/core';
import type { Worker } from '@switchyard/core';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  return typeof value;
}

/**
 * A node: a set of core `Worker`s that belong together and end together. Each worker runs its
 * tasks one at a time, in order; different workers run concurrently.
 *
 * Use it two ways:
 * - as the `node` handed to {@link defineNode}'s factory, to create the workers the module's
 *   functions run on;
 * - as a base class, with the {@link onWorker} method decorator.
 *
 * `kill()` ends every worker at once, `close()` lets them finish what they were given first;
 * `await using` calls `close()`.
 *
 * @example
 * ```ts
 * class Mailer extends Node {
 *   readonly sent: string[] = [];
 *
 *   @onWorker(0)
 *   async send(to: string): Promise<number> {
 *     this.sent.push(to);
 *     return this.sent.length;
 *   }
 * }
 *
 * await using mailer = new Mailer();
 * await mailer.send('ada@example.com'); // 1, ran on the node's worker 0
 * ```
 */
export class Node implements AsyncDisposable {
  static {
    // Marks Node.prototype for spawnNode's worker side, which stops listing callable members
    // there, even when the module was given another copy of this package.
    Object.defineProperty(this.prototype, Symbol.for('switchyard.node.prototype'), { value: true });
  }

  readonly #workers: Worker[] = [];
  readonly #controller = new AbortController();
  #closing: Promise<void> | undefined;

  /**
   * Creates `count` more workers owned by this node and returns them. They are appended to the
   * node's workers: the first node-wide is index 0 (see {@link Node.worker}).
   *
   * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) when `count` is not an integer >= 1.
   * @throws `WorkerKilledError` (`ERR_WORKER_KILLED`) once the node is killed or closing.
   */
  workers(count: number): Worker[] {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new InvalidArgumentError(`Expected \`count\` to be an integer >= 1, got ${describeValue(count)}.`);
    }
    this.#assertOpen();
    const created = createWorkers(count);
    this.#workers.push(...created);
    return created;
  }

  /**
   * The node's worker at `index` (0-based, in creation order). Workers up to `index` that do not
   * exist yet are created, so `@onWorker(2)` works without calling {@link Node.workers} first.
   *
   * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) when `index` is not an integer >= 0.
   * @throws `WorkerKilledError` (`ERR_WORKER_KILLED`) when the worker would have to be created
   * after the node was killed or started closing.
   */
  worker(index: number): Worker {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new InvalidArgumentError(`Expected \`index\` to be an integer >= 0, got ${describeValue(index)}.`);
    }
    const existing = this.#workers[index];
    if (existing !== undefined) return existing;
    this.workers(index + 1 - this.#workers.length);
    return this.#workers[index]!;
  }

  /** How many workers the node has. */
  get size(): number {
    return this.#workers.length;
  }

  /** True once the node was killed, or once `close()` finished. */
  get killed(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Aborts when the node is killed or closed; hand it to long-running work. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Ends every worker of the node at once: their pending tasks reject with `WorkerKilledError`
   * (`ERR_WORKER_KILLED`), later calls reject the same way, {@link Node.signal} aborts. Tasks
   * already running are not interrupted (they can watch the signal). Safe to call more than once.
   */
  kill(reason?: unknown): void {
    if (this.killed) return;
    this.#controller.abort(reason ?? new WorkerKilledError('The node was killed.'));
    for (const worker of this.#workers) worker.kill(reason);
  }

  /**
   * Stops accepting work, lets every worker finish the tasks it was given, then ends them. Calls
   * made meanwhile reject with `WorkerKilledError`. Resolves once all workers are done; calling it
   * again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all(this.#workers.map((worker) => worker.close()));
      this.kill();
    })();
    return this.#closing;
  }

  /** Calls {@link Node.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Counters of each worker, in index order, for status boards. */
  stats(): WorkerTaskStats[] {
    return this.#workers.map((worker) => worker.stats());
  }

  #assertOpen(): void {
    if (this.killed || this.#closing !== undefined) {
      throw new WorkerKilledError(`The node was ${this.killed ? 'killed' : 'closed'}; it creates no more workers.`, {
        cause: this.killed ? this.signal.reason : undefined,
      });
    }
  }
}
