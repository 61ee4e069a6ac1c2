import type { MessagePort } from 'node:worker_threads';

/**
 * The shared-memory protocol between a queue's consumer thread (`src/queue/`) and its producers in
 * other threads (`src/producer/`). Both sides import these constants; nothing here has behaviour.
 *
 * Two kinds of `SharedArrayBuffer` cross threads:
 *
 * - the queue's **control block** (one per queue, created by the first `queue.producer()`): the
 *   bounded-queue reservation word, the consumed counter, the closed flag, the wake-up words, and a
 *   table with one reservation counter per producer slot;
 * - one **ring** per producer: a single-producer single-consumer byte ring of 8-byte aligned records.
 *   When it is full the producer moves to a ring twice as large, handing it over through its port
 *   (a one-off `postMessage`); values too large for the ring go through the port themselves.
 *
 * @internal
 */

/** What `queue.producer()` returns: pass it to another thread (with `port` in the transfer list). */
export interface ProducerDescriptor<T = unknown> {
  /** Always `'switchyard.mpsc.producer'`. */
  readonly kind: typeof DESCRIPTOR_KIND;
  /** The protocol version; `connect()` refuses others. */
  readonly version: typeof PROTOCOL_VERSION;
  /** The queue's name (for messages). */
  readonly name: string;
  /** The queue's limit, `0` when unbounded. */
  readonly limit: number;
  /** The producer slot (1..{@link MAX_PRODUCERS}). */
  readonly slot: number;
  /** The queue's control block. */
  readonly control: SharedArrayBuffer;
  /** This producer's first ring. */
  readonly ring: SharedArrayBuffer;
  /** Spills values too large for the ring to the consumer, and tells each side when the other goes away. */
  readonly port: MessagePort;
  /** Type-level only: the type of the values this descriptor's producer sends. */
  readonly __valueType?: (value: T) => void;
}

export const DESCRIPTOR_KIND = 'switchyard.mpsc.producer';
export const PROTOCOL_VERSION = 3;

// ---------------------------------------------------------------------------------------------
// Control block (Int32 indices; words written by different threads sit on different cache lines)
// ---------------------------------------------------------------------------------------------

/**
 * Bounded queues only: the reservation word. Bits 0-20: total reservations ever made (mod 2^21);
 * bits 21-30: the slot that made the last one (0 = the consumer thread); bit 31: the parity of that
 * slot's reservation counter after it. A producer thread that dies between winning this word and
 * recording the reservation in its counter can thus be completed by anyone (see reservation.ts).
 */
export const CTL_RESERVED = 0;
/** Values delivered to the consumer's user, plus reservations of dead producers given back (consumer-written). */
export const CTL_CONSUMED = 16;
/** 1 once the queue is closed (consumer-written). */
export const CTL_CLOSED = 32;
/** Bumped (and notified) by the consumer when room appears in a full bounded queue, or on close. */
export const CTL_SPACE = 48;
/** The table of slot rows (see the SLOT_ fields); slot `s` starts at `CTL_TABLE + s * CTL_TABLE_STRIDE`. */
export const CTL_TABLE = 96;
export const CTL_TABLE_STRIDE = 16;
/** Producer slots are 1..MAX_PRODUCERS; slot 0 stands for the consumer thread itself. */
export const MAX_PRODUCERS = 1023;
export const CONTROL_BYTES = (CTL_TABLE + (MAX_PRODUCERS + 1) * CTL_TABLE_STRIDE) * 4;

export const TOTAL_BITS = 21;
export const TOTAL_MASK = (1 << TOTAL_BITS) - 1;
export const OWNER_SHIFT = TOTAL_BITS;
export const OWNER_MASK = 0x3ff;
export const PARITY_SHIFT = 31;
/** The largest `limit` a queue shared across threads supports (the reservation word's total is 21 bits). */
export const MAX_SHARED_LIMIT = TOTAL_MASK;

