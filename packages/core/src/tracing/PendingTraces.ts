import { performance } from 'node:perf_hooks';
import type { TenantId } from '../tenants/TenantId.js';
import type { DispatchMessage } from './channels.js';
import { dispatchChannels, dispatchMessage, traceEnd, traceStart } from './channels.js';
import { observeTimings, timingsObserved } from './timings.js';

/**
 * A traced dispatch in flight: its message, or the slot of a {@link PendingTraces} whose message is
 * made when the dispatch ends. @internal
 */
export type Trace = DispatchMessage | number;

/** Times kept per slot. */
const TIMES = 4;
const OP_SCRIPT = 1;
const NO_WAIT = 2;

/**
 * The dispatches in flight that only `end` and `error` subscribers and timing observers (such as
 * metrics) wait for: nobody saw their `start`, so their message need not exist before they end
 * (and never exists when only timing observers wait). Their times and
 * references are kept in flat arrays, one slot per dispatch, and the message is made when it ends
 * (it then dies young): a dispatch in flight holds no object of its own for its trace, which on an
 * in-process worker, where thousands of dispatches wait at once, cost more than the tracing itself
 * (every extra byte in flight is copied by each scavenge it survives). @internal
 */
export class PendingTraces {
  /** Per slot ({@link TIMES} numbers): accepted, sent, started, handling ms (`NaN`: not yet). */
  #times = new Float64Array(TIMES * 64);
  /** Per slot: worker, tenant, event. */
  #refs: unknown[] = new Array<unknown>(3 * 64).fill(undefined);
  /** Per slot: `OP_SCRIPT | NO_WAIT` bits. */
  #flags = new Uint8Array(64);
  /** Free slots, the next one last. */
  readonly #free: number[] = Array.from({ length: 64 }, (_, i) => 63 - i);
  #open = 0;

  /** Slots in use (dispatches opened and not closed). */
  get size(): number {
    return this.#open;
  }

  /** Takes a slot for a dispatch accepted at `acceptedAt`. */
  open(
    worker: { readonly id: number },
    tenant: TenantId,
    op: 'event' | 'script',
    event: unknown,
    noWait: boolean,
    acceptedAt: number,
  ): number {
    if (this.#free.length === 0) this.#grow();
    const slot = this.#free.pop()!;
    this.#open++;
    const at = 3 * slot;
    const t = TIMES * slot;
    this.#times[t] = acceptedAt;
    this.#times[t + 1] = acceptedAt;
    this.#times[t + 2] = NaN;
    this.#times[t + 3] = NaN;
    this.#refs[at] = worker;
    this.#refs[at + 1] = tenant;
    this.#refs[at + 2] = event;
    this.#flags[slot] = (op === 'script' ? OP_SCRIPT : 0) | (noWait ? NO_WAIT : 0);
    return slot;
  }

  acceptedAt(slot: number): number {
    return this.#times[TIMES * slot]!;
  }

  /** The slot's dispatch left for the worker's thread or process at `at` (a local one is handed over when accepted). */
  sent(slot: number, at: number): void {
    this.#times[TIMES * slot + 1] = at;
  }

  /** The slot's handler started at `at`. */
  started(slot: number, at: number): void {
    this.#times[TIMES * slot + 2] = at;
  }

  /** The slot's handler (started before) ended at `at`. */
  ended(slot: number, at: number): void {
    this.#times[TIMES * slot + 3] = at - this.#times[TIMES * slot + 2]!;
  }

  /** Tells the timing observers how long the slot's dispatch waited and ran (see `observeDispatchTimings`). */
  observe(slot: number): void {
    const t = TIMES * slot;
    const worker = this.#refs[3 * slot] as { readonly id: number };
    observeTimings(worker, worker.id, this.#times[t]!, this.#times[t + 2]!, this.#times[t + 3]!);
  }

  /** Frees the slot, its dispatch ended. */
  free(slot: number): void {
    const at = 3 * slot;
    this.#refs[at] = this.#refs[at + 1] = this.#refs[at + 2] = undefined;
    this.#free.push(slot);
    this.#open--;
  }

  /** Frees the slot and returns its message, with the times it was given. */
  close(slot: number): DispatchMessage {
    const at = 3 * slot;
    const t = TIMES * slot;
    const flags = this.#flags[slot]!;
    const message = dispatchMessage(
      this.#refs[at] as { readonly id: number },
      this.#refs[at + 1] as TenantId,
      flags & OP_SCRIPT ? 'script' : 'event',
      this.#refs[at + 2],
      (flags & NO_WAIT) !== 0,
      undefined,
      this.#times[t]!,
    );
    message.sentAt = this.#times[t + 1]!;
    const startedAt = this.#times[t + 2]!;
    const handlingMs = this.#times[t + 3]!;
    if (!Number.isNaN(startedAt)) message.startedAt = startedAt;
    if (!Number.isNaN(handlingMs)) message.handlingMs = handlingMs;
    // Nothing of the dispatch is kept once it ended.
    this.free(slot);
    return message;
  }

  #grow(): void {
    const slots = this.#flags.length;
    const times = new Float64Array(2 * TIMES * slots);
    times.set(this.#times);
    this.#times = times;
    this.#refs = this.#refs.concat(new Array<unknown>(3 * slots).fill(undefined));
    const flags = new Uint8Array(2 * slots);
    flags.set(this.#flags);
    this.#flags = flags;
    for (let slot = 2 * slots - 1; slot >= slots; slot--) this.#free.push(slot);
  }
}

/**
 * {@link traceStart} as every worker calls it (local, thread, process): the dispatch's message when
 * it carries a trace or a `start` subscriber listens, a slot of `pending` when only `end` and
 * `error` subscribers or timing observers do, `undefined` when nobody listens. @internal
 */
export function traceOpen(
  pending: PendingTraces,
  worker: { readonly id: number },
  tenant: TenantId,
  op: 'event' | 'script',
  event: unknown,
  noWait: boolean,
  traceparent: string | undefined,
): Trace | undefined {
  if (traceparent !== undefined || dispatchChannels.start.hasSubscribers)
    return traceStart(worker, tenant, op, event, noWait, traceparent);
  if (!dispatchChannels.end.hasSubscribers && !dispatchChannels.error.hasSubscribers && !timingsObserved())
    return undefined;
  return pending.open(worker, tenant, op, event, noWait, performance.now());
}

/** Ends a trace opened by {@link traceOpen}: tells the timing observers, then {@link traceEnd}. @internal */
export function traceClose(pending: PendingTraces, trace: Trace, ok: boolean, value: unknown): void {
  if (typeof trace === 'number') {
    if (timingsObserved()) pending.observe(trace);
    // Only timing observers waited for it: no message.
    if (!dispatchChannels.end.hasSubscribers && !dispatchChannels.error.hasSubscribers) return pending.free(trace);
    return traceEnd(pending.close(trace), ok, value);
  }
  if (timingsObserved())
    observeTimings(trace.worker, trace.workerId, trace.acceptedAt, trace.startedAt ?? NaN, trace.handlingMs ?? NaN);
  traceEnd(trace, ok, value);
}
