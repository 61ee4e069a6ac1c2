import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SerializedError } from '@switchyard/core';
import { deserializeError } from '@switchyard/core';
import { DatabaseError, DatabaseLostError } from '../errors/errors.js';
import { causeMessages } from './migrations.js';

/** What the PGlite thread is started with (its `workerData`). */
export interface PgliteThreadData {
  /** PGlite's data directory; in memory when undefined. */
  readonly dataDir: string | undefined;
  /** The cached pristine data directory (see `openPglite`), or false. */
  readonly template: string | false;
  /** The schema of the tables: created, made the search path, migrated under the advisory lock. */
  readonly schema: string;
}

/** A request of {@link PgliteThread} to its thread. */
export type PgliteRequest =
  | {
      readonly id: number;
      readonly op: 'query';
      readonly sql: string;
      readonly params: readonly unknown[];
      /** Rows as arrays of values (drizzle's mapped selects) or as objects (raw statements). */
      readonly rowMode: 'array' | 'object';
    }
  | { readonly id: number; readonly op: 'close' };

/** What one statement returned. */
export interface PgliteQueryResult {
  readonly rows: unknown[];
  /** Rows inserted, updated or deleted, when the statement did that. */
  readonly affectedRows?: number;
}

/** A message of the PGlite thread. */
export type PgliteResponse =
  | { readonly id: number; readonly ok: true; readonly result?: PgliteQueryResult }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError }
  /** The first message: the database is open and migrated, or why not (`stage`). */
  | { readonly id: 0; readonly ok: true; readonly ready: true }
  | {
      readonly id: 0;
      readonly ok: false;
      readonly stage: 'open' | 'schema' | 'migrate';
      readonly error: SerializedError;
    };

/** PostgreSQL's SQLSTATE: five digits or capital letters (`23505`, `42P01`). */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * A statement PGlite refused, rebuilt in the main thread as the driver's error: `code` is
 * PostgreSQL's SQLSTATE, as on the errors of `pg`, so a caller reads `cause` the same way with
 * either driver.
 */
export class PgliteStatementError extends Error {
  /** PostgreSQL's SQLSTATE (`23505` unique violation, `42P01` undefined table, ...). */
  readonly code: string;

  constructor(message: string, code: string, stack?: string) {
    super(message);
    this.name = 'PgliteStatementError';
    this.code = code;
    if (stack !== undefined) this.stack = stack;
  }
}

/** An error of the thread, rebuilt: PostgreSQL's refusals keep their SQLSTATE as `code`. */
function rebuild(error: SerializedError): Error {
  return error.code !== undefined && SQLSTATE.test(error.code)
    ? new PgliteStatementError(error.message, error.code, error.stack)
    : deserializeError(error);
}

/** How the bot describes an embedded database: `pglite (in memory, schema public)`. */
export function describePglite(dataDir: string | undefined, schema: string): string {
  return `pglite (${dataDir === undefined ? 'in memory' : dataDir}, schema ${schema})`;
}

function startFailure(data: PgliteThreadData, stage: 'open' | 'schema' | 'migrate', cause: Error): DatabaseError {
  switch (stage) {
    case 'open':
      return new DatabaseError(`Could not open PGlite${data.dataDir === undefined ? '' : ` in ${data.dataDir}`}.`, {
        cause,
      });
    case 'schema':
      return new DatabaseError(`Could not select schema ${data.schema}.`, { cause });
    case 'migrate':
      return new DatabaseError(
        `Could not migrate the tables in ${describePglite(data.dataDir, data.schema)}: ${causeMessages(cause)}`,
        { cause },
      );
  }
}

/** The thread's entry: built JavaScript, also when this module runs from `src/` under a test runner. */
const ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/db/pgliteWorker.js' : './pgliteWorker.js',
  import.meta.url,
);

/** Where a {@link PgliteThread} is: serving, starting a new thread after the last one ended, gone for good, or closed. */
export type PgliteThreadState = 'ready' | 'restarting' | 'lost' | 'closed';

/** The payload of {@link PgliteThread}'s `state` event. */
export interface PgliteStateChange {
  /** The new state. */
  readonly state: PgliteThreadState;
  /**
   * Why (`restarting`, `lost`): how the thread ended (`DatabaseError`), or why a new one could not
   * start (`DatabaseError`); `lost` carries the `DatabaseLostError` every query now fails with.
   */
  readonly error?: Error;
  /** `restarting`: thread deaths and failed starts in a row, this one included. */
  readonly attempt?: number;
  /** `restarting`: how long until the next start. */
  readonly delayMs?: number;
  /** Threads started after the first one. */
  readonly restarts: number;
}

