import { describe, expect, it } from 'vitest';
import { Node, onWorker } from '../../src/index.js';

class Mailer extends Node {
  readonly log: string[] = [];
  #sent = 0;
  #release: (() => void) | undefined;

  constructor(workers = 0) {
    super();
    if (workers > 0) this.workers(workers);
  }

  @onWorker(0)
  async send(to: string): Promise<number> {
    this.log.push(`send ${to} on ${this.currentWorker()}`);
    return ++this.#sent;
  }

  @onWorker(0)
  async waitForRelease(): Promise<void> {
    this.log.push('waiting');
    await new Promise<void>((resolve) => (this.#release = resolve));
    this.log.push('released');
  }

  @onWorker(1)
  async audit(entry: string): Promise<string> {
    this.log.push(`audit ${entry} on ${this.currentWorker()}`);
    return entry.toUpperCase();
  }

  @onWorker(1)
  async fail(message: string): Promise<never> {
    throw new RangeError(message);
  }

  release(): void {
    this.#release?.();
  }

  /** Which of the node's workers are running a task right now. */
  currentWorker(): string {
    return [0, 1].filter((index) => index < this.size && this.worker(index).busy).join('+');
  }
}

describe('Node', () => {
  it('runs an @onWorker method on the worker of that index and resolves with its result', async () => {
    const mailer = new Mailer(2);
    await expect(mailer.send('ada')).resolves.toBe(1);
    await expect(mailer.audit('x')).resolves.toBe('X');
    expect(mailer.log).toEqual(['send ada on 0', 'audit x on 1']);
    expect(mailer.stats().map((stats) => stats.finished)).toEqual([1, 1]);
    mailer.kill();
  });

  it('queues the calls of one worker in call order while other workers run', async () => {
    const mailer = new Mailer();
    const waiting = mailer.waitForRelease();
    const sent = mailer.send('bob');
    await mailer.audit('meanwhile');
    expect(mailer.log).toEqual(['waiting', 'audit meanwhile on 0+1']);
    mailer.release();
    await waiting;
    await expect(sent).resolves.toBe(1);
    expect(mailer.log).toEqual(['waiting', 'audit meanwhile on 0+1', 'released', 'send bob on 0']);
    mailer.kill();
  });

  it('creates the workers a method needs on first use', async () => {
    const mailer = new Mailer();
    expect(mailer.size).toBe(0);
    await mailer.audit('lazy');
    expect(mailer.size).toBe(2);
    mailer.kill();
  });

  it('rejects with what the method throws and keeps the worker going', async () => {
    const mailer = new Mailer();
    await expect(mailer.fail('nope')).rejects.toThrow(RangeError);
    await expect(mailer.audit('after')).resolves.toBe('AFTER');
    mailer.kill();
  });

  it('keeps the method name', () => {
    expect(Mailer.prototype.send.name).toBe('send');
  });

  it('rejects calls with WorkerKilledError after kill(), including queued ones', async () => {
    const mailer = new Mailer(2);
    const waiting = mailer.waitForRelease();
    const queued = mailer.send('queued');
    mailer.kill('bye');
    expect(mailer.killed).toBe(true);
    expect(mailer.signal.aborted).toBe(true);
    await expect(queued).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED', cause: 'bye' });
    await expect(mailer.send('later')).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    mailer.release();
    await waiting;
  });

  it('rejects with WorkerKilledError when a killed node would have to create the worker', async () => {
    const mailer = new Mailer();
    mailer.kill();
    await expect(mailer.audit('x')).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(() => mailer.workers(1)).toThrow(expect.objectContaining({ code: 'ERR_WORKER_KILLED' }));
  });

  it('closes with await using: calls already made finish, then the workers end', async () => {
    let mailerRef!: Mailer;
    let sends!: Promise<number>[];
    {
      await using mailer = new Mailer();
      mailerRef = mailer;
      sends = [mailer.send('a'), mailer.send('b')];
    }
    await expect(Promise.all(sends)).resolves.toEqual([1, 2]);
    expect(mailerRef.killed).toBe(true);
    expect(mailerRef.stats().every((stats) => stats.queued === 0 && !stats.running)).toBe(true);
  });

  it('returns the same promise from close() twice and refuses new workers while closing', async () => {
    const node = new Node();
    node.workers(1);
    const closing = node.close();
    expect(node.close()).toBe(closing);
    expect(() => node.workers(1)).toThrow(expect.objectContaining({ code: 'ERR_WORKER_KILLED' }));
    await closing;
    expect(node.killed).toBe(true);
  });

  it('appends workers across workers() calls and indexes them with worker()', () => {
    const node = new Node();
    const first = node.workers(2);
    const [third] = node.workers(1);
    expect(node.size).toBe(3);
    expect(node.worker(0)).toBe(first[0]);
    expect(node.worker(2)).toBe(third);
    node.kill();
    expect([0, 1, 2].map((index) => node.worker(index).killed)).toEqual([true, true, true]);
  });

  it.each([0, -1, 1.5, Number.NaN, '2'])('throws InvalidArgumentError from workers(%s)', (count) => {
    expect(() => new Node().workers(count as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it.each([-1, 0.5, '0'])('throws InvalidArgumentError from worker(%s)', (index) => {
    expect(() => new Node().worker(index as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it.each([-1, 1.5, Number.POSITIVE_INFINITY])('throws InvalidArgumentError from onWorker(%s)', (index) => {
    expect(() => onWorker(index)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('throws InvalidArgumentError when @onWorker decorates a static method', () => {
    const decorate = onWorker(0) as unknown as (method: unknown, context: unknown) => unknown;
    expect(() =>
      decorate(async () => 1, { kind: 'method', static: true, name: 'make', addInitializer: () => {} }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('throws InvalidArgumentError when constructing a class that uses @onWorker without extending Node', () => {
    const decorate = onWorker(0) as unknown as (method: unknown, context: ClassMethodDecoratorContext) => void;
    class NotANode {
      @decorate
      async run(): Promise<number> {
        return 1;
      }
    }
    expect(() => new NotANode()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
