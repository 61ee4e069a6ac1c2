import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { InvalidJetStreamOptionError, StreamConfigMismatchError } from '../errors/errors.js';
import { integerOption, nameOption, subjectPrefixOption } from '../internal/options.js';

/**
 * Where events live: one JetStream stream, one subject per partition. The publisher and every
 * worker host of one deployment give the same values.
 */
export interface EventStreamOptions {
  /**
   * How many partitions the events are split into: an event of guild `g` goes to partition
   * `shardFor(g, partitions)` (Discord's sharding formula). A host owns whole partitions, so this
   * bounds how many hosts can share the work. Fixed for the life of the stream.
   */
  partitions: number;
  /**
   * The stream's name.
   * @default 'SWITCHYARD_EVENTS'
   */
  stream?: string;
  /**
   * Subjects start with it: events on `<prefix>.events.<partition>`, dead letters on
   * `<prefix>.dead.<partition>`.
   * @default 'switchyard'
   */
  subjectPrefix?: string;
  /**
   * How long JetStream remembers a `Nats-Msg-Id` to discard a republished event as a duplicate.
   * Keep it longer than a gateway takes to resume a session or restart after a crash (Discord
   * replays the missed events on resume, and they are published again with the same ids).
   * @default 600_000 (10 minutes)
   */
  duplicateWindowMs?: number;
  /**
   * How long events stay in the stream (acknowledged or not). At least `duplicateWindowMs`.
   * @default 86_400_000 (24 hours)
   */
  maxAgeMs?: number;
  /**
   * Copies of the stream in a NATS cluster (1 on a single server, 3 in a production cluster).
   * @default 1
   */
  replicas?: number;
}

/** {@link EventStreamOptions} with every default filled in. @internal */
export interface ResolvedStream {
  readonly partitions: number;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly duplicateWindowMs: number;
  readonly maxAgeMs: number;
  readonly replicas: number;
}

/** Header names this package writes. */
export const EventHeaders = {
  /** JetStream's deduplication id. */
  MsgId: 'Nats-Msg-Id',
  /** The tenant key (`guild:123`). */
  Tenant: 'Switchyard-Tenant',
  /** When the gateway published the event: ms since the epoch, with fractions. */
  PublishedAt: 'Switchyard-Published-At',
  /** On a dead letter: the error's `code` (or its name). */
  ErrorCode: 'Switchyard-Error-Code',
  /** On a dead letter: the error's message. */
  Error: 'Switchyard-Error',
  /** On a dead letter: how many times the handler was tried, JetStream redeliveries included. */
  Deliveries: 'Switchyard-Deliveries',
  /** On a dead letter: the event's sequence in the stream. */
  EventSeq: 'Switchyard-Event-Seq',
} as const;

/** Checks and completes stream options. @internal */
export function resolveStream(options: EventStreamOptions): ResolvedStream {
  if (options === null || typeof options !== 'object')
    throw new InvalidJetStreamOptionError(`Expected an options object, got ${String(options)}.`);
  const partitions = integerOption('partitions', options.partitions, 1);
  const stream = nameOption('stream', options.stream ?? 'SWITCHYARD_EVENTS');
  const subjectPrefix = subjectPrefixOption('subjectPrefix', options.subjectPrefix ?? 'switchyard');
  const duplicateWindowMs = integerOption('duplicateWindowMs', options.duplicateWindowMs ?? 600_000, 1);
  const maxAgeMs = integerOption('maxAgeMs', options.maxAgeMs ?? 86_400_000, duplicateWindowMs);
  const replicas = integerOption('replicas', options.replicas ?? 1, 1);
  return { partitions, stream, subjectPrefix, duplicateWindowMs, maxAgeMs, replicas };
}

/** The subject of partition `partition`'s events. */
export function eventSubject(subjectPrefix: string, partition: number): string {
  return `${subjectPrefix}.events.${partition}`;
}

/** The subject of partition `partition`'s dead letters. */
export function deadLetterSubject(subjectPrefix: string, partition: number): string {
  return `${subjectPrefix}.dead.${partition}`;
}

function description(resolved: ResolvedStream): string {
  return `switchyard events; partitions=${resolved.partitions}`;
}

/**
 * Creates the stream, or checks that the existing one was made for the same partition count and
 * subjects (`StreamConfigMismatchError` otherwise). @internal
 */
export async function ensureEventStream(jsm: JetStreamManager, resolved: ResolvedStream): Promise<void> {
  const subjects = [`${resolved.subjectPrefix}.events.*`, `${resolved.subjectPrefix}.dead.*`];
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(resolved.stream)).config;
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
  }
  if (existing === undefined) {
    try {
      await jsm.streams.add({
        name: resolved.stream,
        description: description(resolved),
        subjects,
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(resolved.maxAgeMs),
        duplicate_window: nanos(resolved.duplicateWindowMs),
        num_replicas: resolved.replicas,
      });
      return;
    } catch (error) {
      // Another process created it at the same moment: check what it made.
      existing = (await jsm.streams.info(resolved.stream).catch(() => Promise.reject(error))).config;
    }
  }
  if (existing.description !== description(resolved)) {
    throw new StreamConfigMismatchError(
      `Expected stream ${resolved.stream} to hold ${resolved.partitions} partitions ("${description(resolved)}"), ` +
        `got "${existing.description ?? ''}": give every gateway and host the same \`partitions\`, or use another stream.`,
    );
  }
  const missing = subjects.filter((subject) => !existing.subjects.includes(subject));
  if (missing.length > 0) {
    throw new StreamConfigMismatchError(
      `Expected stream ${resolved.stream} to hold the subjects ${subjects.join(', ')}, got ${existing.subjects.join(', ')}.`,
    );
  }
}