/** Bounds of {@link PgliteThread}; `openDatabase` checks them (its `DatabaseOptions`). */
export interface PgliteThreadOptions {
  /** The longest the thread may take to answer a statement before it is deemed hung. */
  readonly statementTimeoutMs: number;
  /** The first wait before a new thread starts; doubles with every death or failed start in a row. */
  readonly restartMinMs: number;
  /** The longest wait before a new thread starts. */
  readonly restartMaxMs: number;
  /** The longest a thread may take to open the database and apply the migrations; then it is terminated. */
  readonly startTimeoutMs: number;
}

/** One thread: its statements waiting for an answer, and the watchdog over them. */
interface Incarnation {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (result: PgliteQueryResult) => void; reject: (error: Error) => void }>;
  /** Resolves when the thread has ended (its files are released). */
  readonly exited: Promise<void>;
  /** Fires when the thread has not answered for statementTimeoutMs while statements wait. */
  watchdog: NodeJS.Timeout | undefined;
  dead: boolean;
}

/** Starts a thread and waits for its first message: open and migrated, or why not. */
async function spawn(data: PgliteThreadData, startTimeoutMs: number): Promise<Worker> {
  const worker = new Worker(ENTRY, { workerData: data });
  let timer: NodeJS.Timeout | undefined;
  const first = await new Promise<PgliteResponse | Error>((resolve) => {
    const settle = (result: PgliteResponse | Error): void => {
      clearTimeout(timer);
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.off('message', onMessage);
      resolve(result);
    };
    const onError = (error: Error): void => settle(error);
    const onExit = (code: number): void =>
      settle(new Error(`The PGlite thread exited with code ${code} before it was ready.`));
    const onMessage = (response: PgliteResponse): void => settle(response);
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', onMessage);
    // A thread that never answers (a stalled open or migration) is not waited for forever.
    timer = setTimeout(
      () => settle(new Error(`The PGlite thread was not ready within ${startTimeoutMs} ms (pgliteStartTimeoutMs).`)),
      startTimeoutMs,
    );
  });
  if (!(first instanceof Error) && first.ok && 'ready' in first) return worker;
  await worker.terminate();
  if (first instanceof Error) throw startFailure(data, 'open', first);
  if (first.ok) throw startFailure(data, 'open', new Error('The PGlite thread answered before it was ready.'));
  throw startFailure(data, 'stage' in first ? first.stage : 'open', rebuild(first.error));
}

/** PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout`, as a server reports it. */
export const STATEMENT_TIMEOUT_SQLSTATE = '57014';

/**
 * An embedded PGlite in a worker thread of its own: the thread opens the database, creates the
 * schema and applies the migrations (under the advisory lock, as against a server), then runs the
 * statements it is sent. PGlite executes a statement as WebAssembly in the thread that owns it, so
 * in the bot's main thread every query would hold up the gateway, the dispatches and the answers to
 * Discord for as long as it runs; here the main thread only posts the statement and gets the rows.
 * The drizzle side is `drizzle-orm/pg-proxy` (see `openDatabase`).
 *
 * When the thread ends unasked (a crash, `process.exit` inside it, {@link PgliteThread.terminate}),
 * its statements in flight fail, and then:
 * - with a data directory, a new thread opens it again (the migrations find nothing to do) after
 *   `restartMinMs`, doubling with every death or failed start in a row up to `restartMaxMs`;
 *   meanwhile statements fail at once with `DatabaseError` (`ERR_DATABASE`), as against a server
 *   that is down, so callers that retry (the audit outbox) succeed once it is back;
 * - in memory, the data went with the thread: the state becomes `lost` and every statement fails
 *   with `DatabaseLostError` (`ERR_DATABASE_LOST`) rather than starting an empty database.
 *
 * PGlite does not honour `statement_timeout` (nothing interrupts a statement inside it), so the
 * main thread watches the answers: when the thread has not answered for `statementTimeoutMs` while
 * statements wait, the oldest (the one running) fails with SQLSTATE 57014 as a server's cancel
 * would, and the hung thread is terminated and handled as above.
 *
 * Emits `state` ({@link PgliteStateChange}) on every change of {@link PgliteThread.state}.
 * @internal Used by `openDatabase`.
 */
