import { readFile } from 'node:fs/promises';
import * as releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import type { QuickJSSyncVariant, QuickJSWASMModule } from 'quickjs-emscripten-core';
import { newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten-core';
import { MIN_MEMORY_BYTES } from './options.js';

const PAGE = 65_536;

/** The variant's default export, whichever way the module system wrapped it. */
function unwrapVariant(module: unknown): QuickJSSyncVariant {
  let value = module as { default?: unknown; importFFI?: unknown } | undefined;
  while (value !== undefined && value.importFFI === undefined && value.default !== undefined) {
    value = value.default as typeof value;
  }
  return value as QuickJSSyncVariant;
}

/** QuickJS (Bellard's, release build, synchronous) with its WebAssembly in a separate file. */
const RELEASE_SYNC = unwrapVariant(releaseSync);

let compiled: Promise<WebAssembly.Module> | undefined;

/** The QuickJS WebAssembly module, compiled once per thread and shared by every instance. */
function compiledQuickJs(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const url = new URL(import.meta.resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
    return WebAssembly.compile(await readFile(url));
  })();
  compiled.catch(() => {
    compiled = undefined;
  });
  return compiled;
}

/** One tenant's QuickJS: its own WebAssembly instance over its own capped memory. @internal */
export interface QuickJsInstance {
  readonly module: QuickJSWASMModule;
  readonly memory: WebAssembly.Memory;
  /** True once the instance asked for more memory than its cap (an allocation failed). */
  readonly refusedGrowth: boolean;
}

/**
 * Creates a QuickJS instance whose linear memory starts at 16 MiB and can never grow past
 * `maxBytes`: `runtime.setMemoryLimit()` does not bound what strings and typed arrays retain
 * (quickjs-emscripten #255, #271), a `WebAssembly.Memory` with a `maximum` does.
 * @internal
 */
export async function newQuickJsInstance(maxBytes: number): Promise<QuickJsInstance> {
  const wasm = await compiledQuickJs();
  const memory = new WebAssembly.Memory({ initial: MIN_MEMORY_BYTES / PAGE, maximum: maxBytes / PAGE });
  let refusedGrowth = false;
  const grow = memory.grow.bind(memory);
  // Emscripten grows the heap through this object; a refusal is the one sure sign of an allocation
  // failing at the cap (QuickJS then throws "out of memory", which a script could catch).
  Object.defineProperty(memory, 'grow', {
    value: (delta: number): number => {
      try {
        return grow(delta);
      } catch (error) {
        refusedGrowth = true;
        throw error;
      }
    },
  });
  const variant = newVariant(RELEASE_SYNC, {
    wasmMemory: memory,
    emscriptenModule: {
      // Instantiate synchronously from the shared compiled module (the asynchronous path slows
      // down as instances accumulate).
      instantiateWasm(imports: WebAssembly.Imports, onSuccess: (instance: WebAssembly.Instance) => void) {
        const instance = new WebAssembly.Instance(wasm, imports);
        onSuccess(instance);
        return instance.exports;
      },
    },
  });
  const module = await newQuickJSWASMModuleFromVariant(variant);
  return {
    module,
    memory,
    get refusedGrowth() {
      return refusedGrowth;
    },
  };
}
