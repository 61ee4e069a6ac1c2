import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type { Incarnation, IncarnationStats, LinkHost, LinkItem, WorkerLink } from '@switchyard/core';
import { deserializeError, InvalidEventError, serializeError } from '@switchyard/core';
import { ThreadExitError } from '../errors/errors.js';
import {
  BATCH,
  CANCEL,
  CANCEL_SLOTS,
  CANCELLABLE,
  CLOSE,
  CLOSED,
  INIT,
  ITEM_WORDS,
  KV,
  KV_ANSWER,
  Op,
  PARK_RELEASE_MS,
  PARKED,
  PING,
  PONG,
  PROTOCOL_VERSION,
  READY,
  RELEASED,
  RESULTS,
  START_FAILED,
  TIMED,
  WAKE_COUNT,
  WAKE_PARKED,
  WAKE_WORDS,
} from '../protocol.js';

/**
 * The built thread entry. From `dist/` it sits next to this module; when this module runs from
 * `src/` (under a test runner) the thread still needs the built JavaScript.
 */
const THREAD_ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/worker/entry.js' : '../worker/entry.js', import.meta.url),
);

const OP_CODES = {
  event: Op.Event,
  script: Op.Script,
  drop: Op.Drop,
  broadcast: Op.Broadcast,
  handoff: Op.Handoff,
  adopt: Op.Adopt,
} as const;

/** What a thread link needs to start threads. @internal */
export interface ThreadLinkOptions {
  readonly url: string;
  readonly workerData: unknown;
  readonly resourceLimits: ResourceLimits | undefined;
}

/** An incarnation is one `worker_threads` thread, talking over its own port. @internal */
export class ThreadLink implements WorkerLink {
  /** Transfers sent (one per turn with work). */
  batches = 0;
  /** The current thread's id. */
  threadId: number | undefined;

  constructor(readonly options: ThreadLinkOptions) {}

