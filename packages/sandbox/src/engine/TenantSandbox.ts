import type { TenantContext, TenantId } from '@switchyard/core';
import { InvalidArgumentError, serializeError } from '@switchyard/core';
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import {
  ScriptError,
  ScriptLimitError,
  ScriptMemoryError,
  ScriptSyntaxError,
  ScriptTimeoutError,
} from '../errors/errors.js';
import { RESERVED_KEY_PREFIX } from '../templates/keys.js';
import type { ConsoleEntry, ResolvedOptions } from './options.js';
import { PRELUDE } from './prelude.js';
import type { QuickJsInstance } from './quickjs.js';
import { newQuickJsInstance } from './quickjs.js';

/** Jobs run between two checks of the CPU budget (a promise flood cannot outrun it). */
const JOB_BATCH = 64;
const LEVELS = ['log', 'warn', 'error'] as const;
const MAX_KEY_LENGTH = 1024;

/** What one script call produced. @internal */
export interface CallOutcome {
  value: unknown;
  console: ConsoleEntry[];
}

interface Completion {
  id: number;
  ok: boolean;
  json: string | undefined;
}

/** The state of one call: its budgets, its host calls in flight, its console. */
class Call {
  readonly script: string;
  readonly ctx: TenantContext;
  readonly console: ConsoleEntry[];
  readonly completed: Completion[] = [];
  readonly wallDeadline: number;
  cpuUsed = 0;
  sliceStart = -1;
  consoleBytes = 0;
  inFlight = 0;
  failure: Error | undefined;
  wake: (() => void) | undefined;

  constructor(script: string, ctx: TenantContext, wallTimeMs: number, console: ConsoleEntry[]) {
    this.script = script;
    this.ctx = ctx;
    this.console = console;
    this.wallDeadline = performance.now() + wallTimeMs;
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.#wakeUp();
  }

