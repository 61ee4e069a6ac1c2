import { afterEach } from 'vitest';
import type { Incarnation, LinkHost, LinkItem, RemoteWorkerOptions, WorkerLink } from '../../src/index.js';
import { RemoteWorker } from '../../src/index.js';

/** One incarnation of the fake link: it records what the runtime asks and lets the test answer. */
export class FakeIncarnation implements Incarnation {
  readonly batches: LinkItem[][] = [];
  readonly cancelled: number[] = [];
  pings = 0;
  full = false;
  closed = false;
  killed = false;
  answerPings = true;
  /** What `cancel` answers: whether the worker sees a cancel before it could start the item. */
  exact = true;
  /** What `running()` answers: the item whose handler runs synchronously in the worker (0: none). */
  runningId = 0;
  constructor(readonly host: LinkHost) {}

  get items(): LinkItem[] {
    return this.batches.flat();
  }

  send(items: readonly LinkItem[]): void {
    this.batches.push([...items]);
  }

  busy(): boolean {
    return this.full;
  }

  cancel(id: number): boolean {
    this.cancelled.push(id);
    return this.exact;
  }

  running(): number {
    return this.runningId;
  }

  ping(): void {
    this.pings++;
    if (this.answerPings) queueMicrotask(() => this.host.alive());
  }

  /** While set, `close()` waits until {@link FakeIncarnation.finishClose} (a worker finishing what it holds). */
  holdClose = false;
  #finishClose: (() => void) | undefined;

  async close(): Promise<void> {
    this.closed = true;
    if (this.holdClose) await new Promise<void>((resolve) => (this.#finishClose = resolve));
  }

  finishClose(): void {
    this.#finishClose?.();
  }

  async kill(): Promise<void> {
    this.killed = true;
  }

  /** Answers every item sent so far with `fn(item)`. */
  answerAll(fn: (item: LinkItem) => unknown = (item) => item.payload): void {
    for (const item of this.items) this.host.settle(item.id, true, fn(item));
  }
}

export class FakeLink implements WorkerLink {
  readonly lives: FakeIncarnation[] = [];
  autoReady = true;
  readonly started: Array<(life: FakeIncarnation) => void> = [];

  start(host: LinkHost): Incarnation {
    const life = new FakeIncarnation(host);
    this.lives.push(life);
    if (this.autoReady) queueMicrotask(() => host.ready());
    for (const resolve of this.started.splice(0)) resolve(life);
    return life;
  }

  get last(): FakeIncarnation {
    return this.lives.at(-1)!;
  }

  nextStart(): Promise<FakeIncarnation> {
    return new Promise((resolve) => this.started.push(resolve));
  }
}

/** What {@link fakeWorkers} makes: a worker over a fake link, ready unless the link says otherwise. */
export type MakeFakeWorker = (
  options?: RemoteWorkerOptions,
  link?: FakeLink,
) => Promise<{ worker: RemoteWorker; link: FakeLink }>;

/**
 * Call inside a `describe`: returns `make(options?, link?)`, which builds a `RemoteWorker` over a
 * {@link FakeLink} (liveness probes off unless `options` sets them) and waits until it is ready when
 * the link answers by itself; every worker made is killed after each test.
 */
export function fakeWorkers(): MakeFakeWorker {
  const open: RemoteWorker[] = [];
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((worker) => worker.kill()));
  });
  return async (options = {}, link = new FakeLink()) => {
    const worker = new RemoteWorker(link, { livenessTimeoutMs: Infinity, ...options });
    open.push(worker);
    if (link.autoReady) await worker.ready;
    return { worker, link };
  };
}
