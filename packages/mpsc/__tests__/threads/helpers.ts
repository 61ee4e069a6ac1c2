import { Worker } from 'node:worker_threads';
import type { Transferable } from 'node:worker_threads';
import { expect } from 'vitest';

export interface Message {
  type: string;
  id?: number;
  sent?: number;
  error?: { code: string; name: string; message: string };
  [key: string]: unknown;
}

export interface Spawned {
  readonly worker: Worker;
  readonly messages: Message[];
  /** Resolves with the first message of `type` (at once if it already came). */
  next(type: string): Promise<Message>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
}

/** Starts a fixture (JS that imports the built package) in a worker thread. */
export function spawn(fixture: string, workerData: unknown, transferList: Transferable[] = []): Spawned {
  const worker = new Worker(new URL(`../fixtures/${fixture}`, import.meta.url), { workerData, transferList });
  const messages: Message[] = [];
  const waiters: { type: string; resolve: (m: Message) => void }[] = [];
  worker.on('message', (message: Message) => {
    messages.push(message);
    for (const waiter of waiters.filter((w) => w.type === message.type)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  });
  const exited = new Promise<number>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', resolve);
  });
  return {
    worker,
    messages,
    exited,
    next: (type) => {
      const found = messages.find((m) => m.type === type);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ type, resolve }));
    },
  };
}

/** The (producer id, sequence number) a value from `send-values.mjs` carries. */
export function origin(value: unknown): [number, number] {
  if (typeof value === 'number') return [Math.floor(value / 1_000_000), value % 1_000_000];
  if (typeof value === 'string') {
    const [id, i] = value.split(':');
    return [Number(id), Number(i)];
  }
  if (value instanceof Uint8Array) return [value[0]!, value[1]! | (value[2]! << 8) | (value[3]! << 16)];
  const object = value as { p: number; i: number };
  return [object.p, object.i];
}

/** Groups values by producer, keeping arrival order. */
export function byProducer(values: unknown[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const value of values) {
    const [id, i] = origin(value);
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = []));
    group.push(i);
  }
  return groups;
}

/** Asserts that producer `id` delivered exactly 0..count-1, each once, in order. */
export function expectExactly(groups: Map<number, number[]>, id: number, count: number): void {
  const got = groups.get(id) ?? [];
  expect(got.length, `values from producer ${id}`).toBe(count);
  const firstWrong = got.findIndex((value, index) => value !== index);
  expect(firstWrong, `first out-of-order value from producer ${id}`).toBe(-1);
}

/** Receives everything until the queue is closed and drained. */
export async function drain(
  queue: { recvMany(limit: number): Promise<unknown[] | undefined> },
  check?: (batch: unknown[]) => void,
): Promise<unknown[]> {
  const all: unknown[] = [];
  for (let batch = await queue.recvMany(1024); batch !== undefined; batch = await queue.recvMany(1024)) {
    check?.(batch);
    for (const value of batch) all.push(value);
  }
  return all;
}