  complete(completion: Completion): void {
    this.inFlight--;
    this.completed.push(completion);
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function isLimitError(error: unknown): boolean {
  return error instanceof ScriptTimeoutError || error instanceof ScriptMemoryError || error instanceof ScriptLimitError;
}

/** A name usable as a QuickJS file name (it appears in stacks as `name:line:column`). */
function fileName(script: string): string {
  return script.replace(/[^\w.-]/g, '_').slice(0, 100) || 'script';
}

interface ErrorData {
  name: string;
  message: string;
  stack: string;
}

function parseErrorData(json: string): ErrorData {
  try {
    const data = JSON.parse(json) as Partial<ErrorData> | null;
    return {
      name: typeof data?.name === 'string' ? data.name : 'Error',
      message: typeof data?.message === 'string' ? data.message : String(data?.message),
      stack: typeof data?.stack === 'string' ? data.stack : '',
    };
  } catch {
    return { name: 'Error', message: 'The script failed with an error that could not be read.', stack: '' };
  }
}

/** The JSON a host call's failure is delivered to the script as. */
function errorJson(error: unknown): string {
  const data = serializeError(error);
  return JSON.stringify({ name: data.name, message: data.message, code: data.code });
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * One tenant's QuickJS runtime: its own WebAssembly instance (capped memory), one context, the
 * prelude's bridge, the tenant's compiled scripts. Runs one call at a time; after a limit error
 * it is `broken` and the engine discards it.
 * @internal
 */
export class TenantSandbox {
  readonly tenant: TenantId;
  readonly #options: ResolvedOptions;
  readonly #instance: QuickJsInstance;
  readonly #runtime: QuickJSRuntime;
  readonly #vm: QuickJSContext;
  readonly #run: QuickJSHandle;
  readonly #settle: QuickJSHandle;
  readonly #scripts = new Map<string, QuickJSHandle>();
  #call: Call | undefined;
  #ids = 0;
  #broken = false;

  private constructor(tenant: TenantId, options: ResolvedOptions, instance: QuickJsInstance) {
    this.tenant = tenant;
    this.#options = options;
    this.#instance = instance;
    this.#runtime = instance.module.newRuntime();
    this.#runtime.setMaxStackSize(options.maxStackBytes);
    this.#runtime.setInterruptHandler(() => this.#shouldInterrupt());
    this.#vm = this.#runtime.newContext();
    const vm = this.#vm;
    const call = vm.newFunction('call', (op, a, b) => this.#hostCall(op, a, b));
    const log = vm.newFunction('log', (level, line) => this.#hostLog(level, line));
    const tenantJson = vm.newString(JSON.stringify({ kind: tenant.kind, id: tenant.id }));
    const exposedJson = vm.newString(JSON.stringify([...options.expose.keys()]));
    const factory = vm.unwrapResult(vm.evalCode(PRELUDE, 'prelude'));
    const bridge = vm.unwrapResult(vm.callFunction(factory, vm.undefined, call, log, tenantJson, exposedJson));
    this.#run = vm.getProp(bridge, 'run');
    this.#settle = vm.getProp(bridge, 'settle');
    for (const handle of [call, log, tenantJson, exposedJson, factory, bridge]) handle.dispose();
  }

  /** Creates a tenant's runtime in a new WebAssembly instance. */
  static async create(tenant: TenantId, options: ResolvedOptions): Promise<TenantSandbox> {
    let instance: QuickJsInstance;
    try {
      instance = await newQuickJsInstance(options.maxMemoryBytes);
    } catch (error) {
      throw new ScriptMemoryError(
        `Could not create a runtime for ${tenant.kind} ${tenant.id}: ${(error as Error).message} (too many runtimes in this process? lower \`maxRuntimes\`).`,
        { cause: error },
      );
    }
    return new TenantSandbox(tenant, options, instance);
  }

  /** True after a limit error or an engine failure: the engine must discard this runtime. */
  get broken(): boolean {
    return this.#broken;
  }

  /** True while a call runs. */
  get busy(): boolean {
    return this.#call !== undefined;
  }

  /** Bytes of WebAssembly memory the runtime holds (its high-water mark: memory never shrinks). */
  get memoryBytes(): number {
    return this.#instance.memory.buffer.byteLength;
  }

  /** Compiled scripts held. */
  get cachedScripts(): number {
    return this.#scripts.size;
  }

  /** Forgets the runtime: the WebAssembly instance and its memory go with the last reference. */
  discard(): void {
    this.#broken = true;
    this.#scripts.clear();
  }

  /**
   * Runs `code` (the body of an async function of `(event, ctx)`) with a copy of the event given
   * as JSON (`undefined`: no event). What the script prints is appended to `console`.
   */
  async run(
    script: string,
    code: string,
    eventJson: string | undefined,
    ctx: TenantContext,
    console: ConsoleEntry[] = [],
  ): Promise<CallOutcome> {
    if (this.#broken) throw new ScriptLimitError('The runtime was discarded.');
    if (this.#call !== undefined) throw new ScriptLimitError('The runtime is already running a call.');
    const call = new Call(script, ctx, this.#options.wallTimeMs, console);
    this.#call = call;
    const timer = setTimeout(() => {
      call.fail(
        new ScriptTimeoutError(
          `Script ${script} did not finish within its wall-clock deadline of ${this.#options.wallTimeMs} ms.`,
        ),
      );
    }, this.#options.wallTimeMs);
    try {
      return await this.#execute(call, code, eventJson);
    } catch (error) {
      if (isLimitError(error)) this.#broken = true;
      throw error;
    } finally {
      clearTimeout(timer);
      this.#call = undefined;
    }
  }

  async #execute(call: Call, code: string, eventJson: string | undefined): Promise<CallOutcome> {
    const vm = this.#vm;
    const fn = this.#compile(call, code);
    const promise = this.#slice(call, () => {
      const event = eventJson === undefined ? vm.undefined : vm.newString(eventJson);
      this.#checkMemory(call);
      const result = vm.callFunction(this.#run, vm.undefined, fn, event);
      if (event !== vm.undefined) event.dispose();
      return result;
    });
    if (promise.error !== undefined) {
      // The bridge catches everything; only a tampered-with runtime gets here.
      const data = this.#dumpError(promise.error);
      throw this.#scriptError(call, data);
    }
    try {
      for (;;) {
        this.#drain(call);
        const state = vm.getPromiseState(promise.value);
        if (state.type === 'fulfilled') {
          const outcome = this.#decode(call, state.value);
          state.value.dispose();
          return outcome;
        }
        if (state.type === 'rejected') {
          const data = this.#dumpError(state.error);
          throw this.#scriptError(call, data);
        }
        if (call.completed.length > 0) {
          this.#deliver(call);
          continue;
        }
        if (call.inFlight === 0) {
          throw new ScriptTimeoutError(
            `Script ${call.script} can never finish: it awaits a promise that nothing will settle.`,
          );
        }
        await new Promise<void>((resolve) => {
          call.wake = resolve;
        });
        if (call.failure !== undefined) throw call.failure;
      }
    } finally {
      if (promise.value.alive) promise.value.dispose();
    }
  }

  /** Compiles `code` once per (name, code); the least recently used is forgotten beyond the cap. */
  #compile(call: Call, code: string): QuickJSHandle {
    const key = `${call.script}\u0000${code}`;
    const cached = this.#scripts.get(key);
    if (cached !== undefined) {
      this.#scripts.delete(key);
      this.#scripts.set(key, cached);
      return cached;
    }
    const vm = this.#vm;
    const result = this.#slice(call, () =>
      vm.evalCode(`(async function (event, ctx) {${code}\n})`, fileName(call.script)),
    );
    if (result.error !== undefined) {
      const data = this.#dumpError(result.error);
      if (data.name === 'SyntaxError') {
        // An error at the end of the code is reported on the wrapper's closing line.
        const found = this.#lineOf(call, data.stack);
        const line = found === undefined ? undefined : Math.min(found, code.split('\n').length);
        throw new ScriptSyntaxError(`${call.script}:${line ?? '?'}: SyntaxError: ${data.message}`, {
          script: call.script,
          ...(line === undefined ? {} : { line }),
        });
      }
      throw this.#scriptError(call, data);
    }
    if (vm.typeof(result.value) !== 'function') {
      result.value.dispose();
      throw new ScriptSyntaxError(
        `${call.script}: the code must be the body of a function; it closes the function it is placed in.`,
        { script: call.script },
      );
    }
    this.#scripts.set(key, result.value);
    if (this.#scripts.size > this.#options.maxCachedScripts) {
      const [oldest, handle] = this.#scripts.entries().next().value as [string, QuickJSHandle];
      this.#scripts.delete(oldest);
      handle.dispose();
    }
    return result.value;
  }

  /** Runs queued promise jobs in batches, checking the budgets between batches. */
  #drain(call: Call): void {
    while (this.#runtime.hasPendingJob()) {
      const result = this.#slice(call, () => this.#runtime.executePendingJobs(JOB_BATCH));
      // A job's own exception rejects its promise; what surfaces here is an interrupt or an
      // out-of-memory, both already recorded by the checks in #slice.
      if (result.error !== undefined) result.error.dispose();
    }
  }

  /** Hands the results of finished host calls to the script. */
  #deliver(call: Call): void {
    const vm = this.#vm;
    const done = call.completed.splice(0);
    this.#slice(call, () => {
      for (const { id, ok, json } of done) {
        const idHandle = vm.newNumber(id);
        const jsonHandle = json === undefined ? vm.undefined : vm.newString(json);
        this.#checkMemory(call);
        const result = vm.callFunction(this.#settle, vm.undefined, idHandle, ok ? vm.true : vm.false, jsonHandle);
        idHandle.dispose();
        if (jsonHandle !== vm.undefined) jsonHandle.dispose();
        if (result.error !== undefined) result.error.dispose();
        else result.value.dispose();
      }
    });
  }

  /**
   * Runs `fn` inside the engine as part of `call`'s CPU time, then checks every budget. An
   * exception out of the engine itself (the native stack overflowing, an abort) breaks the
   * runtime and ends the call.
   */
  #slice<T>(call: Call, fn: () => T): T {
    call.sliceStart = performance.now();
    let result: T;
    try {
      result = fn();
    } catch (error) {
      call.cpuUsed += performance.now() - call.sliceStart;
      call.sliceStart = -1;
      throw this.#engineFailure(call, error);
    }
    call.cpuUsed += performance.now() - call.sliceStart;
    call.sliceStart = -1;
    this.#checkMemory(call);
    if (call.failure !== undefined) throw call.failure;
    if (call.cpuUsed > this.#options.cpuTimeMs) throw this.#cpuTimeout(call);
    return result;
  }

  #checkMemory(call: Call): void {
    if (this.#instance.refusedGrowth) {
      call.fail(
        new ScriptMemoryError(
          `Script ${call.script} went past the tenant's memory limit of ${this.#options.maxMemoryBytes} bytes.`,
        ),
      );
      throw call.failure;
    }
  }

  #cpuTimeout(call: Call): ScriptTimeoutError {
    return new ScriptTimeoutError(
      `Script ${call.script} used more than its ${this.#options.cpuTimeMs} ms of CPU time.`,
    );
  }

