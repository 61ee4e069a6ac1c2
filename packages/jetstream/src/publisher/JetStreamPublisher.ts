import type { JetStreamClient } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { headers } from '@nats-io/nats-core';
import type { TenantId } from '@switchyard/core';
import { assertTenantId, shardFor, tenantKey } from '@switchyard/core';
import { abortErrorFrom, raceSignal } from '@switchyard/core/internal';
import { InvalidJetStreamOptionError, PublishFailedError } from '../errors/errors.js';
import { connectionOption, integerOption, stringOption } from '../internal/options.js';
import type { EventStreamOptions, ResolvedStream } from '../stream/EventStream.js';
import { ensureEventStream, EventHeaders, eventSubject, resolveStream } from '../stream/EventStream.js';

/** Options of {@link JetStreamPublisher.create}. */
export interface JetStreamPublisherOptions extends EventStreamOptions {
  /**
   * An open connection (`connect()` of `@nats-io/transport-node`, with its servers, TLS and
   * credentials). The publisher never closes it.
   */
  connection: NatsConnection;
  /**
   * How long one publish waits for JetStream to store the event before it rejects with
   * `PublishFailedError`; the client retries within it while the connection is re-established.
   * @default 10_000
   */
  timeoutMs?: number;
}

/** Options of one {@link JetStreamPublisher.publish} call. */
export interface PublishOptions {
  /**
   * The event's deduplication id (`Nats-Msg-Id`): the same id published again within the
   * stream's `duplicateWindowMs` is stored once. Take it from the event itself (a message id with
   * the event type) or from where the gateway received it (`<shard>:<session>:<seq>`), never from
   * a clock or a counter of this process.
   */
  msgId: string;
  /** Aborting it rejects the call with `AbortError`; the event may still have been stored. */
  signal?: AbortSignal;
}

/** What JetStream answered for one published event. */
export interface PublishResult {
  /** The partition the event went to: `shardFor(tenant.id, partitions)`. */
  partition: number;
  /** Its sequence in the stream (for a duplicate: the sequence of the copy stored first). */
  seq: number;
  /** True when JetStream already had an event with this `msgId` and discarded this one. */
  duplicate: boolean;
}

/**
 * The gateway side: publishes each tenant's events to its partition's subject, so that one
 * worker host sees every event of a guild, in the order they were published.
 *
 * @example
 * ```ts
 * const publisher = await JetStreamPublisher.create({ connection, partitions: 8 });
 * await publisher.publish({ kind: 'guild', id: '81384788765712384' }, event, { msgId: `MESSAGE_CREATE:${event.id}` });
 * ```
 */
export class JetStreamPublisher<E = unknown> {
  readonly #js: JetStreamClient;
  readonly #stream: ResolvedStream;
  readonly #timeoutMs: number;
  #published = 0;
  #duplicates = 0;

  private constructor(js: JetStreamClient, stream: ResolvedStream, timeoutMs: number) {
    this.#js = js;
    this.#stream = stream;
    this.#timeoutMs = timeoutMs;
  }

  /** Checks the options, creates the stream (or checks the existing one) and returns a publisher. */
  static async create<E = unknown>(options: JetStreamPublisherOptions): Promise<JetStreamPublisher<E>> {
    const stream = resolveStream(options);
    const connection = connectionOption(options.connection);
    const timeoutMs = integerOption('timeoutMs', options.timeoutMs ?? 10_000, 1);
    await ensureEventStream(await jetstreamManager(connection), stream);
    return new JetStreamPublisher<E>(jetstream(connection), stream, timeoutMs);
  }

  /** The partition count this publisher splits events into. */
  get partitions(): number {
    return this.#stream.partitions;
  }

  /** The partition `tenant`'s events go to. */
  partitionOf(tenant: TenantId): number {
    assertTenantId(tenant);
    return shardFor(tenant.id, this.#stream.partitions);
  }

  /**
   * Stores `event` for `tenant` in the stream; resolves once JetStream has it (or knew it already,
   * `duplicate: true`). Rejects with `PublishFailedError` when it could not be stored: the
   * caller still holds the event and publishes it again with the same `msgId`.
   */
  async publish(tenant: TenantId, event: E, options: PublishOptions): Promise<PublishResult> {
    if (options?.signal?.aborted === true) throw abortErrorFrom(options.signal, 'The publish');
    const partition = this.partitionOf(tenant);
    const msgId = stringOption('msgId', options?.msgId);
    let data: string;
    try {
      data = JSON.stringify(event);
    } catch (error) {
      throw new InvalidJetStreamOptionError(`Expected an event that JSON.stringify accepts, got one it rejects.`, {
        cause: error,
      });
    }
    if (data === undefined) throw new InvalidJetStreamOptionError('Expected a JSON value as the event, got undefined.');
    const h = headers();
    h.set(EventHeaders.Tenant, tenantKey(tenant));
    h.set(EventHeaders.PublishedAt, String(performance.timeOrigin + performance.now()));
    const ack = this.#js
      .publish(eventSubject(this.#stream.subjectPrefix, partition), data, {
        msgID: msgId,
        headers: h,
        timeout: this.#timeoutMs,
        expect: { streamName: this.#stream.stream },
      })
      .then(
        (pubAck) => {
          this.#published++;
          if (pubAck.duplicate) this.#duplicates++;
          return { partition, seq: pubAck.seq, duplicate: pubAck.duplicate };
        },
        (error: unknown) => {
          throw new PublishFailedError(
            `JetStream did not store the event ${JSON.stringify(msgId)} for ${tenantKey(tenant)} on partition ${partition}.`,
            { cause: error },
          );
        },
      );
    return raceSignal(ack, options.signal, 'The publish');
  }

  /** Events published so far, and how many of them JetStream discarded as duplicates. */
  stats(): { published: number; duplicates: number } {
    return { published: this.#published, duplicates: this.#duplicates };
  }
}