  start(host: LinkHost): Incarnation {
    const { url, workerData, resourceLimits } = this.options;
    const thread = new Worker(THREAD_ENTRY, {
      workerData,
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
    });
    this.threadId = thread.threadId;
    const gate = new CancelGate();
    // Bumped after every message, so a thread parked in Atomics.wait reads it at once (see INIT).
    const wake = new Int32Array(new SharedArrayBuffer(WAKE_WORDS * Int32Array.BYTES_PER_ELEMENT));
    const post = (message: unknown[]): void => {
      thread.postMessage(message);
      Atomics.add(wake, WAKE_COUNT, 1);
      // Only a parked thread needs the (costly) notify. One about to park sees the new count and
      // the message first: it marks itself parked before it reads the count and its port.
      if (Atomics.load(wake, WAKE_PARKED) === PARKED) Atomics.notify(wake, WAKE_COUNT);
    };
    // A thread parks after answering; one that got no message for PARK_RELEASE_MS (1 to 2 of them
    // after its last) is sent back to its event loop. One timer at a time, armed by results; while
    // messages keep going, it only re-arms (releasing a thread between two messages would cost a
    // wake-up for nothing: the thread lets its event loop run every PARK_CHAIN_MS on its own).
    let release: NodeJS.Timeout | undefined;
    let postedWhenArmed = 0;
    const armRelease = (): void => {
      postedWhenArmed = Atomics.load(wake, WAKE_COUNT);
      release = setTimeout(releaseParked, PARK_RELEASE_MS);
      release.unref();
    };
    const releaseParked = (): void => {
      if (Atomics.load(wake, WAKE_COUNT) !== postedWhenArmed) return armRelease();
      release = undefined;
      if (Atomics.compareExchange(wake, WAKE_PARKED, PARKED, RELEASED) !== PARKED) return;
      Atomics.add(wake, WAKE_COUNT, 1);
      Atomics.notify(wake, WAKE_COUNT);
    };
    // The thread writes the id of the item whose handler runs synchronously; read when it dies or hangs.
    const running = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    let ended = false;
    let cause: unknown;
    let closed: (() => void) | undefined;
    const gone = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    const end = (): Promise<void> => {
      ended = true;
      void thread.terminate();
      return gone;
    };
    thread.on('error', (error) => {
      cause ??= error;
    });
    thread.once('exit', (code) => {
      clearTimeout(release);
      closed?.();
      if (ended) return;
      ended = true;
      host.lost(
        cause ??
          new ThreadExitError(
            `Worker ${host.workerId}'s thread exited with code ${code} while it was expected to run.`,
            {
              exitCode: code,
            },
          ),
      );
    });
    thread.on('message', (message: unknown[]) => {
      switch (message[0]) {
        case RESULTS: {
          const [, ids, values, failedIds, errors, stats, handlingMs] = message as [
            number,
            number[],
            unknown[],
            number[],
            never[],
            IncarnationStats,
            number[] | undefined,
          ];
          if (release === undefined) armRelease();
          host.stats(stats);
          if (gate.used > 0) {
            gate.release(ids);
            gate.release(failedIds);
          }
          // By position in ids then failedIds; NaN for the items that were not timed.
          const at = handlingMs === undefined ? 0 : performance.now();
          const n = ids.length;
          for (let i = 0; i < n; i++) host.settle(ids[i]!, true, values[i], handlingMs?.[i], at);
          for (let i = 0; i < failedIds.length; i++)
            host.settle(failedIds[i]!, false, deserializeError(errors[i]!), handlingMs?.[n + i], at);
          return;
        }
        case PONG:
          if (message[1] !== undefined) host.stats(message[1] as IncarnationStats);
          return host.alive();
        case KV: {
          const [, id, op, tenant, key, arg] = message as [number, number, 'get', string, string, unknown];
          const answer = (ok: boolean, value: unknown): void => {
            if (ended) return;
            try {
              post([KV_ANSWER, id, ok, value]);
            } catch (error) {
              post([KV_ANSWER, id, false, serializeError(error)]);
            }
          };
          host.kv({ op, tenant, key, arg }).then(
            (value) => answer(true, value),
            (error: unknown) => answer(false, serializeError(error)),
          );
          return;
        }
        case READY:
          return host.ready(message[1] as IncarnationStats);
        case START_FAILED:
          return host.lost(deserializeError(message[1] as never), { retry: false });
        case CLOSED:
          host.stats(message[1] as IncarnationStats);
          return closed?.();
      }
    });
    post([INIT, PROTOCOL_VERSION, url, host.workerId, gate.flags, wake, running]);
    // This thread's number for each tenant it was sent (see BATCH): a number per item is cheaper to
    // clone and to look up there than a key string.
    const numbers = new Map<string, number>();
    let nextNumber = 0;
    const send = (items: readonly LinkItem[]): void => {
      const n = items.length;
      const head = new Float64Array(n * ITEM_WORDS);
      const payloads = new Array<unknown>(n);
      let names: Array<number | string> | undefined;
      let slots: number[] | undefined;
      // Only when some item carries a trace: its traceparent, by position.
      let traces: Array<string | undefined> | undefined;
      // Numbers this batch gives or retires: undone when it cannot be sent.
      let given: string[] | undefined;
      for (let i = 0, w = 0; i < n; i++, w += ITEM_WORDS) {
        const item = items[i]!;
        head[w] = item.id;
        let op = (item.op === 'event' && !item.waited ? Op.EventNoWait : OP_CODES[item.op]) | (item.timed ? TIMED : 0);
        if (item.cancellable) {
          op |= CANCELLABLE;
          slots ??= new Array<number>(n).fill(-1);
          slots[i] = gate.take(item.id);
        }
        head[w + 1] = op;
        if (item.tenant === undefined) head[w + 2] = -1;
        else {
          let number = numbers.get(item.key);
          if (number === undefined) {
            number = nextNumber++;
            numbers.set(item.key, number);
            (names ??= []).push(number, item.key);
            (given ??= []).push(item.key);
          }
          head[w + 2] = number;
          // The thread forgets it after this item; a later item of the tenant gets a new one.
          if (item.op === 'drop' || item.op === 'handoff') numbers.delete(item.key);
        }
        payloads[i] = item.payload;
        if (item.traceparent !== undefined) (traces ??= new Array<string | undefined>(n))[i] = item.traceparent;
      }
      try {
        post(
          traces !== undefined
            ? [BATCH, head, payloads, names, slots, traces]
            : slots !== undefined
              ? [BATCH, head, payloads, names, slots]
              : names !== undefined
                ? [BATCH, head, payloads, names]
                : [BATCH, head, payloads],
        );
        this.batches++;
      } catch (error) {
        if (slots !== undefined) gate.release(items.map((item) => item.id));
        // The thread never saw the numbers given here (a retired one it keeps, unused: harmless).
        if (given !== undefined) for (const key of given) numbers.delete(key);
        // An event that passed the check but cannot be cloned (a Proxy): find it, fail only it.
        if (n > 1) {
          send(items.slice(0, n >> 1));
          send(items.slice(n >> 1));
          return;
        }
        host.settle(
          items[0]!.id,
          false,
          new InvalidEventError(
            `The event cannot be sent to worker ${host.workerId}'s thread: ${(error as Error).message}. Send plain data (structured-cloneable values).`,
            { cause: error },
          ),
        );
      }
    };
    return {
      send,
      busy: () => false,
      cancel: (id) => {
        const exact = gate.cancel(id);
        post([CANCEL, [id]]);
        return exact;
      },
      ping: () => post([PING]),
      running: () => Atomics.load(running, 0),
      close: async () => {
        const done = new Promise<void>((resolve) => (closed = resolve));
        post([CLOSE]);
        await done;
        await end();
      },
      kill: end,
      ref: (active) => (active ? thread.ref() : thread.unref()),
    };
  }
}

/**
 * The main side of a thread's cancel gate: one `Int32Array` slot per cancellable item in flight.
 * Cancelling writes the item's id into its slot; the thread reads the slot right before the item
 * would start, so a cancel is seen there at once, however long its message takes. A slot is given
 * back when the thread reports the item (by then the item has started or never will), and is
 * never cleared: a stale id in it does not match the next item's.
 */
class CancelGate {
  readonly flags = new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  readonly #free = Array.from({ length: CANCEL_SLOTS }, (_, i) => CANCEL_SLOTS - 1 - i);
  readonly #slots = new Map<number, number>();

  /** Slots in use. */
  get used(): number {
    return this.#slots.size;
  }

  /** A slot for item `id`, or -1 when every slot is in use (its cancel then travels as a message only). */
  take(id: number): number {
    const slot = this.#free.pop();
    if (slot === undefined) return -1;
    this.#slots.set(id, slot);
    return slot;
  }

  /** Flags item `id` as cancelled; `false` when it has no slot. */
  cancel(id: number): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    Atomics.store(this.flags, slot, id | 0);
    return true;
  }

  /** The thread reported these items: their slots are free again. */
  release(ids: readonly number[]): void {
    for (const id of ids) {
      const slot = this.#slots.get(id);
      if (slot === undefined) continue;
      this.#slots.delete(id);
      this.#free.push(slot);
    }
  }
}
