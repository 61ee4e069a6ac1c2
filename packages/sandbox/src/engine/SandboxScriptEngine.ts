import type { ScriptEngine, TenantContext, TenantId } from '@switchyard/core';
import { InvalidArgumentError, serializeError, tenantKey } from '@switchyard/core';
import { ScriptLimitError } from '../errors/errors.js';
import type { Template, TemplateOutcome } from '../templates/templates.js';
import { listTemplates, templateMatches } from '../templates/templates.js';
import type { CallOutcome } from './TenantSandbox.js';
import { TenantSandbox } from './TenantSandbox.js';
import type { ConsoleEntry, ResolvedOptions, ScriptEngineOptions } from './options.js';
import { resolveOptions } from './options.js';

/** Counters of a {@link SandboxScriptEngine}, for status boards and the README's figures. */
export interface ScriptEngineStats {
  /** Tenant runtimes alive. */
  runtimes: number;
  /** Runtimes running a call now. */
  busy: number;
  /** WebAssembly memory the runtimes hold, in bytes (each at least 16 MiB, of which most is never touched). */
  memoryBytes: number;
  /** Compiled scripts held, over all runtimes. */
  cachedScripts: number;
  /** Runtimes created so far (a tenant's first call, and again after a limit error or eviction). */
  created: number;
  /** Runtimes discarded after a limit error. */
  discarded: number;
  /** Idle runtimes dropped to stay within `maxRuntimes`. */
  evicted: number;
}

/** Options of {@link SandboxScriptEngine.runTemplates}. */
export interface RunTemplatesOptions {
  /**
   * The event's type, matched against each template's `events`.
   * @default event.type when it is a string (no template runs otherwise)
   */
  type?: string;
  /**
   * The tenant's templates, when the caller keeps them (a worker-side cache) instead of reading
   * them from `ctx.kv` on every event.
   * @default listTemplates(ctx.kv)
   */
  templates?: readonly Template[];
}

/** A handler's result beside what the tenant's templates did with the same event. */
export interface WithTemplates<R> {
  result: R;
  templates: TemplateOutcome[];
}

interface Slot {
  readonly key: string;
  readonly worker: AbortSignal;
  sandbox: TenantSandbox | undefined;
  /** Calls of one tenant run one after another. */
  tail: Promise<unknown>;
  /** Calls queued or running on this slot. */
  queued: number;
}

const MAX_NAME_LENGTH = 200;

let warm: Promise<void> | undefined;

/**
 * Runs one throwaway call per thread before the first real one: V8 compiles WebAssembly functions
 * on their first use, and that one-time cost must not count against a tenant's CPU time.
 */
function warmUp(options: ResolvedOptions): Promise<void> {
  warm ??= (async () => {
    const tenant: TenantId = { kind: 'user', id: '0' };
    const sandbox = await TenantSandbox.create(tenant, {
      ...options,
      cpuTimeMs: 60_000,
      wallTimeMs: 60_000,
      onConsole: undefined,
    });
    const store = new Map<string, unknown>();
    const ctx: TenantContext = {
      workerId: 0,
      signal: new AbortController().signal,
      workerData: undefined,
      tenant,
      kv: {
        get: async (key) => store.get(key) as never,
        set: async (key, value) => void store.set(key, value),
        delete: async (key) => store.delete(key),
        list: async () => [...store] as never,
      },
    };
    const code =
      'await ctx.kv.set("k", { list: [1, "a", null] }); console.log(await ctx.kv.get("k"));' +
      'try { null.x } catch (e) { String(e.stack) } return { n: event.n + 1, s: JSON.stringify(await ctx.kv.list()) };';
    try {
      await sandbox.run('warm-up', code, '{"n":1}', ctx);
      await sandbox.run('warm-up', 'throw new Error("x")', undefined, ctx).catch(() => undefined);
    } finally {
      sandbox.discard();
    }
  })();
  // A failed warm-up (no address space left, say) is tried again by the next call.
  warm.catch(() => {
    warm = undefined;
  });
  return warm;
}

/**
 * A core `ScriptEngine` that runs each tenant's scripts in its own QuickJS runtime, each runtime in
 * its own WebAssembly instance with capped memory. Made by {@link createScriptEngine}; one per
 * worker module, so one per worker thread or process.
 */
export class SandboxScriptEngine implements ScriptEngine<never, never, never> {
  readonly #options: ResolvedOptions;
  /** Tenants' runtimes in least-recently-used order, keyed by worker and tenant. */
  readonly #slots = new Map<string, Slot>();
  readonly #workers = new WeakMap<AbortSignal, number>();
  #workerCount = 0;
  #runtimes = 0;
  #created = 0;
  #discarded = 0;
  #evicted = 0;

