import { EventEmitter } from 'node:events';
import {
  HandlerTimeoutError,
  HandoffTimeoutError,
  InvalidArgumentError,
  PoolClosedError,
  WorkerKilledError,
} from '../errors/errors.js';
import { abortErrorFrom, raceSignal } from '../internal/abort.js';
import { Deque } from '../internal/Deque.js';
import { checkInteger, checkObject } from '../internal/options.js';
import { RecentCache } from '../internal/RecentCache.js';
import type { TenantId } from './TenantId.js';
import { assertTenantId, shardFor, tenantKey } from './TenantId.js';
import type {
  BroadcastOptions,
  BroadcastResult,
  DispatchOptions,
  ResizeInfo,
  ResizeOptions,
  TenantHandoff,
  WorkerLike,
  WorkerLikeEvents,
  WorkerStats,
} from './WorkerLike.js';

/** The event type a {@link WorkerLike} accepts. */
export type WorkerEventOf<W> = W extends WorkerLike<infer E, any> ? E : never;
/** The result type a {@link WorkerLike} resolves with. */
export type WorkerResultOf<W> = W extends WorkerLike<any, infer R> ? R : never;

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions<W extends WorkerLike<any, any> = WorkerLike<any, any>> {
  /**
   * The pool's own id (when pools are nested).
   * @default 0
   */
  id?: number;
  /**
   * Builds the workers {@link WorkerPool.resize} adds and {@link WorkerPool.replace} puts in a slot:
   * `factory(id, total)`. {@link WorkerPool.create} sets it to its own factory.
   * @default undefined (the pool cannot grow)
   */
  factory?: ((id: number, total: number) => W | Promise<W>) | undefined;
}

const FORWARDED = ['crash', 'fatal', 'dispatchError', 'quarantine', 'recycled'] as const;

/**
 * Aggregates workers of one topology and routes every call for a tenant to
 * `workers[shardFor(tenant.id, workers.length)]`, Discord's sharding formula, so a tenant's state
 * always lives in the same worker. A pool is itself a {@link WorkerLike}, and re-emits its
 * workers' `crash`, `fatal`, `dispatchError`, `quarantine` and `recycled` events (each carries the worker id).
 *
 * @example
 * ```ts
 * const pool = await WorkerPool.create(4, (id) => new LocalWorker(definition, { id }));
 * await pool.dispatch({ kind: 'guild', id: guildId }, event);
 * ```
 */