  #engineFailure(call: Call, error: unknown): Error {
    this.#broken = true;
    if (this.#instance.refusedGrowth) {
      return new ScriptMemoryError(
        `Script ${call.script} went past the tenant's memory limit of ${this.#options.maxMemoryBytes} bytes.`,
        { cause: error },
      );
    }
    if (call.failure !== undefined) return call.failure;
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return new ScriptLimitError(`Script ${call.script} recursed too deeply (the engine's native stack overflowed).`, {
        cause: error,
      });
    }
    return new ScriptLimitError(`The runtime failed while running script ${call.script}; it was discarded.`, {
      cause: error,
    });
  }

  #shouldInterrupt(): boolean {
    const call = this.#call;
    if (call === undefined || call.sliceStart < 0) return false;
    if (call.failure !== undefined) return true;
    const now = performance.now();
    if (call.cpuUsed + (now - call.sliceStart) > this.#options.cpuTimeMs) {
      call.fail(this.#cpuTimeout(call));
      return true;
    }
    if (now > call.wallDeadline) {
      call.fail(
        new ScriptTimeoutError(
          `Script ${call.script} did not finish within its wall-clock deadline of ${this.#options.wallTimeMs} ms.`,
        ),
      );
      return true;
    }
    return false;
  }

  /** Reads what the bridge resolved with: `v<json>`, `u` (undefined), `e<error>`, `n<error>`. */
  #decode(call: Call, handle: QuickJSHandle): CallOutcome {
    const text = this.#readString(call, handle, this.#options.maxResultBytes + 1, 'result');
    if (text === undefined)
      throw this.#scriptError(call, { name: 'Error', message: 'The bridge was tampered with.', stack: '' });
    const tag = text.charAt(0);
    if (tag === 'u') return { value: undefined, console: call.console };
    if (tag === 'v') {
      try {
        return { value: JSON.parse(text.slice(1)) as unknown, console: call.console };
      } catch (error) {
        throw new ScriptError(`${call.script}: the result could not be read as JSON.`, {
          script: call.script,
          cause: error,
        });
      }
    }
    const data = parseErrorData(text.slice(1));
    if (tag === 'n') {
      throw new ScriptError(`${call.script}: the result is not plain data (JSON): ${data.name}: ${data.message}`, {
        script: call.script,
      });
    }
    throw this.#scriptError(call, data);
  }

  /**
   * Reads a string out of the runtime, refusing (with `ScriptLimitError`) one of more than
   * `maxBytes` UTF-8 bytes before copying it. `undefined` when the handle is not a string.
   */
  #readString(call: Call, handle: QuickJSHandle, maxBytes: number, what: string): string | undefined {
    const vm = this.#vm;
    if (vm.typeof(handle) !== 'string') return undefined;
    const limitError = (): Error => {
      call.fail(
        new ScriptLimitError(
          `Script ${call.script} handed the host a ${what} larger than ${this.#options.maxResultBytes} bytes.`,
        ),
      );
      return call.failure!;
    };
    const length = vm.getProp(handle, 'length');
    const units = vm.getNumber(length);
    length.dispose();
    // A UTF-8 encoding is never shorter than the UTF-16 one in code units.
    if (units > maxBytes) throw limitError();
    const text = vm.getString(handle);
    if (utf8Length(text) > maxBytes) throw limitError();
    return text;
  }

  #dumpError(handle: QuickJSHandle): ErrorData {
    try {
      const data = this.#vm.dump(handle) as Partial<ErrorData> | string | null;
      if (data !== null && typeof data === 'object') {
        return {
          name: typeof data.name === 'string' ? data.name : 'Error',
          message: typeof data.message === 'string' ? data.message : String(data.message),
          stack: typeof data.stack === 'string' ? data.stack : '',
        };
      }
      return { name: 'Error', message: `Uncaught ${String(data)}`, stack: '' };
    } finally {
      handle.dispose();
    }
  }

  #lineOf(call: Call, stack: string): number | undefined {
    const file = fileName(call.script).replace(/[.]/g, '\\.');
    const match = new RegExp(`[( ]${file}:(\\d+)`).exec(stack);
    return match === null ? undefined : Number(match[1]);
  }

  /** The error a script's own throw becomes; stack overflows and out-of-memory are limit errors. */
  #scriptError(call: Call, data: ErrorData): Error {
    if (data.name === 'InternalError' && data.message === 'out of memory') {
      this.#broken = true;
      return new ScriptMemoryError(
        `Script ${call.script} went past the tenant's memory limit of ${this.#options.maxMemoryBytes} bytes.`,
      );
    }
    if (
      (data.name === 'InternalError' && data.message === 'stack overflow') ||
      (data.name === 'RangeError' && data.message === 'Maximum call stack size exceeded')
    ) {
      this.#broken = true;
      return new ScriptLimitError(
        `Script ${call.script} went past its stack limit of ${this.#options.maxStackBytes} bytes (recursion too deep).`,
      );
    }
    const line = this.#lineOf(call, data.stack);
    const error = new ScriptError(`${call.script}:${line ?? '?'}: ${data.name}: ${data.message}`, {
      script: call.script,
      ...(line === undefined ? {} : { line }),
    });
    error.stack = `${error.name}: ${error.message}\n${data.stack.trimEnd()}`;
    return error;
  }

  // -------------------------------------------------------------------------------------------
  // Host functions (called synchronously from inside the runtime)
  // -------------------------------------------------------------------------------------------

  #hostCall(
    opHandle: QuickJSHandle,
    aHandle: QuickJSHandle | undefined,
    bHandle: QuickJSHandle | undefined,
  ): QuickJSHandle {
    const call = this.#call;
    if (call === undefined) throw new Error('No call is running.');
    if (call.inFlight >= this.#options.maxPendingHostCalls) {
      const error = new ScriptLimitError(
        `Script ${call.script} had more than ${this.#options.maxPendingHostCalls} host calls in flight.`,
      );
      call.fail(error);
      throw error;
    }
    const op = this.#readString(call, opHandle, 64, 'operation name');
    const a =
      aHandle === undefined ? undefined : this.#readString(call, aHandle, this.#options.maxResultBytes, 'argument');
    const b =
      bHandle === undefined ? undefined : this.#readString(call, bHandle, this.#options.maxResultBytes, 'value');
    const id = ++this.#ids;
    call.inFlight++;
    let pending: Promise<string | undefined>;
    try {
      pending = this.#hostOperation(call, op, a, b);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (json) => call.complete({ id, ok: true, json }),
      (error: unknown) => call.complete({ id, ok: false, json: errorJson(error) }),
    );
    return this.#vm.newNumber(id);
  }

  #hostOperation(
    call: Call,
    op: string | undefined,
    a: string | undefined,
    b: string | undefined,
  ): Promise<string | undefined> {
    const kv = call.ctx.kv;
    switch (op) {
      case 'kv.get':
        return kv.get(this.#key(a)).then((value) => (value === undefined ? undefined : JSON.stringify(value)));
      case 'kv.set': {
        const key = this.#key(a);
        if (b === undefined) {
          throw new InvalidArgumentError('Expected a value to store, got undefined; use delete() to remove a key.');
        }
        return kv.set(key, JSON.parse(b)).then(() => undefined);
      }
      case 'kv.delete':
        return kv.delete(this.#key(a)).then((existed) => JSON.stringify(existed));
      case 'kv.list': {
        if (typeof a !== 'string') throw new InvalidArgumentError('Expected the prefix to be a string.');
        return kv
          .list(a)
          .then((entries) => JSON.stringify(entries.filter(([key]) => !key.startsWith(RESERVED_KEY_PREFIX))));
      }
      case 'expose': {
        const fn = a === undefined ? undefined : this.#options.expose.get(a);
        if (fn === undefined || b === undefined) throw new InvalidArgumentError(`No host function ${String(a)}.`);
        const args = JSON.parse(b) as unknown[];
        return Promise.resolve(fn(call.ctx, ...args)).then((value) =>
          value === undefined ? undefined : JSON.stringify(value),
        );
      }
      default:
        throw new InvalidArgumentError(`Unknown host call ${String(op)}.`);
    }
  }

  #key(key: string | undefined): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new InvalidArgumentError(`Expected a key to be a string of 1 to ${MAX_KEY_LENGTH} characters.`);
    }
    if (key.startsWith(RESERVED_KEY_PREFIX)) {
      throw new InvalidArgumentError(`Keys starting with ${RESERVED_KEY_PREFIX} are reserved for the host.`);
    }
    return key;
  }

  #hostLog(levelHandle: QuickJSHandle | undefined, lineHandle: QuickJSHandle | undefined): void {
    const call = this.#call;
    if (call === undefined || levelHandle === undefined || lineHandle === undefined) return;
    const vm = this.#vm;
    if (vm.typeof(levelHandle) !== 'number' || vm.typeof(lineHandle) !== 'string') return;
    const level = LEVELS[vm.getNumber(levelHandle)] ?? 'log';
    const remaining = this.#options.maxConsoleBytes - call.consoleBytes;
    const length = vm.getProp(lineHandle, 'length');
    const units = vm.getNumber(length);
    length.dispose();
    const message = units < remaining ? vm.getString(lineHandle) : undefined;
    const bytes = message === undefined ? Infinity : utf8Length(message) + 1;
    if (bytes > remaining) {
      const error = new ScriptLimitError(
        `Script ${call.script} printed more than ${this.#options.maxConsoleBytes} bytes of console output.`,
      );
      call.fail(error);
      throw error;
    }
    call.consoleBytes += bytes;
    const entry: ConsoleEntry = { level, message: message! };
    call.console.push(entry);
    try {
      this.#options.onConsole?.({ ...entry, tenant: this.tenant, script: call.script });
    } catch {
      // A failing console sink must not fail the script.
    }
  }
}
