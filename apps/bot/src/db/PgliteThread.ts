import { Worker } from 'node:worker_threads';
import type { SerializedError } from '@switchyard/core';
import { deserializeError } from '@switchyard/core';
import { DatabaseError } from '../errors/errors.js';
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

/**
 * An embedded PGlite in a worker thread of its own: the thread opens the database, creates the
 * schema and applies the migrations (under the advisory lock, as against a server), then runs the
 * statements it is sent. PGlite executes a statement as WebAssembly in the thread that owns it, so
 * in the bot's main thread every query would hold up the gateway, the dispatches and the answers to
 * Discord for as long as it runs; here the main thread only posts the statement and gets the rows.
 * The drizzle side is `drizzle-orm/pg-proxy` (see `openDatabase`).
 * @internal Used by `openDatabase`.
 */
export class PgliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (result: PgliteQueryResult) => void; reject: (error: Error) => void }
  >();
  #nextId = 1;
  /** Set once the thread is gone (closed, or died): every later statement fails with it. */
  #gone: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (response: PgliteResponse) => {
      const waiting = this.#pending.get(response.id);
      if (waiting === undefined) return;
      this.#pending.delete(response.id);
      if (response.ok)
        waiting.resolve('result' in response && response.result !== undefined ? response.result : { rows: [] });
      else waiting.reject(rebuild(response.error));
    });
    worker.on('error', (error) =>
      this.#fail(new DatabaseError(`The PGlite thread failed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) => this.#fail(new DatabaseError(`The PGlite thread exited (code ${code}).`)));
  }

  /**
   * Starts the thread; resolves once the database is open and migrated.
   * @throws {@link DatabaseError} (`ERR_DATABASE`) when PGlite could not be opened, the schema not
   *   created, or a migration not applied (`cause`: the driver's error, rebuilt).
   */
  static async start(data: PgliteThreadData): Promise<PgliteThread> {
    const worker = new Worker(ENTRY, { workerData: data });
    const first = await new Promise<PgliteResponse | Error>((resolve) => {
      const onError = (error: Error): void => {
        worker.off('exit', onExit);
        resolve(error);
      };
      const onExit = (code: number): void => {
        worker.off('error', onError);
        resolve(new Error(`The PGlite thread exited with code ${code} before it was ready.`));
      };
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', (response: PgliteResponse) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(response);
      });
    });
    if (!(first instanceof Error) && first.ok && 'ready' in first) return new PgliteThread(worker);
    await worker.terminate();
    if (first instanceof Error) throw startFailure(data, 'open', first);
    if (first.ok) throw startFailure(data, 'open', new Error('The PGlite thread answered before it was ready.'));
    throw startFailure(data, 'stage' in first ? first.stage : 'open', rebuild(first.error));
  }

  /**
   * Runs one statement in the thread. Rejects with the driver's error (rebuilt: PGlite's message,
   * its SQLSTATE as `remoteCode`), or `DatabaseError` once the thread is gone.
   */
  query(sql: string, params: readonly unknown[], rowMode: 'array' | 'object'): Promise<PgliteQueryResult> {
    return this.#send({ op: 'query', sql, params, rowMode });
  }

  /** Closes PGlite (its data directory is complete on disk afterwards), then ends the thread. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#gone === undefined) await this.#send({ op: 'close' }).catch(() => undefined);
      await this.#worker.terminate();
    })();
    return this.#closing;
  }

  #send(request: Omit<Extract<PgliteRequest, { op: 'query' }>, 'id'> | { op: 'close' }): Promise<PgliteQueryResult> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id } as PgliteRequest);
    });
  }

  #fail(error: Error): void {
    this.#gone ??= error;
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject } of waiting) reject(this.#gone);
  }
}