export class WorkerPool<W extends WorkerLike<any, any>>
  extends EventEmitter<WorkerLikeEvents>
  implements WorkerLike<WorkerEventOf<W>, WorkerResultOf<W>>
{
  readonly id: number;
  /** The workers, in shard order: worker `i` serves the tenants with `shardFor(id, size) === i`. */
  get workers(): readonly W[] {
    return this.#workers;
  }
  #workers: readonly W[];
  /** What {@link WorkerPool.create} built the workers with, for {@link WorkerPool.replace}. */
  #factory: ((id: number, total: number) => W | Promise<W>) | undefined;
  readonly #forwarders = new Map<W, Array<[(typeof FORWARDED)[number], (info: any) => void]>>();
  /** Shards of recently seen tenant ids: `shardFor` costs a BigInt per call. */
  readonly #shards = new RecentCache<string, number>(131_072);
  /** The resize under way: tenants move from `shardFor(id, from)` to `shardFor(id, to)`. */
  #resharding: Resharding<W> | undefined;
  /**
   * Settles when the last resize or replace asked for has (`undefined` when none runs); the next one
   * starts after it.
   */
  #resizing: Promise<void> | undefined;
  #closed = false;

  /**
   * Builds a pool of `count` workers with `factory(id, count)` (ids 0..count-1); if one fails to
   * start, the ones already started are killed and the error is rethrown.
   */
  static async create<W extends WorkerLike<any, any>>(
    count: number,
    factory: (id: number, total: number) => W | Promise<W>,
    options: WorkerPoolOptions<W> = {},
  ): Promise<WorkerPool<W>> {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new InvalidArgumentError(`Expected \`count\` to be an integer >= 1, got ${String(count)}.`);
    const settled = await Promise.allSettled(Array.from({ length: count }, async (_, id) => factory(id, count)));
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) {
      await Promise.allSettled(
        settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.kill()] : [])),
      );
      throw failed.reason;
    }
    return new WorkerPool(
      settled.map((result) => (result as PromiseFulfilledResult<W>).value),
      { ...options, factory },
    );
  }

  constructor(workers: readonly W[], options: WorkerPoolOptions<W> = {}) {
    super();
    if (!Array.isArray(workers) || workers.length === 0) {
      throw new InvalidArgumentError(
        `Expected a non-empty array of workers, got ${Array.isArray(workers) ? 'an empty array' : typeof workers}.`,
      );
    }
    this.id = options.id ?? 0;
    if (options.factory !== undefined && typeof options.factory !== 'function')
      throw new InvalidArgumentError(`Expected \`factory\` to be a function, got ${typeof options.factory}.`);
    this.#factory = options.factory;
    this.#workers = Object.freeze([...workers]);
    for (const worker of this.#workers) this.#forward(worker);
  }

  #forward(worker: W): void {
    const listeners = FORWARDED.map(
      (event) => [event, (info: any) => this.emit(event, info)] as [typeof event, (info: any) => void],
    );
    for (const [event, listener] of listeners) worker.on(event, listener);
    this.#forwarders.set(worker, listeners);
  }

  #unforward(worker: W): void {
    for (const [event, listener] of this.#forwarders.get(worker) ?? []) worker.off(event, listener);
    this.#forwarders.delete(worker);
  }

  /**
   * Puts a new worker in slot `index` (one that was killed or gave up, so a pool never keeps a dead
   * slot): `worker`, or one made by the factory of {@link WorkerPool.create} (the old worker is then
   * killed first, so that the new one may take what it held, like a worker id on a process pool's
   * hub). The old worker is killed (its events reject with `WorkerKilledError`) and no longer
   * forwarded. Resolves with the new one.
   *
   * During a {@link WorkerPool.resize} (or with resizes queued) the replacement is queued behind
   * them, like a resize: it never kills a worker in the middle of handing its tenants off, and
   * `index` is a slot of the pool as the resizes left it (one they removed is refused with
   * `InvalidArgumentError`, `ERR_INVALID_ARGUMENT`). A resize asked for meanwhile waits for it.
   *
   * @example
   * ```ts
   * pool.on('fatal', ({ workerId }) => void pool.replace(workerId));
   * ```
   */
  replace(index: number, worker?: W): Promise<W> {
    if (!Number.isSafeInteger(index) || index < 0 || (this.#resizing === undefined && index >= this.#workers.length))
      return Promise.reject(this.#badIndex(index));
    if (worker === undefined && this.#factory === undefined)
      return Promise.reject(
        new InvalidArgumentError(
          'Expected a worker: this pool was not made by WorkerPool.create(), so it has no factory.',
        ),
      );
    return this.#serially(() => this.#replace(index, worker));
  }

  #badIndex(index: number): InvalidArgumentError {
    return new InvalidArgumentError(
      `Expected \`index\` to be an integer from 0 to ${this.#workers.length - 1}, got ${String(index)}.`,
    );
  }

  async #replace(index: number, worker: W | undefined): Promise<W> {
    if (index >= this.#workers.length) throw this.#badIndex(index);
    const old = this.#workers[index]!;
    // One the factory makes may need what the old one holds (a process pool's hub serves one process per id): killed first.
    if (worker === undefined) await old.kill();
    const next = worker ?? (await this.#factory!(index, this.#workers.length));
    this.#unforward(old);
    const workers = [...this.#workers];
    workers[index] = next;
    this.#workers = Object.freeze(workers);
    this.#forward(next);
    await old.kill();
    return next;
  }

  /** How many workers the pool holds. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * The worker that serves `tenant` now (during a resize, a moving tenant's old worker until its
   * handoff is done). Throws `InvalidTenantIdError` for a malformed tenant.
   */
  workerFor(tenant: TenantId): W {
    const target = this.#target(tenant);
    return target instanceof Move ? this.#workers[target.from]! : target;
  }

  /** The worker for `tenant`, or its move when it moves in a resize under way (its calls are then held). */
  #target(tenant: TenantId): W | Move {
    assertTenantId(tenant);
    if (this.#resharding !== undefined) return this.#route(this.#resharding, tenant, true)!;
    let shard = this.#shards.get(tenant.id);
    if (shard === undefined) {
      shard = shardFor(tenant.id, this.#workers.length);
      this.#shards.set(tenant.id, shard);
    }
    return this.#workers[shard]!;
  }

  dispatch(tenant: TenantId, event: WorkerEventOf<W>, options?: DispatchOptions): Promise<WorkerResultOf<W>> {
    try {
      const target = this.#target(tenant);
      if (target instanceof Move) return this.#hold(target, 'event', [event], options);
      return target.dispatch(tenant, event, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  dispatchNoWait(tenant: TenantId, event: WorkerEventOf<W>): void {
    const target = this.#target(tenant);
    if (target instanceof Move) target.held.push(new HeldCall('nowait', [event], undefined, undefined));
    else target.dispatchNoWait(tenant, event);
  }

  runScript(
    tenant: TenantId,
    name: string,
    code: string,
    event: WorkerEventOf<W>,
    options?: DispatchOptions,
  ): Promise<WorkerResultOf<W>> {
    try {
      const target = this.#target(tenant);
      if (target instanceof Move) return this.#hold(target, 'script', [name, code, event], options);
      return target.runScript(tenant, name, code, event, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  dropTenant(tenant: TenantId, options?: DispatchOptions): Promise<void> {
    try {
      const target = this.#target(tenant);
      if (target instanceof Move) return this.#hold(target, 'drop', [], options);
      return target.dropTenant(tenant, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Delivers `message` to every worker's `onBroadcast` hook and resolves with one entry per
   * worker, in worker order, like `Promise.allSettled`. A worker that refuses it (killed, given up)
   * has a `rejected` entry; only when every worker refuses it as closed or killed does the call
   * reject, with `WorkerKilledError`.
   *
   * @example
   * ```ts
   * const answers = await pool.broadcast({ type: 'reload-config' }, { timeoutMs: 5000 });
   * const failed = answers.filter((entry) => entry.status === 'rejected');
   * ```
   */
  broadcast<T = unknown>(message: unknown, options: BroadcastOptions = {}): Promise<BroadcastResult<T>[]> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The broadcast'));
    const workers = this.#workers;
    const calls = workers.map((worker) => worker.broadcast<T>(message, options));
    const all = Promise.all(
      calls.map((call, index) =>
        call.then(
          (entries) => ({ entries, refused: undefined }),
          (reason: unknown) => ({
            entries: [{ workerId: workers[index]!.id, status: 'rejected', reason }] as BroadcastResult<T>[],
            refused: reason,
          }),
        ),
      ),
    ).then((answers) => {
      const refusals = answers.map((answer) => answer.refused);
      if (refusals.every((reason) => reason !== undefined)) {
        // Every worker refused the call itself: the same reason for all (bad options, aborted) or a closed pool.
        const first = refusals[0];
        if (!(first instanceof WorkerKilledError) || refusals.every((reason) => reason instanceof WorkerKilledError))
          throw first;
      }
      return answers.flatMap((answer) => answer.entries);
    });
    return raceSignal(all, signal, 'The broadcast');
  }

  /** Lifts `tenant`'s quarantine on the worker that serves it; `true` when it was quarantined. */
  release(tenant: TenantId): boolean {
    return this.workerFor(tenant).release(tenant);
  }

  /** The sum of every worker's counters (per-worker rows: `pool.workers.map((w) => w.stats())`). */
  stats(): WorkerStats {
    const total: WorkerStats = { id: this.id, tenants: 0, queued: 0, handled: 0, failed: 0 };
    for (const worker of this.workers) {
      const s = worker.stats();
      total.tenants += s.tenants;
      total.queued += s.queued;
      total.handled += s.handled;
      total.failed += s.failed;
    }
    return total;
  }

  // ---------------------------------------------------------------------------------------------
  // Live resharding
  // ---------------------------------------------------------------------------------------------

  /** Every worker's tenants (a nested pool lists its workers'). */
  heldTenants(): TenantId[] {
    return this.#workers.flatMap((worker) => worker.heldTenants());
  }

  handOffTenant(tenant: TenantId, options?: DispatchOptions): Promise<TenantHandoff | undefined> {
    try {
      return this.workerFor(tenant).handOffTenant(tenant, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  adoptTenant(tenant: TenantId, handoff: TenantHandoff, options?: DispatchOptions): Promise<void> {
    try {
      return this.workerFor(tenant).adoptTenant(tenant, handoff, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Changes the number of workers to `size` while traffic flows. New workers come from the
   * factory (of {@link WorkerPool.create}, or the `factory` option); removed ones are closed
   * gracefully once their tenants left. A tenant whose shard (`shardFor(id, size)`) changes moves:
   * its old worker finishes every event already accepted for it, exports its state
   * (`exportTenant`, when the definition has it) and releases it (`dropTenant`), and only then does
   * its new worker get its next events (after `importTenant`, when state was carried). Calls for a
   * moving tenant that arrive meanwhile are accepted and held in order in the pool (their
   * `timeoutMs` counts from the call; their `signal` still aborts them); other tenants are not
   * paused. Only tenants a worker holds (`heldTenants()`) or that receive events move.
   *
   * A second `resize` (or a {@link WorkerPool.replace}) while one runs is queued: it starts when the
   * first has finished. Resolves with what the `resized` event reports.
   *
   * A handoff is bounded by `options.handoffTimeoutMs`: a tenant whose old worker still runs a
   * handler of it past that (one whose caller gave up: it cannot be stopped) moves without its state
   * (see {@link ResizeOptions.handoffTimeoutMs}); nothing of it is lost, and it is never left behind.
   *
   * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) for a size that is not an integer >= 1,
   * a bad `handoffTimeoutMs`, or to grow a pool that has no factory; `PoolClosedError` (`ERR_POOL_CLOSED`) once the pool is
   * closing or killed (also for a queued resize that had not started).
   *
   * @example
   * ```ts
   * pool.on('resized', ({ from, to, moved, longestHoldMs }) => console.log(`${from} → ${to}: ${moved} tenants moved`));
   * await pool.resize(pool.size + 1);
   * ```
   */
  resize(size: number, options: ResizeOptions = {}): Promise<ResizeInfo> {
    if (!Number.isSafeInteger(size) || size < 1)
      return Promise.reject(new InvalidArgumentError(`Expected \`size\` to be an integer >= 1, got ${String(size)}.`));
    let handoffTimeoutMs: number;
    try {
      checkObject('options', options);
      handoffTimeoutMs = checkInteger('handoffTimeoutMs', options.handoffTimeoutMs ?? 30_000, 1, true);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new PoolClosedError('The pool is closed; it cannot be resized.'));
    return this.#serially(() => this.#resize(size, handoffTimeoutMs));
  }

  /** Runs `task` once the resizes and replacements asked for before have finished. */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#resizing === undefined ? task() : this.#resizing.then(task);
    const tail: Promise<void> = run.then(
      () => this.#resized(tail),
      () => this.#resized(tail),
    );
    this.#resizing = tail;
    return run;
  }

  #resized(tail: Promise<void>): void {
    if (this.#resizing === tail) this.#resizing = undefined;
  }

  async #resize(to: number, handoffTimeoutMs: number): Promise<ResizeInfo> {
    if (this.#closed) throw new PoolClosedError('The pool was closed before the resize started.');
    const started = performance.now();
    const from = this.#workers.length;
    if (to > from && this.#factory === undefined)
      throw new InvalidArgumentError(
        'Expected a factory to grow the pool: it was not made by WorkerPool.create() and has no `factory` option.',
      );
    const info: ResizeInfo = { from, to, moved: 0, carried: 0, failures: [], durationMs: 0, longestHoldMs: 0 };
    if (to !== from) {
      if (to > from) await this.#grow(from, to);
      const r = new Resharding<W>(from, to, handoffTimeoutMs);
      const finished = new Promise<void>((resolve) => (r.done = resolve));
      for (const worker of this.#workers) worker.reshard?.([from, to]);
      // From here on, calls for a moving tenant are held until its old worker has handed it off.
      this.#resharding = r;
      r.info = info;
      this.emit('resizing', { from, to });
      for (let index = 0; index < from; index++) {
        const tenants = this.#workers[index]!.heldTenants();
        for (let i = 0; i < tenants.length; i++) {
          this.#route(r, tenants[i]!, false);
          // Listing 100,000 tenants costs a BigInt each: let the calls of other tenants through meanwhile.
          if ((i & 4095) === 4095) await new Promise((resolve) => setImmediate(resolve));
        }
      }
      r.listing = false;
      this.#settleMove(r, false);
      await finished;
      await Promise.allSettled(r.removed.map((worker) => worker.close()));
    }
    info.durationMs = performance.now() - started;
    this.emit('resized', info);
    return info;
  }

  async #grow(from: number, to: number): Promise<void> {
    const settled = await Promise.allSettled(
      Array.from({ length: to - from }, async (_, i) => this.#factory!(from + i, to)),
    );
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) {
      await Promise.allSettled(
        settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.kill()] : [])),
      );
      throw failed.reason;
    }
    const added = settled.map((result) => (result as PromiseFulfilledResult<W>).value);
    this.#workers = Object.freeze([...this.#workers, ...added]);
    for (const worker of added) this.#forward(worker);
  }

  /**
   * Where `tenant`'s calls go during resize `r`: its worker when its shard does not change or its
   * move is done, else its move. A moving tenant seen for the first time gets a move (`urgent`:
   * it has calls waiting, so its handoff goes first) unless every old worker's list was read
   * without it, which means no old worker holds anything of it.
   */
  #route(r: Resharding<W>, tenant: TenantId, urgent: boolean): W | Move | undefined {
    let shards = r.shards.get(tenant.id);
    if (shards === undefined) {
      shards = [shardFor(tenant.id, r.from), shardFor(tenant.id, r.to)];
      r.shards.set(tenant.id, shards);
    }
    const [from, to] = shards;
    if (from === to) return this.#workers[to];
    const key = tenantKey(tenant);
    let move = r.moves.get(key);
    if (move === undefined) {
      if (!r.listing) return this.#workers[to];
      move = new Move(tenant, from, to);
      r.moves.set(key, move);
      r.pending++;
      const queue = r.queues[from]!;
      (urgent ? queue.urgent : queue.normal).push(move);
      move.urgent = urgent;
      this.#pump(r, from);
    } else if (urgent && !move.urgent && move.state === MoveState.Queued) {
      move.urgent = true;
      r.queues[from]!.urgent.push(move);
    }
    return move.state === MoveState.Done ? this.#workers[to] : move;
  }

  /** Starts the next handoffs of old worker `index`, at most `HANDOFF_WINDOW` at once. */
  #pump(r: Resharding<W>, index: number): void {
    const queue = r.queues[index]!;
    while (queue.active < HANDOFF_WINDOW) {
      const move = queue.urgent.shift() ?? queue.normal.shift();
      if (move === undefined) return;
      if (move.state !== MoveState.Queued) continue;
      move.state = MoveState.Running;
      queue.active++;
      const old = this.#workers[move.from]!;
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      if (r.handoffTimeoutMs !== Infinity) {
        timer = setTimeout(() => {
          if (move.state === MoveState.Done) return;
          const error = new HandoffTimeoutError(
            `Worker ${move.from} did not hand tenant ${tenantKey(move.tenant)} off within ${r.handoffTimeoutMs} ms (handoffTimeoutMs): a handler of it still runs there. It moves to worker ${move.to} without its state.`,
          );
          controller.abort(error);
          this.#handedOff(r, move, undefined, error);
          // Behind that handler in the tenant's queue there: its state is released once it ends.
          old.dropTenant(move.tenant).catch(() => undefined);
        }, r.handoffTimeoutMs);
        timer.unref();
      }
      let handing: Promise<TenantHandoff | undefined>;
      try {
        handing = old.handOffTenant(move.tenant, { signal: controller.signal });
      } catch (error) {
        handing = Promise.reject(error);
      }
      handing.then(
        (handoff) => {
          clearTimeout(timer);
          if (move.state !== MoveState.Done) this.#handedOff(r, move, handoff, undefined);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (move.state !== MoveState.Done) this.#handedOff(r, move, undefined, error);
        },
      );
    }
  }

  /**
   * The old worker let the tenant go (or failed to, having released it anyway): its new worker
   * adopts the exported state, then gets the held calls, in order, before any later one.
   */
  #handedOff(r: Resharding<W>, move: Move, handoff: TenantHandoff | undefined, error: unknown): void {
    move.state = MoveState.Done;
    r.queues[move.from]!.active--;
    r.info!.moved++;
    if (error !== undefined) r.info!.failures.push({ tenant: move.tenant, error });
    const target = this.#workers[move.to]!;
    let adopting = false;
    if (handoff !== undefined) {
      adopting = true;
      let adoption: Promise<void>;
      try {
        adoption = target.adoptTenant(move.tenant, handoff);
      } catch (adoptError) {
        adoption = Promise.reject(adoptError);
      }
      adoption.then(
        () => {
          r.info!.carried++;
          this.#settleMove(r, true);
        },
        (adoptError: unknown) => {
          r.info!.failures.push({ tenant: move.tenant, error: adoptError });
          this.#settleMove(r, true);
        },
      );
    }
    this.#deliverHeld(r, move, target);
    this.#pump(r, move.from);
    if (!adopting) this.#settleMove(r, true);
  }

  /** One move fewer to wait for; the last one ends the resize's routing. */
  #settleMove(r: Resharding<W>, one: boolean): void {
    if (one) r.pending--;
    if (r.listing || r.pending > 0 || this.#resharding !== r) return;
    this.#resharding = undefined;
    this.#shards.clear();
    r.removed = this.#workers.slice(r.to);
    for (const worker of r.removed) this.#unforward(worker);
    this.#workers = Object.freeze(this.#workers.slice(0, r.to));
    for (const worker of this.#workers) worker.reshard?.([r.to]);
    r.done();
  }

  /** Holds a waited call for a moving tenant until its handoff is done. */
  #hold<T>(move: Move, op: 'event' | 'script' | 'drop', args: unknown[], options: DispatchOptions = {}): Promise<T> {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The dispatch'));
    try {
      if (timeoutMs !== undefined) checkInteger('timeoutMs', timeoutMs, 1, true);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      const deadline = timeoutMs === undefined || timeoutMs === Infinity ? undefined : performance.now() + timeoutMs;
      const call = new HeldCall(op, args, signal, deadline, resolve, reject);
      call.traceparent = options.traceparent;
      const giveUp = (error: Error): void => {
        if (call.settled) return;
        call.settled = true;
        call.cleanup();
        reject(error);
      };
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => giveUp(abortErrorFrom(signal!, 'The dispatch'));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined) {
        timer = setTimeout(
          () =>
            giveUp(
              new HandlerTimeoutError(
                `The call for tenant ${tenantKey(move.tenant)} did not finish within ${timeoutMs} ms (it waited for the tenant's move in a resize).`,
              ),
            ),
          timeoutMs,
        );
        timer.unref();
      }
      call.cleanup = () => {
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
      };
      move.held.push(call);
    });
  }

  #deliverHeld(r: Resharding<W>, move: Move, target: W): void {
    const now = performance.now();
    const { tenant } = move;
    for (const call of move.held) {
      if (call.settled) continue;
      call.settled = true;
      call.cleanup();
      r.info!.longestHoldMs = Math.max(r.info!.longestHoldMs, now - call.heldAt);
      if (call.op === 'nowait') {
        try {
          target.dispatchNoWait(tenant, call.args[0]);
        } catch (error) {
          this.emit('dispatchError', { workerId: target.id, tenant, error: error as Error, event: call.args[0] });
        }
        continue;
      }
      const options: DispatchOptions = {};
      if (call.signal !== undefined) options.signal = call.signal;
      if (call.deadline !== undefined) options.timeoutMs = Math.max(1, Math.ceil(call.deadline - now));
      if (call.traceparent !== undefined) options.traceparent = call.traceparent;
      let result: Promise<unknown>;
      try {
        if (call.op === 'event') result = target.dispatch(tenant, call.args[0], options);
        else if (call.op === 'script')
          result = target.runScript(tenant, call.args[0] as string, call.args[1] as string, call.args[2], options);
        else result = target.dropTenant(tenant, options);
      } catch (error) {
        result = Promise.reject(error);
      }
      result.then(call.resolve, call.reject);
    }
    move.held = [];
  }

  async kill(reason?: unknown): Promise<void> {
    this.#closed = true;
    await Promise.all(this.workers.map((worker) => worker.kill(reason)));
  }

  /** Stops gracefully: waits for a resize under way (queued ones are rejected), then closes every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#resizing;
    await Promise.all(this.workers.map((worker) => worker.close()));
  }

  /** Calls {@link WorkerPool.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** How many handoffs one old worker runs at once during a resize. */
const HANDOFF_WINDOW = 128;

const enum MoveState {
  Queued,
  Running,
  Done,
}

/** A tenant moving from worker `from` to worker `to` during a resize, with the calls held for it. */
class Move {
  state = MoveState.Queued;
  urgent = false;
  held: HeldCall[] = [];
  constructor(
    readonly tenant: TenantId,
    readonly from: number,
    readonly to: number,
  ) {}
}

/** A call for a moving tenant, held in the pool until the tenant's new worker may receive it. */
class HeldCall {
  settled = false;
  cleanup: () => void = () => undefined;
  traceparent: string | undefined = undefined;
  readonly heldAt = performance.now();
  constructor(
    readonly op: 'event' | 'nowait' | 'script' | 'drop',
    readonly args: unknown[],
    readonly signal: AbortSignal | undefined,
    readonly deadline: number | undefined,
    readonly resolve?: (value: any) => void,
    readonly reject?: (error: unknown) => void,
  ) {}
}

/** One resize under way. */
class Resharding<W> {
  /** Moves by tenant key. */
  readonly moves = new Map<string, Move>();
  /** Both shards of every tenant id seen during the resize. */
  readonly shards = new Map<string, [number, number]>();
  /** Per old worker: the handoffs waiting (those with held calls first) and how many run. */
  readonly queues: Array<{ urgent: Deque<Move>; normal: Deque<Move>; active: number }>;
  /** Moves not finished (handoff and adoption). */
  pending = 0;
  /** The old workers' lists are still being read. */
  listing = true;
  info: ResizeInfo | undefined;
  removed: readonly W[] = [];
  done: () => void = () => undefined;
  constructor(
    readonly from: number,
    readonly to: number,
    readonly handoffTimeoutMs: number,
  ) {
    this.queues = Array.from({ length: from }, () => ({
      urgent: new Deque<Move>(),
      normal: new Deque<Move>(),
      active: 0,
    }));
  }
}
