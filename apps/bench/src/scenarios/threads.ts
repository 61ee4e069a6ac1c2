import type { TenantId, WorkerPool, WorkerLike } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
import { expectAnswer } from '../harness/checks.js';
import type { ContenderPlan, ContenderRun, GroupPlan, ScenarioFactory } from '../harness/Scenario.js';
import { bursts, closedLoop } from './loops.js';
import type { Payload } from './payloads.js';
import { fixture, makeTenants, OBJECT, TRIVIAL } from './payloads.js';

/** Tenants the callers spread over (a bot's guilds). */
export const SPREAD_TENANTS = makeTenants(1_000);
/** Tasks per `run()` when the caller batches by hand. */
const HAND_BATCH = 64;
/** Concurrent hand-batching callers (so several batches are in flight, as many callers would). */
const HAND_BATCH_CALLERS = 8;
/** No-wait events per burst. */
const NO_WAIT_BURST = 10_000;

/**
 * Caller `c`'s `i`-th tenant when spread: a hash of both, so that the tenants of consecutive calls,
 * and the workers that own them, are unrelated, as a bot's are. (A walk `c * 7919 + i * 104729`
 * made every caller alternate between the two threads in step: whole waves of calls then went to
 * one thread while the other idled, a pattern no traffic has.)
 */
export const spreadTenant = (caller: number, i: number): TenantId =>
  SPREAD_TENANTS[mix(caller * 1_000_003 + i) % SPREAD_TENANTS.length]!;

/** A 32-bit integer hash (murmur3's finaliser). */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85eb_ca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2_ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** What a task pool needs to be timed: run one input (or a hand batch) and close. */
export interface TaskPool {
  run(input: unknown): Promise<unknown>;
  /** Child processes doing the work (for the CPU column). */
  pids?(): readonly number[];
  close(): Promise<void>;
}

/** Checks a task pool with a single event and a hand batch. */
async function checkTaskPool(name: string, pool: TaskPool, payload: Payload): Promise<void> {
  expectAnswer(`${name}: ${payload.id} event 41`, await pool.run(payload.event(41)), payload.answer(41));
}

/** A peer task pool with `callers` concurrent callers, one event per call. */
export function taskPoolContender(
  name: string,
  payload: Payload,
  callers: number,
  open: () => Promise<TaskPool> | TaskPool,
): ContenderPlan {
  return {
    name,
    kind: 'peer',
    async start(): Promise<ContenderRun> {
      const pool = await open();
      return {
        check: () => checkTaskPool(name, pool, payload),
        run: async (ms) => ({ ops: await closedLoop(ms, callers, (_, i) => pool.run(payload.event(i))) }),
        ...(pool.pids === undefined ? {} : { pids: () => pool.pids!() }),
        close: () => pool.close(),
      };
    },
  };
}

/** A peer task pool fed hand-made batches of {@link HAND_BATCH} events per call: what a user can do by hand. */
export function handBatchContender(
  name: string,
  payload: Payload,
  open: () => Promise<TaskPool> | TaskPool,
): ContenderPlan {
  return {
    name,
    kind: 'peer',
    async start(): Promise<ContenderRun> {
      const pool = await open();
      const batch = (from: number): unknown[] => Array.from({ length: HAND_BATCH }, (_, i) => payload.event(from + i));
      return {
        async check() {
          await checkTaskPool(name, pool, payload);
          const answers = await pool.run(batch(0));
          expectAnswer(
            `${name}: a batch of ${HAND_BATCH}`,
            answers,
            Array.from({ length: HAND_BATCH }, (_, i) => payload.answer(i)),
          );
        },
        run: async (ms) => ({
          ops: (await closedLoop(ms, HAND_BATCH_CALLERS, (_, i) => pool.run(batch(i)))) * HAND_BATCH,
        }),
        ...(pool.pids === undefined ? {} : { pids: () => pool.pids!() }),
        close: () => pool.close(),
      };
    },
  };
}

type Pool = WorkerPool<WorkerLike<unknown, unknown>>;

/** Checks a Switchyard pool: one event to a tenant on every worker, and per-tenant order. */
export async function checkSwitchyardPool(name: string, pool: Pool, payload: Payload): Promise<void> {
  const tenants = SPREAD_TENANTS.slice(0, 8);
  const answers = await Promise.all(tenants.map((tenant) => pool.dispatch(tenant, payload.event(41))));
  expectAnswer(
    `${name}: ${payload.id} event 41 to 8 tenants`,
    answers,
    tenants.map(() => payload.answer(41)),
  );
}

/** Switchyard waited `dispatch`, `callers` concurrent callers, spread over 1,000 tenants or each pinned to its own. */
export function switchyardWaited(
  name: string,
  payload: Payload,
  callers: number,
  pinned: boolean,
  open: () => Promise<Pool>,
  pids?: (pool: Pool) => readonly number[],
): ContenderPlan {
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const pool = await open();
      const own = makeTenants(callers, 5_000);
      const tenantOf = pinned ? (caller: number) => own[caller]! : spreadTenant;
      return {
        check: () => checkSwitchyardPool(name, pool, payload),
        run: async (ms) => ({
          ops: await closedLoop(ms, callers, (caller, i) => pool.dispatch(tenantOf(caller, i), payload.event(i))),
        }),
        ...(pids === undefined ? {} : { pids: () => pids(pool) }),
        close: () => pool.close(),
      };
    },
  };
}

