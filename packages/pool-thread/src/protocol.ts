/**
 * The one protocol shared by the main side (`ThreadWorker`'s link) and the thread side (the
 * entry around core's `TenantHost`). Every message is an array whose first element is its type;
 * everything is structured-cloneable data, sent over the thread's own port.
 * @internal
 */

/** Bumped whenever a message changes shape. */
export const PROTOCOL_VERSION = 7;

// Main → thread
/**
 * `[INIT, version, moduleUrl, workerId, cancelGate, wake, running]`: load the definition, run
 * `startup`, answer READY or START_FAILED. `cancelGate` is an `Int32Array` over shared memory: the
 * main side writes an item's id into the item's slot when its caller gives up, and the thread reads
 * it right before the item would start. `wake` is an `Int32Array` of {@link WAKE_WORDS} over shared
 * memory: `[WAKE_COUNT]` is bumped (and notified) by the main side after every message it posts;
 * `[WAKE_PARKED]` is `PARKED` while the thread, idle after answering, waits in `Atomics.wait` for the
 * next message (and reads it from its port at once); the main side sets it to `RELEASED` (and
 * notifies) when no message came within {@link PARK_RELEASE_MS}, so the thread goes back to its event
 * loop (tenants' timers, I/O). `running` (one `Int32Array` slot over shared memory) is where the
 * thread writes the id of the item whose handler runs synchronously (`0`: none), which the main side
 * reads when the thread dies or hangs, to blame the right tenant.
 */
export const INIT = 1;
/**
 * `[BATCH, head, payloads, names?, slots?, traces?]`: items as one `Float64Array` (`head`, {@link ITEM_WORDS}
 * numbers per item: its id, its {@link Op} maybe `| CANCELLABLE | TIMED`, its tenant's number, -1 for none)
 * and their payloads by position. A tenant is sent as a number the main side gave it for this thread's
 * life: `names` (present when some tenant is new in this batch) pairs each new number with its key
 * (`[number, key, number, key, ...]`). After a `drop` or `handoff` item both sides forget its tenant's
 * number (the tenant gets a new one when it comes back). `slots`, present when an item is cancellable,
 * gives each item's slot in the cancel gate (-1: none, its cancel travels as a message only); `traces`
 * (W3C traceparents by position) only when some item carries one. Absent fields in between are `undefined`.
 */
export const BATCH = 2;
/** Numbers per item in a BATCH's `head`: id, op, tenant number. */
export const ITEM_WORDS = 3;
/** `[CANCEL, ids]`: their callers gave up; the thread aborts their signals (and answers for running ones). */
export const CANCEL = 3;
/** `[PING]`: a liveness probe; the thread answers PONG. */
export const PING = 4;
/** `[KV_ANSWER, id, ok, value or serialized error]`. */
export const KV_ANSWER = 5;
/** `[CLOSE]`: finish everything, run every `dropTenant` hook, answer CLOSED. */
export const CLOSE = 6;

// Thread → main
/** `[READY, stats]`. */
export const READY = 11;
/** `[START_FAILED, serialized error]`: the module cannot be loaded or has no definition. */
export const START_FAILED = 12;
/**
 * `[RESULTS, ids, values, failedIds, errors, stats, handlingMs?]`: the results of one turn; the
 * last when timed items ended: how long each handler ran (ms) by position in
 * `ids` then `failedIds`, `NaN` for the items that were not timed.
 */
export const RESULTS = 13;
/** `[PONG, stats?]`: the thread's counters and heap (what `recycle.maxHeapBytes` checks on an idle worker), once it runs. */
export const PONG = 14;
/** `[KV, id, op, tenantKey, key, arg]`: a `ctx.kv` call. */
export const KV = 15;
/** `[CLOSED, stats]`. */
export const CLOSED = 16;

/** What a batch item asks the thread to do (`Broadcast`: its key is `''`, its payload the message). */
export const Op = { Event: 0, EventNoWait: 1, Script: 2, Drop: 3, Broadcast: 4, Handoff: 5, Adopt: 6 } as const;
/** Added to an op when the item may be cancelled later (the thread gives it an AbortSignal). */
export const CANCELLABLE = 8;
/** Added to an op when the thread reports how long the item's handler ran (the dispatch is traced). */
export const TIMED = 16;

/** The wake word's layout (see {@link INIT}). */
export const WAKE_WORDS = 2;
export const WAKE_COUNT = 0;
export const WAKE_PARKED = 1;
export const PARKED = 1;
export const RELEASED = 2;
/** How long (ms) the main side lets a parked thread wait without a message before it releases it. */
export const PARK_RELEASE_MS = 1;
/**
 * The most time (ms) a thread goes from one parked wait to the next without its event loop
 * getting a turn (under back-to-back lone calls its timers and I/O still run at least this often).
 */
export const PARK_CHAIN_MS = 2;

/** Slots in a thread's cancel gate: cancellable items in flight beyond this many are cancelled by message only. */
export const CANCEL_SLOTS = 4096;
