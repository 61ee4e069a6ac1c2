import type { TenantId } from '@switchyard/core';
import type { LeaseLostError } from '../errors/errors.js';

/** A handled event and where it came from, given to `onResult`. */
export interface DeliveredEvent<E = unknown> {
  /** The event, as published. */
  event: E;
  /** Its partition. */
  partition: number;
  /** Its sequence in the stream. */
  seq: number;
  /** The `msgId` it was published with: key the effects of the event by it (they may run twice). */
  msgId: string;
  tenant: TenantId;
  /** How many times its handler was tried, this one included, JetStream redeliveries counted. */
  deliveries: number;
  /** When the gateway published it (ms since the epoch, with fractions), when it said so. */
  publishedAt: number | undefined;
}

/** An event the host gave up on and stored on the dead-letter subject. */
export interface DeadLetterInfo {
  partition: number;
  /** Its sequence in the event stream. */
  seq: number;
  msgId: string;
  /** Its tenant; `undefined` for a message without a valid tenant header. */
  tenant: TenantId | undefined;
  /** How many times its handler was tried. */
  deliveries: number;
  /** The last error (`MalformedEventError`, or what the handler or `onResult` threw). */
  error: Error;
}

/** Counters of a worker host. */
export interface WorkerHostStats {
  /** The partitions this host owns now, ascending. */
  partitions: number[];
  /** Events whose handler (and `onResult`) succeeded. */
  handled: number;
  /** Events stored on the dead-letter subject. */
  deadLettered: number;
  /** Deliveries of an event already handled here or still in hand: acknowledged, not handled again. */
  redelivered: number;
  /** Events received and not settled. */
  inFlight: number;
}

/** The events a {@link JetStreamWorkerHost} emits. */
export interface WorkerHostEvents {
  /** The host now owns `partition` (its consumer is running). */
  partitionAcquired: [info: { partition: number; revision: number }];
  /** The host gave `partition` up gracefully (rebalancing or closing). */
  partitionReleased: [info: { partition: number }];
  /** The host lost `partition` (lease taken over, ran out, or its consumer vanished) and stopped consuming it. */
  partitionLost: [info: { partition: number; error: LeaseLostError }];
  /** An event went to the dead-letter subject. */
  deadLetter: [info: DeadLetterInfo];
  /** Something went wrong that the host works around (a failed renewal, a failed publish it retries). */
  warning: [error: Error];
}
