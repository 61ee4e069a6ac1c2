import { Worker } from 'node:worker_threads';
import { BotConfigError } from '../errors/errors.js';
import type { SimulationOptions } from './Simulation.js';

/** A request of {@link SimulationThread} to its thread. */
export type SimulationRequest = { id: number; op: 'begin' | 'stop' | 'close' };

/** What the simulation's thread reports when its traffic stops (or it closes). */
export interface SimulationReport {
  /** Generated events. */
  readonly sent: number;
  readonly elapsedMs: number;
  /** Floods sent. */
  readonly bursts: number;
  /** Slash commands sent, and those without a callback (never answered, or after Discord's 3 s). */
  readonly interactions: { readonly sent: number; readonly unanswered: number };
}

/** An answer of the simulation's thread. */
export type SimulationResponse =
  | {
      id: number;
      ok: true;
      started?: { apiBase: string; token: string };
      stopped?: SimulationReport;
    }
  | { id: number; ok: false; error: string; code?: string };

/** The thread's entry: built JavaScript, also when this module runs from `src/` under a test runner. */
const ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/sim/simulationWorker.js' : './simulationWorker.js',
  import.meta.url,
);

/**
 * A {@link Simulation} in a worker thread of its own: what `node dist/main.js` runs without a
 * token. The simulated Discord (traffic, gateway, REST) then does not compete with the bot for its
 * main thread, as a real Discord would not.
 */
export class SimulationThread {
  /** The simulated REST API base (`sim.apiBase`). */
  readonly apiBase: string;
  /** The simulated bot token. */
  readonly token: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, (response: SimulationResponse) => void>();
  #nextId = 1;
  #closing: Promise<SimulationReport> | undefined;

  private constructor(worker: Worker, started: { apiBase: string; token: string }) {
    this.#worker = worker;
    this.apiBase = started.apiBase;
    this.token = started.token;
    worker.on('message', (response: SimulationResponse) => {
      const settle = this.#pending.get(response.id);
      this.#pending.delete(response.id);
      settle?.(response);
    });
  }

  /**
   * Starts the simulation's thread; resolves once its Discord listens.
   *
   * @throws {@link BotConfigError} (`ERR_BOT_CONFIG`) for a bad option, as `Simulation.start`.
   */
  static async start(options: SimulationOptions = {}): Promise<SimulationThread> {
    const worker = new Worker(ENTRY, { workerData: options });
    const first = await new Promise<SimulationResponse>((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`The simulation's thread exited with code ${code}.`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (response: SimulationResponse) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(response);
      });
    });
    if (!first.ok || first.started === undefined) {
      await worker.terminate();
      // A bad option is the caller's mistake, as with Simulation.start.
      if (!first.ok && first.code === 'ERR_BOT_CONFIG') throw new BotConfigError(first.error);
      throw new Error(`Could not start the simulated Discord: ${first.ok ? 'no address' : first.error}`);
    }
    // A failure of the thread later fails what waits for it rather than the process.
    worker.on('error', () => undefined);
    return new SimulationThread(worker, first.started);
  }

  /** Sends the configuration commands, then starts the traffic and the floods. */
  async begin(): Promise<void> {
    await this.#call('begin');
  }

  /** Stops the traffic and the floods. */
  async stop(): Promise<SimulationReport> {
    return (await this.#call('stop')).stopped!;
  }

  /** Stops everything, closes the simulated Discord and its thread; resolves with the final counts. Idempotent. */
  close(): Promise<SimulationReport> {
    this.#closing ??= (async () => {
      const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
      const report = (await this.#call('close')).stopped!;
      await exited;
      return report;
    })();
    return this.#closing;
  }

  #call(op: SimulationRequest['op']): Promise<SimulationResponse & { ok: true }> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error(`The simulation's thread exited before answering ${op}.`));
      this.#worker.once('exit', onExit);
      this.#pending.set(id, (response) => {
        this.#worker.off('exit', onExit);
        if (response.ok) resolve(response);
        else reject(new Error(`The simulated Discord failed to ${op}: ${response.error}`));
      });
      this.#worker.postMessage({ id, op } satisfies SimulationRequest);
    });
  }
}
