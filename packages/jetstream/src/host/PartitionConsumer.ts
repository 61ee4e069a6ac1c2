import { setMaxListeners } from 'node:events';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/nats-core';
import type { TenantId, WorkerLike } from '@switchyard/core';
import { parseTenantKey, tenantKey } from '@switchyard/core';
import { MalformedEventError } from '../errors/errors.js';
import { deadLetterSubject, EventHeaders } from '../stream/EventStream.js';
import type { DeadLetterInfo, DeliveredEvent } from './types.js';

/** What a partition consumer needs from its host. @internal */
export interface PartitionContext<E, R> {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly worker: WorkerLike<E, R>;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  readonly maxDeliveries: number;
  readonly retryDelayMs: number;
  readonly handlerTimeoutMs: number | undefined;
  readonly onResult: ((result: R, event: DeliveredEvent<E>) => void | Promise<void>) | undefined;
  /** False once the partition's lease may have run out: nothing more is acknowledged. */
  leaseValid(partition: number): boolean;
  /** The consumer stopped on its own (deleted by a new owner, lease ran out). */
  lost(partition: number, reason: string): void;
  deadLettered(info: DeadLetterInfo): void;
  warn(error: Error): void;
  count(what: 'handled' | 'redelivered' | 'deadLettered'): void;
}

const MAX_RETRY_DELAY_MS = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The consumer name of partition `partition` under the lease revision `revision`. @internal */
export function consumerName(partition: number, revision: number): string {
  return `p${partition}-r${revision}`;
}

/**
 * One owned partition: a durable consumer named after the lease revision (a host that lost the
 * lease acknowledges into a consumer that no longer exists), one promise chain per tenant so that
 * a tenant's events are handled one after another, acknowledged after they settled. @internal
 */
export class PartitionConsumer<E, R> {
  readonly partition: number;
  readonly #ctx: PartitionContext<E, R>;
  readonly #name: string;
  readonly #abort = new AbortController();
  #messages: ConsumerMessages | undefined;
  #working: NodeJS.Timeout | undefined;
  #draining = false;
  readonly #chains = new Map<string, Promise<void>>();
  /** Events received and not yet settled, by stream sequence: the latest delivery of each. */
  readonly #inFlight = new Map<number, JsMsg>();
  /** Events settled whose acknowledgement may not have arrived: a redelivery is acknowledged, not handled. */
  readonly #done = new Set<number>();
  #pending = 0;
  #idle: (() => void) | undefined;

