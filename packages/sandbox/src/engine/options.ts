import type { TenantContext, TenantId } from '@switchyard/core';
import { InvalidArgumentError } from '@switchyard/core';

/** One line a script printed with `console.log`, `console.warn` or `console.error`. */
export interface ConsoleEntry {
  /** `console.log`, `console.info` and `console.debug` print at `'log'`. */
  level: 'log' | 'warn' | 'error';
  /** The arguments, each a string as is or as JSON, joined with spaces. */
  message: string;
}

/** What {@link ScriptEngineOptions.onConsole} receives: a printed line and who printed it. */
export interface ConsoleRecord extends ConsoleEntry {
  tenant: TenantId;
  /** The script's (or template's) name. */
  script: string;
}

/**
 * A host function offered to scripts through {@link ScriptEngineOptions.expose}. Scripts call it
 * as `await ctx.<name>(...args)`: the arguments arrive as copies (JSON), `ctx` is the calling
 * tenant's context, and what it returns (or throws) is copied back into the script.
 */
export type ExposedFunction = (ctx: TenantContext, ...args: any[]) => unknown;

/** What a script returns when {@link ScriptEngineOptions.captureConsole} is on. */
export interface ScriptResultWithConsole<T = unknown> {
  result: T;
  console: ConsoleEntry[];
}

/** Options of {@link createScriptEngine}. Every limit applies to each tenant on its own. */
export interface ScriptEngineOptions {
  /**
   * Everything a tenant's runtime holds, in bytes: the QuickJS heap, its C stack (5 MiB of the
   * WebAssembly build's memory) and its compiled scripts. Each tenant's runtime is its own
   * WebAssembly instance whose memory cannot grow past this. At least 16 MiB (what the build
   * needs to start), at most 2 GiB; rounded up to 64 KiB pages.
   * @default 16 MiB (16_777_216)
   */
  maxMemoryBytes?: number;
  /**
   * How deep a script may recurse, as QuickJS stack bytes (about 170 bytes per plain call). Past it
   * the call fails with `ScriptLimitError`. At least 16 KiB, at most 4 MiB.
   * @default 256 KiB (262_144)
   */
  maxStackBytes?: number;
  /**
   * CPU time a call may spend running script code, counted across its awaits (time spent waiting
   * for `ctx.kv` or exposed functions does not count). Past it: `ScriptTimeoutError`.
   * @default 100
   */
  cpuTimeMs?: number;
  /**
   * Wall-clock deadline of a call, waits included, enforced from outside the engine (a script
   * awaiting the host does not run, so no interrupt could stop it). Past it: `ScriptTimeoutError`.
   * @default 5000
   */
  wallTimeMs?: number;
  /**
   * Largest script code accepted, in UTF-8 bytes; a larger one is refused with `ScriptLimitError`
   * before anything runs.
   * @default 1 MiB (1_048_576)
   */
  maxCodeBytes?: number;
  /**
   * Largest value a script hands to the host, as UTF-8 bytes of JSON: its result, values it
   * stores with `ctx.kv.set`, arguments of exposed functions. Past it: `ScriptLimitError`.
   * @default 1 MiB (1_048_576)
   */
  maxResultBytes?: number;
  /**
   * Console output a call may print, in UTF-8 bytes (one byte more per line). Going past it ends
   * the call with `ScriptLimitError`; nothing is cut silently.
   * @default 64 KiB (65_536)
   */
  maxConsoleBytes?: number;
  /**
   * Host calls (`ctx.kv.*`, exposed functions) one call may have in flight at once. One more
   * ends the call with `ScriptLimitError`. Promise jobs inside the runtime are bounded by
   * `cpuTimeMs` and `maxMemoryBytes`.
   * @default 64
   */
  maxPendingHostCalls?: number;
  /**
   * Compiled scripts kept per tenant; the least recently used one is dropped beyond it.
   * @default 64
   */
  maxCachedScripts?: number;
  /**
   * Tenant runtimes this engine keeps alive (one engine per worker thread or process). Creating
   * one more discards the least recently used idle runtime, with its globals and compiled
   * scripts: keep state in `ctx.kv`, not in globals. Each runtime reserves address space
   * (about 10 GiB of virtual memory in V8), so a process holds at most about 13,000.
   * @default 512
   */
  maxRuntimes?: number;
  /**
   * Receives every line scripts print, in the worker, as they print it.
   * @default undefined (lines are only counted against `maxConsoleBytes`)
   */
  onConsole?: (record: ConsoleRecord) => void;
  /**
   * Resolve `runScript` with `{ result, console }` (the lines the call printed) instead of the
   * bare result.
   * @default false
   */
  captureConsole?: boolean;
  /**
   * Host functions scripts may call as `ctx.<name>(...)`. Names must be identifiers other than
   * `kv` and `tenant`. Nothing else of the host is reachable from a script.
   * @default {}
   */
  expose?: Record<string, ExposedFunction>;
}

