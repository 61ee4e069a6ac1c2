import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { WorkerLike } from '@switchyard/core';
import { abortErrorFrom } from '@switchyard/core/internal';
import {
  HostClosedError,
  InvalidJetStreamOptionError,
  LeaseLostError,
  StreamConfigMismatchError,
} from '../errors/errors.js';
import { connectionOption, functionOption, integerOption, nameOption, stringOption } from '../internal/options.js';
import type { EventStreamOptions, ResolvedStream } from '../stream/EventStream.js';
import { ensureEventStream, resolveStream } from '../stream/EventStream.js';
import type { PartitionContext } from './PartitionConsumer.js';
import { PartitionConsumer } from './PartitionConsumer.js';
import type { DeadLetterInfo, DeliveredEvent, WorkerHostEvents, WorkerHostStats } from './types.js';

/** Options of {@link JetStreamWorkerHost}. */
export interface JetStreamWorkerHostOptions<E = unknown, R = unknown> extends EventStreamOptions {
  /** An open connection (`connect()` of `@nats-io/transport-node`). The host never closes it. */
  connection: NatsConnection;
  /**
   * Handles the events: a `WorkerPool` of threads or processes, a `LocalWorker`, any `WorkerLike`.
   * The host never closes it.
   */
  worker: WorkerLike<E, R>;
  /**
   * Carries out what the handler returned (the bot's REST calls) before the event is acknowledged.
   * When it throws, it is tried again (the handler is not), up to `maxDeliveries` tries in all.
   * It may run twice for one event (at-least-once): key its effects by `event.msgId`.
   */
  onResult?: (result: R, event: DeliveredEvent<E>) => void | Promise<void>;
  /**
   * This host's name in the lease bucket.
   * @default `${hostname()}-${process.pid}`
   */
  hostId?: string;
  /**
   * The JetStream key-value bucket that holds the partition leases.
   * @default `${stream}_LEASES`
   */
  leaseBucket?: string;
  /**
   * How long a lease lasts without renewal: a host that dies loses its partitions after this
   * long, and another host takes them within `leaseTtlMs * 4 / 3` of the death. Renewed every
   * `leaseTtlMs / 3`; a host stops acknowledging a partition once `leaseTtlMs * 0.9` passed since
   * its last successful renewal was sent.
   * @default 15_000
   */
  leaseTtlMs?: number;
  /**
   * Events handed out to this partition's consumer and not yet acknowledged (JetStream's
   * `max_ack_pending`): the back-pressure bound of one partition.
   * @default 1000
   */
  maxAckPending?: number;
  /**
   * JetStream's `ack_wait`: an event not acknowledged (nor reported as in progress, which the host
   * does every `ackWaitMs / 3`) within it is delivered again.
   * @default 30_000
   */
  ackWaitMs?: number;
  /**
   * Tries of one event's handler, JetStream redeliveries included, before it goes to the dead-letter
   * subject and its tenant's next events go on.
   * @default 5
   */
  maxDeliveries?: number;
  /**
   * The wait before the first retry of a failed handler; doubles with each retry (at most 30 s).
   * @default 200
   */
  retryDelayMs?: number;
  /**
   * Passed to `worker.dispatch` as `timeoutMs`.
   * @default the worker's own
   */
  handlerTimeoutMs?: number;
  /**
   * How long `close()` waits for received events to settle in each partition before it gives the
   * partition up anyway (the next owner handles what was not acknowledged).
   * @default 30_000
   */
  drainTimeoutMs?: number;
}

interface Lease<E, R> {
  revision: number;
  /** `performance.now()` after which the lease may have run out on the server. */
  validUntil: number;
  consumer: PartitionConsumer<E, R> | undefined;
  releasing: boolean;
}