/** Switchyard `dispatchNoWait` in bursts over 1,000 tenants, each burst followed by one waited event per tenant (a tenant's events run in order, so when those answered the burst was handled). */
export function switchyardNoWait(
  name: string,
  payload: Payload,
  open: () => Promise<Pool>,
  pids?: (pool: Pool) => readonly number[],
): ContenderPlan {
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const pool = await open();
      return {
        check: () => checkSwitchyardPool(name, pool, payload),
        run: async (ms) => ({
          ops: await bursts(ms, async (round) => {
            for (let i = 0; i < NO_WAIT_BURST; i++) pool.dispatchNoWait(spreadTenant(round, i), payload.event(i));
            await Promise.all(SPREAD_TENANTS.map((tenant) => pool.dispatch(tenant, payload.event(0))));
            return NO_WAIT_BURST;
          }),
        }),
        ...(pids === undefined ? {} : { pids: () => pids(pool) }),
        close: () => pool.close(),
      };
    },
  };
}

const piscina = (threads: number, options: ConstructorParameters<typeof Piscina>[0] = {}): TaskPool => {
  const pool = new Piscina({
    filename: fixture('task.mjs'),
    name: 'task',
    minThreads: threads,
    maxThreads: threads,
    ...options,
  });
  return { run: (input) => pool.run(input), close: () => pool.close() };
};

const tinypool = (threads: number): TaskPool => {
  const pool = new Tinypool({ filename: fixture('task.mjs'), name: 'task', minThreads: threads, maxThreads: threads });
  return { run: (input) => pool.run(input), close: () => pool.destroy() };
};

const workerPool = (threads: number): TaskPool => {
  const pool = workerpool.pool(fixture('workerpool-worker.mjs'), {
    minWorkers: threads,
    maxWorkers: threads,
    workerType: 'thread',
  });
  return { run: (input) => pool.exec('task', [input]), close: async () => void (await pool.terminate()) };
};

const poolifier = (threads: number, queue: boolean): TaskPool => {
  const pool = new FixedThreadPool(threads, fixture('poolifier-thread-worker.mjs'), {
    enableTasksQueue: queue,
    errorHandler: () => undefined,
  });
  return { run: (input) => pool.execute(input), close: () => pool.destroy() };
};

const switchyardThreads = (threads: number) => () =>
  createThreadPool<never>({ workers: threads, filename: fixture('switchyard-worker.mjs') }) as unknown as Promise<Pool>;

/** The contenders of one thread count and payload. */
function threadGroup(threads: number, payload: Payload, callers: number): GroupPlan {
  const open = switchyardThreads(threads);
  const reference = `Switchyard dispatch, ${callers} callers over 1,000 tenants`;
  return {
    id: `threads-${threads}-${payload.id}`,
    title: `${threads} threads, ${payload.title}`,
    kind: 'throughput',
    unit: 'events',
    reference,
    note:
      'Switchyard routes each event to its tenant’s thread and keeps per-tenant state; the peers run a stateless task on any thread. ' +
      `“Pinned” gives each caller its own tenant (the flattering pattern); “hand-batched” sends ${HAND_BATCH} events per run() from ${HAND_BATCH_CALLERS} callers.`,
    contenders: [
      switchyardWaited(reference, payload, callers, false, open),
      switchyardWaited(`Switchyard dispatch, 1,024 callers over 1,000 tenants`, payload, 1_024, false, open),
      switchyardWaited(`Switchyard dispatch, ${callers} callers pinned (flattering)`, payload, callers, true, open),
      switchyardNoWait(`Switchyard dispatchNoWait, bursts of ${NO_WAIT_BURST.toLocaleString('en-US')}`, payload, open),
      taskPoolContender(`piscina run(), ${callers} callers, default options`, payload, callers, () => piscina(threads)),
      taskPoolContender(
        `piscina run(), ${callers} callers, atomics 'async', concurrentTasksPerWorker 16`,
        payload,
        callers,
        () => piscina(threads, { atomics: 'async', concurrentTasksPerWorker: 16 }),
      ),
      handBatchContender(`piscina, hand-batched ${HAND_BATCH} per run()`, payload, () => piscina(threads)),
      taskPoolContender(`tinypool run(), ${callers} callers`, payload, callers, () => tinypool(threads)),
      taskPoolContender(`workerpool exec(), ${callers} callers`, payload, callers, () => workerPool(threads)),
      taskPoolContender(`poolifier FixedThreadPool, ${callers} callers`, payload, callers, () =>
        poolifier(threads, false),
      ),
      taskPoolContender(`poolifier FixedThreadPool + tasks queue, ${callers} callers`, payload, callers, () =>
        poolifier(threads, true),
      ),
    ],
  };
}

/**
 * Scenario 1: tenant dispatch on worker threads, Switchyard against the thread pools a user would
 * pick instead, including the best they could do by hand (batching calls into one task).
 */
export const threadsScenario: ScenarioFactory = () => ({
  id: 'threads',
  title: 'Tenant dispatch on threads',
  description:
    'Events dispatched to worker threads by many concurrent callers, each awaiting its answer (closed loop). ' +
    'Switchyard’s callers spread over 1,000 tenants, as a bot’s guilds do; pinned callers shown apart.',
  groups: [threadGroup(2, TRIVIAL, 64), threadGroup(2, OBJECT, 64), threadGroup(4, TRIVIAL, 64)],
});