  constructor(options?: ScriptEngineOptions) {
    this.#options = resolveOptions(options);
  }

  /**
   * Runs a script in the tenant's runtime (what `runScript` calls). Resolves with what the script
   * returned, copied as JSON (with `captureConsole`: `{ result, console }`). Its parameters and
   * result are typed `never` so that `defineWorker` takes the state, event and result types from
   * the definition's other hooks.
   */
  async run(_state: never, script: { name: string; code: string }, event: never, ctx: TenantContext): Promise<never> {
    const { name, code } = this.#checkScript(script);
    const eventJson = this.#eventJson(event);
    const outcome = await this.#call(ctx, name, code, eventJson);
    return (
      this.#options.captureConsole ? { result: outcome.value, console: outcome.console } : outcome.value
    ) as never;
  }

  /** Discards the tenant's runtime (core calls this when the tenant is dropped or the worker closes). */
  dropTenant(_state: never, ctx: TenantContext): void {
    const key = this.#key(ctx);
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#release(slot);
  }

  /**
   * Runs the tenant's stored templates (see `saveTemplate`) whose `events` match the event's
   * type, one after another in name order. Each is isolated: a failing template (its own error or
   * a limit) is reported in its outcome and does not stop the others.
   */
  async runTemplates(
    event: unknown,
    ctx: TenantContext,
    options: RunTemplatesOptions = {},
  ): Promise<TemplateOutcome[]> {
    const type = options.type ?? (event as { type?: unknown } | null | undefined)?.type;
    if (typeof type !== 'string') return [];
    const stored = options.templates ?? (await listTemplates(ctx.kv));
    const templates = stored.filter((template) => templateMatches(template, type));
    if (templates.length === 0) return [];
    const eventJson = this.#eventJson(event);
    const outcomes: TemplateOutcome[] = [];
    for (const template of templates) {
      const console: ConsoleEntry[] = [];
      try {
        const { name, code } = this.#checkScript(template);
        const outcome = await this.#call(ctx, name, code, eventJson, console);
        outcomes.push({ name: template.name, ok: true, value: outcome.value, console: outcome.console });
      } catch (error) {
        const data = serializeError(error);
        outcomes.push({
          name: template.name,
          ok: false,
          error: { code: data.code ?? 'ERR_SCRIPT', message: data.message },
          console,
        });
      }
    }
    return outcomes;
  }

  /**
   * Wraps an `onEvent` handler so that the tenant's matching templates run after it; the wrapped
   * handler resolves with `{ result, templates }`. A throwing handler throws (its templates do not run).
   *
   * @example
   * ```ts
   * const engine = createScriptEngine();
   * export const worker = defineWorker({
   *   createTenant: () => ({}),
   *   onEvent: engine.withTemplates((state, event: { type: string }) => `handled ${event.type}`),
   *   scriptEngine: engine,
   * });
   * ```
   */
  withTemplates<S, E, R>(
    handler: (state: S, event: E, ctx: TenantContext) => R | Promise<R>,
    options: RunTemplatesOptions = {},
  ): (state: S, event: E, ctx: TenantContext) => Promise<WithTemplates<Awaited<R>>> {
    if (typeof handler !== 'function') {
      throw new InvalidArgumentError(`Expected the handler to be a function, got ${typeof handler}.`);
    }
    return async (state, event, ctx) => {
      const result = await handler(state, event, ctx);
      const templates = await this.runTemplates(event, ctx, options);
      return { result, templates };
    };
  }

  /** Counters: runtimes alive, memory they hold, compiled scripts. */
  stats(): ScriptEngineStats {
    let busy = 0;
    let memoryBytes = 0;
    let cachedScripts = 0;
    for (const slot of this.#slots.values()) {
      const sandbox = slot.sandbox;
      if (sandbox === undefined) continue;
      if (sandbox.busy) busy++;
      memoryBytes += sandbox.memoryBytes;
      cachedScripts += sandbox.cachedScripts;
    }
    return {
      runtimes: this.#runtimes,
      busy,
      memoryBytes,
      cachedScripts,
      created: this.#created,
      discarded: this.#discarded,
      evicted: this.#evicted,
    };
  }