const LEASE_VALID_FRACTION = 0.9;

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The worker side: owns some of the partitions (one host at a time per partition, through a lease
 * in a JetStream key-value bucket), consumes each through a durable consumer, hands every event to
 * `worker` (a tenant's events one after another, in stream order), and acknowledges an event only
 * after its handler and `onResult` settled. Hosts share the partitions evenly among themselves and
 * take over those of a host that stopped renewing its leases.
 *
 * @example
 * ```ts
 * const host = new JetStreamWorkerHost({ connection, partitions: 8, worker: pool, onResult: carryOut });
 * await host.start();
 * // ...
 * await host.close(); // finishes what it received, hands its partitions to the other hosts
 * ```
 */
export class JetStreamWorkerHost<E = unknown, R = unknown> extends EventEmitter<WorkerHostEvents> {
  /** This host's name in the lease bucket. */
  readonly hostId: string;
  readonly #connection: NatsConnection;
  readonly #stream: ResolvedStream;
  readonly #worker: WorkerLike<E, R>;
  readonly #onResult: JetStreamWorkerHostOptions<E, R>['onResult'];
  readonly #leaseBucket: string;
  readonly #leaseTtlMs: number;
  readonly #maxAckPending: number;
  readonly #ackWaitMs: number;
  readonly #maxDeliveries: number;
  readonly #retryDelayMs: number;
  readonly #handlerTimeoutMs: number | undefined;
  readonly #drainTimeoutMs: number;
  readonly #leases = new Map<number, Lease<E, R>>();
  #kv: KV | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #state: 'new' | 'starting' | 'running' | 'closed' = 'new';
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #counts = { handled: 0, deadLettered: 0, redelivered: 0 };

  constructor(options: JetStreamWorkerHostOptions<E, R>) {
    super();
    this.#stream = resolveStream(options);
    this.#connection = connectionOption(options.connection);
    const worker = options.worker as WorkerLike<E, R> | null;
    if (worker === null || typeof worker !== 'object' || typeof worker.dispatch !== 'function') {
      throw new InvalidJetStreamOptionError(
        `Expected \`worker\` to be a WorkerLike (a WorkerPool, ThreadWorker, LocalWorker...), got ${worker === null ? 'null' : typeof worker}.`,
      );
    }
    this.#worker = worker;
    this.#onResult = functionOption('onResult', options.onResult);
    this.hostId = stringOption('hostId', options.hostId ?? `${hostname()}-${process.pid}`);
    this.#leaseBucket = nameOption('leaseBucket', options.leaseBucket ?? `${this.#stream.stream}_LEASES`);
    this.#leaseTtlMs = integerOption('leaseTtlMs', options.leaseTtlMs ?? 15_000, 1000);
    this.#maxAckPending = integerOption('maxAckPending', options.maxAckPending ?? 1000, 1);
    this.#ackWaitMs = integerOption('ackWaitMs', options.ackWaitMs ?? 30_000, 1000);
    this.#maxDeliveries = integerOption('maxDeliveries', options.maxDeliveries ?? 5, 1);
    this.#retryDelayMs = integerOption('retryDelayMs', options.retryDelayMs ?? 200, 1);
    this.#handlerTimeoutMs =
      options.handlerTimeoutMs === undefined
        ? undefined
        : integerOption('handlerTimeoutMs', options.handlerTimeoutMs, 1);
    this.#drainTimeoutMs = integerOption('drainTimeoutMs', options.drainTimeoutMs ?? 30_000, 0);
  }

  /**
   * Creates the stream and the lease bucket (or checks the existing ones), registers the host and
   * takes its share of the free partitions; keeps doing so every `leaseTtlMs / 3` until closed.
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (options.signal?.aborted === true) throw abortErrorFrom(options.signal, 'Starting the worker host');
    if (this.#state !== 'new') throw new HostClosedError(`Expected a new worker host, got one that is ${this.#state}.`);
    this.#state = 'starting';
    try {
      this.#jsm = await jetstreamManager(this.#connection);
      this.#js = jetstream(this.#connection);
      await ensureEventStream(this.#jsm, this.#stream);
      this.#kv = await new Kvm(this.#js).create(this.#leaseBucket, {
        ttl: this.#leaseTtlMs,
        history: 1,
        replicas: this.#stream.replicas,
      });
      const ttl = (await this.#kv.status()).ttl;
      if (ttl !== this.#leaseTtlMs) {
        throw new StreamConfigMismatchError(
          `Expected lease bucket ${this.#leaseBucket} to keep entries ${this.#leaseTtlMs} ms, got ${ttl} ms: give every host the same \`leaseTtlMs\`.`,
        );
      }
    } catch (error) {
      this.#state = 'closed';
      throw error;
    }
    if (isAborted(options.signal)) {
      this.#state = 'closed';
      throw abortErrorFrom(options.signal!, 'Starting the worker host');
    }
    this.#state = 'running';
    await this.#runTick();
  }

  /** The partitions this host owns now, ascending. */
  get partitions(): number[] {
    return [...this.#leases.entries()]
      .filter(([, lease]) => lease.consumer !== undefined)
      .map(([p]) => p)
      .sort((a, b) => a - b);
  }

  /** Counters for status boards and tests. */
  stats(): WorkerHostStats {
    let inFlight = 0;
    for (const lease of this.#leases.values()) inFlight += lease.consumer?.inFlight ?? 0;
    return { partitions: this.partitions, ...this.#counts, inFlight };
  }

  #runTick(): Promise<void> {
    this.#tick = this.#tick.then(() => this.#tickOnce()).catch((error: unknown) => this.#warn(asError(error)));
    void this.#tick.then(() => {
      if (this.#state !== 'running') return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#runTick(), Math.floor(this.#leaseTtlMs / 3));
      this.#timer.unref();
    });
    return this.#tick;
  }

  #hostKey(): string {
    return `hosts.${this.hostId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }

  async #tickOnce(): Promise<void> {
    if (this.#state !== 'running') return;
    const kv = this.#kv!;
    // Renewals first: a failure further down must not cost a round of them.
    await Promise.all([...this.#leases.keys()].map((p) => this.#renew(p)));
    await kv.put(this.#hostKey(), this.hostId);
    if (this.#state !== 'running') return;
    let hosts = 0;
    for await (const _key of await kv.keys('hosts.*')) hosts++;
    const target = Math.ceil(this.#stream.partitions / Math.max(1, hosts));
    const owned = [...this.#leases.entries()].filter(([, lease]) => !lease.releasing).map(([p]) => p);
    if (owned.length > target) {
      for (const p of owned.sort((a, b) => b - a).slice(0, owned.length - target)) void this.#release(p);
      return;
    }
    // Start looking at a place of its own, so that hosts starting together try different partitions first.
    let offset = 0;
    for (const char of this.hostId) offset = (offset * 31 + char.charCodeAt(0)) % this.#stream.partitions;
    let count = owned.length;
    for (let i = 0; i < this.#stream.partitions && count < target && this.#state === 'running'; i++) {
      const p = (offset + i) % this.#stream.partitions;
      if (this.#leases.has(p)) continue;
      if (await this.#acquire(p)) count++;
    }
  }

  #leaseKey(partition: number): string {
    return `partitions.${partition}`;
  }

  async #acquire(partition: number): Promise<boolean> {
    const sentAt = performance.now();
    let revision: number;
    try {
      revision = await this.#kv!.create(this.#leaseKey(partition), this.hostId);
    } catch (error) {
      if (!isWrongLastSequence(error)) this.#warn(asError(error));
      return false;
    }
    const lease: Lease<E, R> = {
      revision,
      validUntil: sentAt + this.#leaseTtlMs * LEASE_VALID_FRACTION,
      consumer: undefined,
      releasing: false,
    };
    this.#leases.set(partition, lease);
    const consumer = new PartitionConsumer(this.#partitionContext(), partition, revision);
    try {
      await consumer.start();
    } catch (error) {
      consumer.fence('failed to start');
      this.#leases.delete(partition);
      this.#warn(asError(error));
      await this.#kv!.delete(this.#leaseKey(partition), { previousSeq: lease.revision }).catch(() => undefined);
      return false;
    }
    if (this.#leases.get(partition) !== lease) {
      consumer.fence('lease lost while starting');
      return false;
    }
    lease.consumer = consumer;
    this.emit('partitionAcquired', { partition, revision });
    return true;
  }

  async #renew(partition: number): Promise<void> {
    const lease = this.#leases.get(partition);
    if (lease === undefined) return;
    const sentAt = performance.now();
    try {
      const revision = await this.#kv!.update(this.#leaseKey(partition), this.hostId, lease.revision);
      if (this.#leases.get(partition) !== lease) return;
      lease.revision = revision;
      lease.validUntil = sentAt + this.#leaseTtlMs * LEASE_VALID_FRACTION;
    } catch (error) {
      if (isWrongLastSequence(error)) this.#lose(partition, 'another host holds its lease, or it ran out');
      else this.#warn(asError(error));
    }
  }

  #lose(partition: number, reason: string): void {
    const lease = this.#leases.get(partition);
    if (lease === undefined) return;
    this.#leases.delete(partition);
    lease.consumer?.fence(reason);
    if (lease.consumer !== undefined && !lease.releasing) {
      this.emit('partitionLost', {
        partition,
        error: new LeaseLostError(`Worker host ${this.hostId} lost partition ${partition}: ${reason}.`),
      });
    }
  }

  async #release(partition: number): Promise<void> {
    const lease = this.#leases.get(partition);
    if (lease === undefined || lease.releasing) return;
    lease.releasing = true;
    await lease.consumer?.drain(this.#drainTimeoutMs);
    // The acknowledgements reach the server before the next owner reads the ack floor.
    await this.#connection.flush().catch((error: unknown) => this.#warn(asError(error)));
    if (this.#leases.get(partition) !== lease) return;
    this.#leases.delete(partition);
    await this.#kv!.delete(this.#leaseKey(partition), { previousSeq: lease.revision }).catch((error: unknown) => {
      if (!isWrongLastSequence(error)) this.#warn(asError(error));
    });
    this.emit('partitionReleased', { partition });
  }

  #partitionContext(): PartitionContext<E, R> {
    return {
      js: this.#js!,
      jsm: this.#jsm!,
      stream: this.#stream.stream,
      subjectPrefix: this.#stream.subjectPrefix,
      worker: this.#worker,
      maxAckPending: this.#maxAckPending,
      ackWaitMs: this.#ackWaitMs,
      maxDeliveries: this.#maxDeliveries,
      retryDelayMs: this.#retryDelayMs,
      handlerTimeoutMs: this.#handlerTimeoutMs,
      onResult: this.#onResult,
      leaseValid: (partition) => {
        const lease = this.#leases.get(partition);
        return lease !== undefined && performance.now() < lease.validUntil;
      },
      lost: (partition, reason) => this.#lose(partition, reason),
      deadLettered: (info: DeadLetterInfo) => this.emit('deadLetter', info),
      warn: (error) => this.#warn(error),
      count: (what) => this.#counts[what]++,
    };
  }

  #warn(error: Error): void {
    this.emit('warning', error);
  }

  /**
   * Stops taking partitions, lets every received event settle (up to `drainTimeoutMs` per
   * partition) and acknowledges it, then gives the partitions to the other hosts at once (no
   * waiting for the leases to run out). The worker and the connection stay open.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#timer);
    await this.#tick;
    await Promise.all([...this.#leases.keys()].map((p) => this.#release(p)));
    await this.#kv?.delete(this.#hostKey()).catch(() => undefined);
  }

  /**
   * Stops at once, as a crash would: nothing more is handled or acknowledged, the leases are left
   * to run out, and the other hosts take the partitions within `leaseTtlMs * 4 / 3`.
   */
  kill(): void {
    this.#state = 'closed';
    clearTimeout(this.#timer);
    for (const [partition, lease] of this.#leases) {
      lease.releasing = true;
      this.#lose(partition, 'the host was killed');
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