/** The options with every default applied. @internal */
export interface ResolvedOptions {
  maxMemoryBytes: number;
  maxStackBytes: number;
  cpuTimeMs: number;
  wallTimeMs: number;
  maxCodeBytes: number;
  maxResultBytes: number;
  maxConsoleBytes: number;
  maxPendingHostCalls: number;
  maxCachedScripts: number;
  maxRuntimes: number;
  onConsole: ((record: ConsoleRecord) => void) | undefined;
  captureConsole: boolean;
  expose: ReadonlyMap<string, ExposedFunction>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** The smallest memory the QuickJS build starts with (256 pages of 64 KiB). @internal */
export const MIN_MEMORY_BYTES = 16 * MiB;
const PAGE = 64 * KiB;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return value === null ? 'null' : typeof value;
}

function integer(
  options: ScriptEngineOptions,
  key: keyof ScriptEngineOptions,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `Expected \`${key}\` to be an integer from ${min} to ${max}, got ${describe(value)}.`,
    );
  }
  return value;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Validates `options` and applies the defaults. @internal */
export function resolveOptions(options: ScriptEngineOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`Expected the options to be an object, got ${describe(options)}.`);
  }
  const maxMemoryBytes = integer(options, 'maxMemoryBytes', MIN_MEMORY_BYTES, MIN_MEMORY_BYTES, 2048 * MiB);
  if (options.onConsole !== undefined && typeof options.onConsole !== 'function') {
    throw new InvalidArgumentError(`Expected \`onConsole\` to be a function, got ${describe(options.onConsole)}.`);
  }
  if (options.captureConsole !== undefined && typeof options.captureConsole !== 'boolean') {
    throw new InvalidArgumentError(
      `Expected \`captureConsole\` to be a boolean, got ${describe(options.captureConsole)}.`,
    );
  }
  const expose = new Map<string, ExposedFunction>();
  if (options.expose !== undefined) {
    if (options.expose === null || typeof options.expose !== 'object') {
      throw new InvalidArgumentError(
        `Expected \`expose\` to be an object of functions, got ${describe(options.expose)}.`,
      );
    }
    for (const [name, fn] of Object.entries(options.expose)) {
      if (!IDENTIFIER.test(name) || name === 'kv' || name === 'tenant') {
        throw new InvalidArgumentError(
          `Expected the names in \`expose\` to be identifiers other than kv and tenant, got ${JSON.stringify(name)}.`,
        );
      }
      if (typeof fn !== 'function') {
        throw new InvalidArgumentError(`Expected \`expose.${name}\` to be a function, got ${describe(fn)}.`);
      }
      expose.set(name, fn);
    }
  }
  return {
    maxMemoryBytes: Math.ceil(maxMemoryBytes / PAGE) * PAGE,
    maxStackBytes: integer(options, 'maxStackBytes', 256 * KiB, 16 * KiB, 4 * MiB),
    cpuTimeMs: integer(options, 'cpuTimeMs', 100, 1, 3_600_000),
    wallTimeMs: integer(options, 'wallTimeMs', 5000, 1, 3_600_000),
    maxCodeBytes: integer(options, 'maxCodeBytes', MiB, 1, 64 * MiB),
    maxResultBytes: integer(options, 'maxResultBytes', MiB, 1, 512 * MiB),
    maxConsoleBytes: integer(options, 'maxConsoleBytes', 64 * KiB, 0, 64 * MiB),
    maxPendingHostCalls: integer(options, 'maxPendingHostCalls', 64, 1, 100_000),
    maxCachedScripts: integer(options, 'maxCachedScripts', 64, 1, 100_000),
    maxRuntimes: integer(options, 'maxRuntimes', 512, 1, 100_000),
    onConsole: options.onConsole,
    captureConsole: options.captureConsole ?? false,
    expose,
  };
}