export class PgliteThread extends EventEmitter<{ state: [PgliteStateChange] }> {
  readonly #data: PgliteThreadData;
  readonly #options: PgliteThreadOptions;
  #current: Incarnation | undefined;
  #state: PgliteThreadState = 'ready';
  /** What every statement fails with once the state is `lost`. */
  #lost: Error | undefined;
  /** Why the last thread ended, while the next one starts. */
  #down: Error | undefined;
  /** Deaths and failed starts in a row; back to 0 once a thread answers a statement. */
  #failures = 0;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #starting: Promise<void> | undefined;
  #nextId = 1;
  #closing: Promise<void> | undefined;

  private constructor(data: PgliteThreadData, options: PgliteThreadOptions, worker: Worker) {
    super();
    this.#data = data;
    this.#options = options;
    this.#current = this.#attach(worker);
  }

  /**
   * Starts the thread; resolves once the database is open and migrated.
   * @throws {@link DatabaseError} (`ERR_DATABASE`) when PGlite could not be opened, the schema not
   *   created, or a migration not applied (`cause`: the driver's error, rebuilt).
   */
  static async start(data: PgliteThreadData, options: PgliteThreadOptions): Promise<PgliteThread> {
    return new PgliteThread(data, options, await spawn(data, options.startTimeoutMs));
  }

  /** Whether statements can run (`ready`), a new thread is starting, the in-memory data is lost, or closed. */
  get state(): PgliteThreadState {
    return this.#state;
  }

  /** The `threadId` of the thread serving now; undefined between two threads, once lost or closed. */
  get threadId(): number | undefined {
    return this.#current?.worker.threadId;
  }

  /** Threads started after the first one. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Runs one statement in the thread. Rejects with the driver's error (rebuilt: PGlite's message,
   * its SQLSTATE as `code`; 57014 when the thread did not answer within the statement timeout),
   * `DatabaseError` when the thread ended with it in flight or is restarting, or
   * `DatabaseLostError` once an in-memory database is lost.
   */
  query(sql: string, params: readonly unknown[], rowMode: 'array' | 'object'): Promise<PgliteQueryResult> {
    if (this.#closing !== undefined) return Promise.reject(new DatabaseError('The PGlite thread is closed.'));
    if (this.#lost !== undefined) return Promise.reject(this.#lost);
    if (this.#current === undefined) {
      // No cause: the message says it all, and BotDatabase.run reports the innermost cause's message.
      return Promise.reject(
        new DatabaseError(`The PGlite thread is restarting (${this.#down?.message ?? 'it ended'}); try again later.`),
      );
    }
    return this.#request(this.#current, { op: 'query', sql, params, rowMode });
  }

  /**
   * Ends the serving thread abruptly, as a crash would, and handles it as one (restart, or lost
   * in memory); what the statement timeout does to a hung thread. Resolves once it has ended.
   */
  async terminate(): Promise<void> {
    const current = this.#current;
    if (current === undefined) return;
    this.#died(current, new DatabaseError('The PGlite thread was terminated.'));
    await current.worker.terminate();
    await current.exited;
  }

  /** Closes PGlite (its data directory is complete on disk afterwards), then ends the thread. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#restartTimer);
      await this.#starting;
      const current = this.#current;
      this.#setState({ state: 'closed' });
      if (current !== undefined) {
        await this.#request(current, { op: 'close' }).catch(() => undefined);
        await current.worker.terminate();
        await current.exited;
      }
    })();
    return this.#closing;
  }

  #attach(worker: Worker): Incarnation {
    let exited!: () => void;
    const incarnation: Incarnation = {
      worker,
      pending: new Map(),
      exited: new Promise<void>((resolve) => {
        exited = resolve;
      }),
      watchdog: undefined,
      dead: false,
    };
    worker.on('message', (response: PgliteResponse) => {
      const waiting = incarnation.pending.get(response.id);
      if (waiting === undefined) return;
      incarnation.pending.delete(response.id);
      this.#watch(incarnation);
      if (response.ok) {
        this.#failures = 0;
        waiting.resolve('result' in response && response.result !== undefined ? response.result : { rows: [] });
      } else waiting.reject(rebuild(response.error));
    });
    worker.on('error', (error) =>
      this.#died(incarnation, new DatabaseError(`The PGlite thread failed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) => {
      exited();
      this.#died(incarnation, new DatabaseError(`The PGlite thread exited (code ${code}).`));
    });
    return incarnation;
  }

  #request(
    incarnation: Incarnation,
    request: Omit<Extract<PgliteRequest, { op: 'query' }>, 'id'> | { op: 'close' },
  ): Promise<PgliteQueryResult> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      incarnation.pending.set(id, { resolve, reject });
      if (incarnation.pending.size === 1) this.#watch(incarnation);
      incarnation.worker.postMessage({ ...request, id } as PgliteRequest);
    });
  }

  /** (Re)arms the watchdog after the thread answered or was sent work: statementTimeoutMs from now. */
  #watch(incarnation: Incarnation): void {
    clearTimeout(incarnation.watchdog);
    incarnation.watchdog =
      incarnation.pending.size === 0 || incarnation.dead
        ? undefined
        : setTimeout(() => this.#hung(incarnation), this.#options.statementTimeoutMs);
  }

  /** The thread ran one statement for statementTimeoutMs: fail it as a server would, end the thread. */
  #hung(incarnation: Incarnation): void {
    const oldest = incarnation.pending.entries().next();
    if (oldest.done === true) return;
    const [id, waiting] = oldest.value;
    incarnation.pending.delete(id);
    const { statementTimeoutMs } = this.#options;
    waiting.reject(
      new PgliteStatementError(
        `canceling statement due to statement timeout (the PGlite thread did not answer within ${statementTimeoutMs} ms; PGlite cannot cancel a statement, so its thread is terminated)`,
        STATEMENT_TIMEOUT_SQLSTATE,
      ),
    );
    this.#died(
      incarnation,
      new DatabaseError(
        `The PGlite thread was terminated: a statement ran past the statement timeout (${statementTimeoutMs} ms).`,
      ),
    );
    void incarnation.worker.terminate();
  }

