import {
  CTL_CONSUMED,
  CTL_RESERVED,
  OWNER_MASK,
  OWNER_SHIFT,
  PARITY_SHIFT,
  SLOT_CONNECTED,
  SLOT_RESERVED,
  SLOT_SENT,
  SLOT_SPILLED,
  slotWord,
  TOTAL_MASK,
} from './protocol.js';

/**
 * Bounded-queue admission across threads, without a lock and without trusting any thread to stay
 * alive.
 *
 * The reservation word holds the total number of reservations, the slot that made the last one and
 * the parity its per-slot counter will have once that reservation is recorded. A reserver first
 * *helps*: if the word names a slot whose counter does not show the reservation yet, it records it
 * there (one compare-and-swap, idempotent). Only then does it swing the word to its own
 * reservation, and then records it in its own counter. The word therefore never moves on before
 * the previous reservation is recorded, and a producer thread killed at any instruction leaves
 * its counter exact (or completable by the consumer), so the consumer can give back exactly the
 * reservations it took but never published.
 *
 * @internal
 */

function slotIndex(slot: number): number {
  return slotWord(slot, SLOT_RESERVED);
}

/** Records, in its slot's counter, the reservation the word `g` describes, if that is not done yet. */
export function help(control: Int32Array, g: number): void {
  const owner = (g >>> OWNER_SHIFT) & OWNER_MASK;
  if (owner === 0) return;
  const index = slotIndex(owner);
  const count = Atomics.load(control, index);
  if ((count & 1) === g >>> PARITY_SHIFT) return;
  // The word moved on: whoever moved it helped first.
  if (Atomics.load(control, CTL_RESERVED) !== g) return;
  Atomics.compareExchange(control, index, count, count + 1);
}

/**
 * Takes one place in a bounded queue for `slot` (0 = the consumer thread), whose counter currently
 * reads `count`. Returns false when the queue holds `limit` values.
 */
export function tryReserve(control: Int32Array, slot: number, limit: number, count: number): boolean {
  for (;;) {
    const g = Atomics.load(control, CTL_RESERVED);
    help(control, g);
    const total = g & TOTAL_MASK;
    if (((total - Atomics.load(control, CTL_CONSUMED)) & TOTAL_MASK) >= limit) return false;
    const next = ((total + 1) & TOTAL_MASK) | (slot << OWNER_SHIFT) | (((count + 1) & 1) << PARITY_SHIFT);
    if (Atomics.compareExchange(control, CTL_RESERVED, g, next) === g) {
      if (slot !== 0) Atomics.compareExchange(control, slotIndex(slot), count, count + 1);
      return true;
    }
  }
}

/** The number of places taken (reserved and not yet consumed). */
export function reservedCount(control: Int32Array): number {
  return ((Atomics.load(control, CTL_RESERVED) & TOTAL_MASK) - Atomics.load(control, CTL_CONSUMED)) & TOTAL_MASK;
}

/**
 * Completes any half-recorded reservation of `slot`, takes the slot's name out of the reservation
 * word and returns the slot's final reservation count. Only for slots whose producer is gone.
 */
export function retireSlot(control: Int32Array, slot: number): number {
  for (;;) {
    const g = Atomics.load(control, CTL_RESERVED);
    if (((g >>> OWNER_SHIFT) & OWNER_MASK) !== slot) break;
    help(control, g);
    if (Atomics.compareExchange(control, CTL_RESERVED, g, g & TOTAL_MASK) === g) break;
  }
  return Atomics.load(control, slotIndex(slot));
}

/** Resets a retired slot's row for its next producer. */
export function resetSlot(control: Int32Array, slot: number): void {
  Atomics.store(control, slotWord(slot, SLOT_RESERVED), 0);
  Atomics.store(control, slotWord(slot, SLOT_SPILLED), 0);
  Atomics.store(control, slotWord(slot, SLOT_CONNECTED), 0);
  Atomics.store(control, slotWord(slot, SLOT_SENT), 0);
}