  constructor(ctx: PartitionContext<E, R>, partition: number, revision: number) {
    this.#ctx = ctx;
    this.partition = partition;
    this.#name = consumerName(partition, revision);
    // Every event in hand listens to it (its dispatch, its retry waits): many listeners, no leak.
    setMaxListeners(0, this.#abort.signal);
  }

  /** Events received and not settled. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Creates this lease's consumer at the first event not acknowledged by the partition's previous
   * consumers, deletes those, and starts consuming.
   */
  async start(): Promise<void> {
    const { jsm, js, stream } = this.#ctx;
    const prefix = `p${this.partition}-r`;
    const previous: string[] = [];
    let floor = 0;
    for await (const info of jsm.consumers.list(stream)) {
      if (!info.name.startsWith(prefix) || info.name === this.#name) continue;
      previous.push(info.name);
      const startedAt = info.config.opt_start_seq ?? 1;
      floor = Math.max(floor, info.ack_floor.stream_seq, startedAt - 1);
    }
    await jsm.consumers.add(stream, {
      durable_name: this.#name,
      filter_subject: `${this.#ctx.subjectPrefix}.events.${this.partition}`,
      ack_policy: AckPolicy.Explicit,
      ...(floor === 0
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 }),
      ack_wait: nanos(this.#ctx.ackWaitMs),
      max_ack_pending: this.#ctx.maxAckPending,
      // Dead-lettering is this host's decision (with the tenant and the error), never a silent stop.
      max_deliver: -1,
    });
    for (const name of previous) {
      await jsm.consumers.delete(stream, name).catch((error: unknown) => {
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
      });
    }
    if (this.#abort.signal.aborted) return;
    const consumer = await js.consumers.get(stream, this.#name);
    const messages = await consumer.consume({
      max_messages: Math.min(this.#ctx.maxAckPending, 512),
      abort_on_missing_resource: true,
      callback: (m) => this.#receive(m),
    });
    this.#messages = messages;
    if (this.#abort.signal.aborted) {
      void messages.close();
      return;
    }
    void messages.closed().then(
      () => this.#stoppedByServer('its consumer stopped'),
      (error: unknown) => this.#stoppedByServer(`its consumer failed (${String(error)})`),
    );
    this.#working = setInterval(
      () => {
        for (const m of this.#inFlight.values()) m.working();
      },
      Math.max(1, Math.floor(this.#ctx.ackWaitMs / 3)),
    );
    this.#working.unref();
  }

  #stoppedByServer(reason: string): void {
    if (this.#draining || this.#abort.signal.aborted) return;
    this.#ctx.lost(this.partition, reason);
  }

  #receive(m: JsMsg): void {
    if (this.#abort.signal.aborted) return;
    const seq = m.seq;
    if (this.#done.has(seq)) {
      this.#ctx.count('redelivered');
      m.ack();
      return;
    }
    if (this.#inFlight.has(seq)) {
      this.#ctx.count('redelivered');
      this.#inFlight.set(seq, m);
      return;
    }
    this.#inFlight.set(seq, m);
    let tenant: TenantId;
    let event: E;
    try {
      tenant = parseTenantKey(m.headers?.get(EventHeaders.Tenant) ?? '');
    } catch (error) {
      this.#track(
        this.#deadLetter(
          m,
          undefined,
          new MalformedEventError(`The event at stream sequence ${seq} has no valid tenant header.`, { cause: error }),
          m.info.deliveryCount,
        ),
      );
      return;
    }
    try {
      event = m.json<E>();
    } catch (error) {
      this.#track(
        this.#deadLetter(
          m,
          tenant,
          new MalformedEventError(`The event at stream sequence ${seq} is not JSON.`, { cause: error }),
          m.info.deliveryCount,
        ),
      );
      return;
    }
    const key = tenantKey(tenant);
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(() => this.#process(m, tenant, event));
    this.#chains.set(key, next);
    this.#track(next, () => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  #track(work: Promise<unknown>, after?: () => void): void {
    this.#pending++;
    void work
      .catch((error: unknown) => this.#ctx.warn(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        after?.();
        if (--this.#pending === 0) this.#idle?.();
      });
  }

  async #process(m: JsMsg, tenant: TenantId, event: E): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return;
    const ctx = this.#ctx;
    // JetStream's count restarts with each owner's consumer, so an event that kills its host is
    // tried by every new owner (documented); within one consumer, earlier deliveries count.
    let attempts = Math.min(m.info.deliveryCount - 1, ctx.maxDeliveries - 1);
    let result: R | undefined;
    let handled = false;
    let delay = ctx.retryDelayMs;
    const published = Number(m.headers?.get(EventHeaders.PublishedAt));
    for (;;) {
      attempts++;
      try {
        if (!handled) {
          result = await ctx.worker.dispatch(tenant, event, {
            signal,
            ...(ctx.handlerTimeoutMs === undefined ? {} : { timeoutMs: ctx.handlerTimeoutMs }),
          });
          handled = true;
        }
        await ctx.onResult?.(result as R, {
          event,
          partition: this.partition,
          seq: m.seq,
          msgId: m.headers?.get(EventHeaders.MsgId) ?? '',
          tenant,
          deliveries: attempts,
          publishedAt: Number.isFinite(published) ? published : undefined,
        });
        break;
      } catch (error) {
        if (signal.aborted) return;
        if (attempts >= ctx.maxDeliveries) {
          await this.#deadLetter(m, tenant, error, attempts);
          return;
        }
        await sleep(delay, signal);
        if (signal.aborted) return;
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
    ctx.count('handled');
    this.#ack(m);
  }

  async #deadLetter(m: JsMsg, tenant: TenantId | undefined, error: unknown, deliveries: number): Promise<void> {
    const signal = this.#abort.signal;
    const err = error instanceof Error ? error : new Error(String(error));
    const ownCode = (err as { code?: unknown }).code;
    const code = typeof ownCode === 'string' ? ownCode : err.name;
    const msgId = m.headers?.get(EventHeaders.MsgId) ?? `seq:${m.seq}`;
    const h = headers();
    if (tenant !== undefined) h.set(EventHeaders.Tenant, tenantKey(tenant));
    h.set(EventHeaders.ErrorCode, code);
    // Header values are one line.
    h.set(EventHeaders.Error, err.message.replace(/[\r\n]+/g, ' ').slice(0, 1024));
    h.set(EventHeaders.Deliveries, String(deliveries));
    h.set(EventHeaders.EventSeq, String(m.seq));
    const publishedAt = m.headers?.get(EventHeaders.PublishedAt);
    if (publishedAt !== undefined && publishedAt !== '') h.set(EventHeaders.PublishedAt, publishedAt);
    // Stored before the event is acknowledged; retried (same id, so stored once) until it is or the lease is gone.
    for (let delay = this.#ctx.retryDelayMs; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
      if (signal.aborted) return;
      try {
        await this.#ctx.js.publish(deadLetterSubject(this.#ctx.subjectPrefix, this.partition), m.data, {
          msgID: `dead:${msgId}`,
          headers: h,
          expect: { streamName: this.#ctx.stream },
        });
        break;
      } catch (publishError) {
        this.#ctx.warn(publishError instanceof Error ? publishError : new Error(String(publishError)));
        await sleep(delay, signal);
      }
    }
    this.#ctx.count('deadLettered');
    this.#ctx.deadLettered({ partition: this.partition, seq: m.seq, msgId, tenant, deliveries, error: err });
    this.#ack(m);
  }

  #ack(m: JsMsg): void {
    const seq = m.seq;
    this.#inFlight.delete(seq);
    if (this.#abort.signal.aborted) return;
    if (!this.#ctx.leaseValid(this.partition)) {
      this.#ctx.lost(this.partition, 'its lease ran out before the event was acknowledged');
      return;
    }
    this.#done.add(seq);
    if (this.#done.size > this.#ctx.maxAckPending * 4) {
      const oldest = this.#done.values().next().value;
      if (oldest !== undefined) this.#done.delete(oldest);
    }
    // A plain acknowledgement (no round trip for the tenant's next event to wait for). One lost
    // with the connection: JetStream redelivers after ack_wait, and #receive acknowledges the
    // redelivery without handling the event again.
    m.ack();
  }

  /** Stops taking events, lets the received ones settle (bounded by `timeoutMs`); true when all did. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    await this.#messages?.close().catch(() => undefined);
    let settled = this.#pending === 0;
    if (!settled) {
      let timer: NodeJS.Timeout | undefined;
      settled = await new Promise<boolean>((resolve) => {
        this.#idle = () => resolve(true);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
    }
    this.fence('drained');
    return settled;
  }

  /** Stops at once: nothing more is handled or acknowledged; unsettled events go to the next owner. */
  fence(reason: string): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort(reason);
    clearInterval(this.#working);
    this.#inFlight.clear();
    void this.#messages?.close().catch(() => undefined);
  }
}