  /**
   * A thread ended (or is being ended): the one place that fails what it had in flight and decides
   * what comes next (restart from the data directory, or lost). Once per thread.
   */
  #died(incarnation: Incarnation, reason: Error): void {
    if (incarnation.dead) return;
    incarnation.dead = true;
    clearTimeout(incarnation.watchdog);
    if (this.#current === incarnation) this.#current = undefined;
    const { dataDir } = this.#data;
    const failure =
      this.#closing !== undefined
        ? new DatabaseError('The PGlite thread was closed.', { cause: reason })
        : dataDir === undefined
          ? new DatabaseLostError(
              `The in-memory PGlite database is lost: ${reason.message} Its data ended with its thread; restart the bot (or give it a data directory).`,
              { cause: reason },
            )
          : new DatabaseError(
              `${reason.message} Its statements in flight may or may not have been applied; a new thread reopens ${dataDir}.`,
              { cause: reason },
            );
    const waiting = [...incarnation.pending.values()];
    incarnation.pending.clear();
    for (const { reject } of waiting) reject(failure);
    if (this.#closing !== undefined) return;
    this.#failures++;
    if (dataDir === undefined) {
      this.#lost = failure;
      this.#setState({ state: 'lost', error: failure });
      return;
    }
    this.#down = reason;
    this.#scheduleRestart(incarnation.exited, reason);
  }

  #scheduleRestart(after: Promise<void>, error: Error): void {
    const { restartMinMs, restartMaxMs } = this.#options;
    const delayMs = Math.min(restartMaxMs, restartMinMs * 2 ** Math.min(this.#failures - 1, 30));
    this.#setState({ state: 'restarting', error, attempt: this.#failures, delayMs });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#starting = this.#restart(after).finally(() => {
        this.#starting = undefined;
      });
    }, delayMs);
  }

  async #restart(after: Promise<void>): Promise<void> {
    // The old thread must have let go of the data directory.
    await after;
    const { dataDir } = this.#data;
    if (this.#closing !== undefined) return;
    if (dataDir !== undefined && !existsSync(join(dataDir, 'PG_VERSION'))) {
      // Opening it now would create an empty database: the data is as gone as in memory.
      this.#lost = new DatabaseLostError(
        `The PGlite data directory ${dataDir} no longer holds a database; its thread is not started again on an empty one. Restart the bot.`,
        { cause: this.#down },
      );
      this.#setState({ state: 'lost', error: this.#lost });
      return;
    }
    let worker: Worker;
    try {
      worker = await spawn(this.#data, this.#options.startTimeoutMs);
    } catch (error) {
      if (this.#closing !== undefined) return;
      this.#failures++;
      this.#down = error as Error;
      this.#scheduleRestart(Promise.resolve(), error as Error);
      return;
    }
    if (this.#closing !== undefined) {
      await worker.terminate();
      return;
    }
    this.#restarts++;
    this.#down = undefined;
    this.#current = this.#attach(worker);
    this.#setState({ state: 'ready' });
  }

  #setState(change: Omit<PgliteStateChange, 'restarts'>): void {
    this.#state = change.state;
    this.emit('state', { ...change, restarts: this.#restarts });
  }
}