  /** Discards every runtime (the engine stays usable; the next call creates a runtime again). */
  close(): void {
    for (const slot of this.#slots.values()) this.#release(slot);
    this.#slots.clear();
  }

  #checkScript(script: { name: string; code: string }): { name: string; code: string } {
    const { name, code } = script ?? {};
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw new InvalidArgumentError(
        `Expected the script's name to be a string of 1 to ${MAX_NAME_LENGTH} characters, got ${typeof name === 'string' ? `${name.length} characters` : typeof name}.`,
      );
    }
    if (typeof code !== 'string') {
      throw new InvalidArgumentError(`Expected the script's code to be a string, got ${typeof code}.`);
    }
    const bytes = Buffer.byteLength(code, 'utf8');
    if (bytes > this.#options.maxCodeBytes) {
      throw new ScriptLimitError(
        `Script ${name} is ${bytes} bytes long; the limit is ${this.#options.maxCodeBytes} bytes (\`maxCodeBytes\`).`,
      );
    }
    return { name, code };
  }

  #eventJson(event: unknown): string | undefined {
    try {
      return JSON.stringify(event);
    } catch (error) {
      throw new InvalidArgumentError(
        `Expected the event to be plain data (JSON) to copy into the script, got one JSON cannot hold: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  #key(ctx: TenantContext): string {
    let worker = this.#workers.get(ctx.signal);
    if (worker === undefined) {
      worker = ++this.#workerCount;
      this.#workers.set(ctx.signal, worker);
      // A killed or closed worker takes its tenants' runtimes with it.
      ctx.signal.addEventListener('abort', () => this.#dropWorker(ctx.signal), { once: true });
    }
    return `${worker}/${tenantKey(ctx.tenant)}`;
  }

  #dropWorker(signal: AbortSignal): void {
    for (const [key, slot] of this.#slots) {
      if (slot.worker !== signal) continue;
      this.#slots.delete(key);
      this.#release(slot);
    }
  }

  #release(slot: Slot): void {
    if (slot.sandbox === undefined) return;
    slot.sandbox.discard();
    slot.sandbox = undefined;
    this.#runtimes--;
  }

  #call(
    ctx: TenantContext,
    name: string,
    code: string,
    eventJson: string | undefined,
    console: ConsoleEntry[] = [],
  ): Promise<CallOutcome> {
    const key = this.#key(ctx);
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = { key, worker: ctx.signal, sandbox: undefined, tail: Promise.resolve(), queued: 0 };
    } else {
      this.#slots.delete(key);
    }
    // Most recently used last.
    this.#slots.set(key, slot);
    const current = slot;
    current.queued++;
    const run = current.tail.then(async () => {
      let sandbox = current.sandbox;
      // A slot dropped (dropTenant, close, kill) while this call waited runs it on a runtime of its own.
      let temporary = false;
      if (sandbox === undefined) {
        await warmUp(this.#options);
        this.#evictFor();
        sandbox = await TenantSandbox.create(ctx.tenant, this.#options);
        this.#created++;
        if (this.#slots.get(key) === current) {
          current.sandbox = sandbox;
          this.#runtimes++;
        } else {
          temporary = true;
        }
      }
      try {
        return await sandbox.run(name, code, eventJson, ctx, console);
      } finally {
        if (temporary) {
          sandbox.discard();
        } else if (sandbox.broken && current.sandbox === sandbox) {
          this.#discarded++;
          this.#release(current);
        }
      }
    });
    current.tail = run.then(
      () => this.#settled(current),
      () => this.#settled(current),
    );
    return run;
  }

  /** Forgets a slot with neither a runtime nor calls waiting, so the map does not grow forever. */
  #settled(slot: Slot): void {
    slot.queued--;
    if (slot.queued === 0 && slot.sandbox === undefined && this.#slots.get(slot.key) === slot) {
      this.#slots.delete(slot.key);
    }
  }

  /** Makes room for one more runtime by discarding the least recently used idle ones. */
  #evictFor(): void {
    if (this.#runtimes < this.#options.maxRuntimes) return;
    for (const [key, slot] of this.#slots) {
      if (this.#runtimes < this.#options.maxRuntimes) return;
      // Only idle runtimes with no call waiting go.
      if (slot.sandbox === undefined || slot.sandbox.busy || slot.queued > 0) continue;
      this.#release(slot);
      this.#evicted++;
      // Keep the slot only while calls are queued on it.
      this.#slots.delete(key);
    }
  }
}

/**
 * Creates a script engine for `defineWorker({ scriptEngine })`: each tenant's scripts run in the
 * tenant's own QuickJS runtime (a WebAssembly instance whose memory is capped), with CPU, wall
 * clock, stack, size and console limits. Create it in the worker module, so each worker thread or
 * process has its own.
 *
 * @example
 * ```ts
 * import { defineWorker } from '@switchyard/core';
 * import { createScriptEngine } from '@switchyard/sandbox';
 *
 * export const worker = defineWorker({
 *   createTenant: () => ({}),
 *   onEvent: () => null,
 *   scriptEngine: createScriptEngine({ cpuTimeMs: 50 }),
 * });
 * // await pool.runScript(tenant, 'sum', 'return event.a + event.b', { a: 1, b: 2 }) resolves to 3
 * ```
 */
export function createScriptEngine(options?: ScriptEngineOptions): SandboxScriptEngine {
  return new SandboxScriptEngine(options);
}
