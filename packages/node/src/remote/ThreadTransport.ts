import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { NodeRequest, NodeResponse, ThreadWorkerData } from '../protocol/protocol.js';
import type { NodeTransport, TransportCallbacks } from './NodeTransport.js';
import { allSettledWithin } from './settle.js';

const threadEntry = fileURLToPath(new URL('../worker/thread.js', import.meta.url));

/** How many calls may be in flight in the node's thread at once (piscina needs a number). */
const MAX_CONCURRENT_CALLS = 1 << 20;

/** Options of {@link ThreadTransport}. @internal */
export interface ThreadTransportOptions {
  url: string;
  env: NodeJS.ProcessEnv | undefined;
  execArgv: string[] | undefined;
  closeTimeoutMs: number;
}

/**
 * One worker thread run by piscina (`minThreads = maxThreads = 1`, never idle-terminated, Atomics
 * disabled so the module's own timers and I/O keep running between calls). piscina would replace
 * a dead thread with a fresh one — losing the module's state silently — so a crash destroys the
 * pool instead and is reported through `onCrash`.
 * @internal
 */
export class ThreadTransport implements NodeTransport {
  readonly topology = 'thread';
  readonly #piscina: Piscina;
  readonly #callbacks: TransportCallbacks;
  readonly #closeTimeoutMs: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #threadId: number | undefined;
  #ending = false;
  #lastError: Error | undefined;

  constructor(options: ThreadTransportOptions, callbacks: TransportCallbacks) {
    this.#callbacks = callbacks;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    const workerData: ThreadWorkerData = { url: options.url };
    this.#piscina = new Piscina({
      filename: threadEntry,
      name: 'handle',
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: MAX_CONCURRENT_CALLS,
      atomics: 'disabled',
      workerData,
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
    });
    this.#threadId = this.#piscina.threads[0]?.threadId;
    // piscina emits 'error' for a thread failure no task was waiting on.
    this.#piscina.on('error', (error: Error) => {
      this.#lastError = error;
    });
    this.#piscina.on('workerDestroy', () => {
      this.#threadId = undefined;
      if (this.#ending) return;
      this.#ending = true;
      // piscina has already started a replacement thread: end it, the node is gone.
      void this.#piscina.destroy();
      // Report once piscina has told us why (its 'error' event or the failed tasks come right after).
      setImmediate(() => {
        const cause = this.#lastError;
        this.#callbacks.onCrash(
          new Error(
            `The node thread exited unexpectedly${cause === undefined ? '' : `: ${cause.message}`}.`,
            cause === undefined ? {} : { cause },
          ),
        );
      });
    });
  }

  get pid(): undefined {
    return undefined;
  }

  get threadId(): number | undefined {
    return this.#threadId;
  }

  async request(request: NodeRequest): Promise<NodeResponse> {
    const run = this.#piscina.run(request) as Promise<NodeResponse>;
    this.#inFlight.add(run);
    try {
      return await run;
    } catch (error) {
      this.#lastError ??= error as Error;
      throw error;
    } finally {
      this.#inFlight.delete(run);
    }
  }

  async kill(): Promise<void> {
    this.#ending = true;
    await this.#piscina.destroy();
  }

  /** Waits for the calls in flight (at most the close timeout), then ends the thread. */
  async close(): Promise<void> {
    this.#ending = true;
    await allSettledWithin([...this.#inFlight], this.#closeTimeoutMs);
    await this.#piscina.destroy();
  }
}
