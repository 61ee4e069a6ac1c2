import { performance } from 'node:perf_hooks';
import { clearImmediate, setImmediate } from 'node:timers';

// The cooperative scheduler every pool worker runs on (one per process, shared by all pools).
//
// A job that never awaits (or only awaits already-settled promises) would starve the event loop
// if a worker simply looped on it. Instead, runnable workers wait in one FIFO queue that a single
// `setImmediate` drains, running one job call per worker in turn, for at most `SLICE_MS` (and
// `SLICE_MAX_STEPS` calls, a safety net should the clock be frozen). When the slice is used up,
// the rest waits for the next turn of the event loop, so timers and I/O run in between.
//
// A worker whose job returned a promise continues directly when that promise settles while the
// current slice still has time left (no `setImmediate` round trip for microtask-only jobs), and is
// queued otherwise (for instance after real I/O, when the slice is long over).
//
// The timer functions and the clock are captured when this module loads, so fake timers installed
// later by a test (vitest, jest, sinon) neither freeze the pool nor make it spin.

const now = performance.now.bind(performance);
const schedule = setImmediate;
const unschedule = clearImmediate;

/** How long one turn of the scheduler may run job calls back to back, in milliseconds. @internal */
export const SLICE_MS = 1;
/** At most this many job calls per turn, whatever the clock says. @internal */
export const SLICE_MAX_STEPS = 100_000;

/** Something the scheduler runs one step of at a time: a pool worker. @internal */
export abstract class Schedulable {
  /** Links of the run queue (an intrusive doubly linked list: O(1) removal on stop). */
  prevInQueue: Schedulable | undefined = undefined;
  nextInQueue: Schedulable | undefined = undefined;
  queued = false;

  /** Runs one step (one job call). Must not throw. */
  abstract step(): void;
}

let head: Schedulable | undefined;
let tail: Schedulable | undefined;
let pending: NodeJS.Immediate | undefined;
let draining = false;
let sliceStart = Number.NEGATIVE_INFINITY;
let sliceSteps = 0;

/** Puts `task` at the end of the run queue; it runs on a later turn of the event loop. @internal */
export function enqueue(task: Schedulable): void {
  if (task.queued) return;
  task.queued = true;
  task.prevInQueue = tail;
  task.nextInQueue = undefined;
  if (tail === undefined) head = task;
  else tail.nextInQueue = task;
  tail = task;
  if (!draining) pending ??= schedule(drain);
}

/** Takes `task` out of the run queue (no-op when it is not queued); clears the turn when nothing is left. @internal */
export function dequeue(task: Schedulable): void {
  if (!task.queued) return;
  unlink(task);
  if (head === undefined && pending !== undefined) {
    unschedule(pending);
    pending = undefined;
  }
}

/**
 * True while the current slice has time and steps left: a worker whose job just settled may then
 * run its next step at once. Counts that step. @internal
 */
export function takeStepInSlice(): boolean {
  if (sliceSteps >= SLICE_MAX_STEPS || now() - sliceStart >= SLICE_MS) return false;
  sliceSteps++;
  return true;
}

/** How many tasks wait in the run queue (for tests and stats). @internal */
export function queuedCount(): number {
  let count = 0;
  for (let task = head; task !== undefined; task = task.nextInQueue) count++;
  return count;
}

/** True while a turn is scheduled (for leak tests). @internal */
export function hasPendingTurn(): boolean {
  return pending !== undefined;
}

function unlink(task: Schedulable): void {
  const { prevInQueue, nextInQueue } = task;
  if (prevInQueue === undefined) head = nextInQueue;
  else prevInQueue.nextInQueue = nextInQueue;
  if (nextInQueue === undefined) tail = prevInQueue;
  else nextInQueue.prevInQueue = prevInQueue;
  task.prevInQueue = undefined;
  task.nextInQueue = undefined;
  task.queued = false;
}

function drain(): void {
  pending = undefined;
  sliceStart = now();
  sliceSteps = 0;
  draining = true;
  while (head !== undefined && takeStepInSlice()) {
    const task = head;
    unlink(task);
    try {
      task.step();
    } catch (error) {
      // A step never throws by contract; if it does, report it loudly without breaking the other workers.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  draining = false;
  // The slice is used up: the rest runs on the next turn, after timers and I/O.
  if (head !== undefined) pending = schedule(drain);
}