/** Fields of a slot's row in the table (one 64-byte line per producer slot). */
/** Reservations made by the slot (bounded queues only). */
export const SLOT_RESERVED = 0;
/** Port messages the consumer must still expect: spilled values and ring switches (counted before posting). */
export const SLOT_SPILLED = 1;
/** Set to 1 by the first `connect()`: a descriptor connects once. */
export const SLOT_CONNECTED = 2;
/** Values the slot's producer has published (ring and port), stored after each one: what `len()` counts before they arrive. */
export const SLOT_SENT = 3;

/** The Int32 index of `field` in `slot`'s row. */
export function slotWord(slot: number, field: number): number {
  return CTL_TABLE + slot * CTL_TABLE_STRIDE + field;
}

// ---------------------------------------------------------------------------------------------
// Ring (Int32 indices of its header; the data starts at RING_DATA_OFFSET bytes)
// ---------------------------------------------------------------------------------------------

/**
 * Byte position after the last published record (monotonic mod 2^32, a multiple of 8), or-ed with
 * the TAIL_ flags. Producers publish with one compare-and-swap that fails once the consumer has
 * set {@link TAIL_CLOSED}: no separate closed check, and nothing published after close.
 */
export const RING_TAIL = 0;
/** Byte position of the next record to read (consumer-written). */
export const RING_HEAD = 16;
/** Set by the consumer once it reads this ring (a ring handed over by a switch is not known to it before). */
export const RING_ACK = 32;
export const RING_DATA_OFFSET = 192;

/** In RING_TAIL: the queue is closed, publishing fails. Set by the consumer. */
export const TAIL_CLOSED = 1;
/** In RING_TAIL: the consumer sleeps; the producer that publishes next wakes it (a {@link SPILL_WAKE} message). */
export const TAIL_SLEEPING = 2;
export const TAIL_FLAGS = 7;

/** The default initial ring size in bytes. */
export const DEFAULT_RING_BYTES = 1 << 20;
export const MIN_RING_BYTES = 1 << 12;
/** A full ring is replaced by one twice as large, up to this size; beyond it values spill to the port. */
export const MAX_RING_BYTES = 1 << 28;
/** Always kept free so that a SPILL marker fits. */
export const RING_RESERVE = 8;

// Record tags (low 4 bits of a record's first Int32; the upper 28 bits hold the payload length).
export const TAG_PAD = 1;
export const TAG_SPILL = 2;
export const TAG_INT = 3;
export const TAG_F64 = 4;
export const TAG_TRUE = 5;
export const TAG_FALSE = 6;
export const TAG_NULL = 7;
export const TAG_STR_LATIN1 = 8;
export const TAG_STR_UTF16 = 9;
export const TAG_STR_UTF8 = 10;
export const TAG_BYTES = 11;
/** Plain data in the format of `src/codec/format.ts`. */
export const TAG_STRUCT = 12;
export const TAG_V8 = 13;
/** Only in `prepare()` results: a string whose ring encoding is chosen when it is written. */
export const TAG_STRING = 14;

/** Port messages from a producer: `[resume, tag, payload]`; `tag` is one of these. */
export const SPILL_RAW = 0;
export const SPILL_STRUCT = 1;
export const SPILL_V8 = 2;
/** Carries no value: only tells the consumer to go back to the ring. */
export const SPILL_NONE = 3;
/** Carries the producer's new, larger ring: the consumer continues there. */
export const SPILL_SWITCH = 4;
/**
 * Posted alone (a bare number, not a SpillMessage); carries nothing and orders nothing (not counted
 * in SLOT_SPILLED): the consumer flagged the ring {@link TAIL_SLEEPING} and this producer just
 * published, so it should read the rings. A wake-up on the port the consumer already listens to
 * (and refs while it waits) needs no doorbell word and no `Atomics.waitAsync`; measured, it wakes
 * the consumer as fast as the `Atomics.notify` + `waitAsync` pair it replaced, or a little faster.
 */
export const SPILL_WAKE = 5;
export type SpillMessage = [resume: 0 | 1, kind: number, payload: unknown];
