import type { SwitchyardErrorOptions } from '@switchyard/core';
import { registerErrorClass, SwitchyardError } from '@switchyard/core';

/**
 * Base class of the errors `@switchyard/node` throws. Each subclass has a stable `code`;
 * all of them are registered with core's `registerErrorClass`, so they cross thread and process
 * boundaries as themselves.
 */
export class NodeError extends SwitchyardError {}

/**
 * `spawnNode` could not load the node's module in the thread or process: the file is missing,
 * it failed to evaluate, or its top-level code threw. `cause` is the loader's error.
 */
export class NodeModuleLoadError extends NodeError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_NODE_MODULE_LOAD', message, options);
  }
}

/**
 * `spawnNode` could not start the thread or process (bad `execArgv`, the process exited before
 * it answered, ...). `cause` is what the runtime reported.
 */
export class NodeSpawnError extends NodeError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_NODE_SPAWN', message, options);
  }
}

/** A remote call named an export that is not (or no longer) a function in the node's module. */
export class NodeFunctionNotFoundError extends NodeError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_NODE_FUNCTION_NOT_FOUND', message, options);
  }
}

/** A function of a spawned node returned a value that cannot be structured-cloned back to the caller. */
export class NodeResultNotCloneableError extends NodeError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_NODE_RESULT_NOT_CLONEABLE', message, options);
  }
}

registerErrorClass('ERR_NODE_MODULE_LOAD', NodeModuleLoadError, { framework: true });
registerErrorClass('ERR_NODE_SPAWN', NodeSpawnError, { framework: true });
registerErrorClass('ERR_NODE_FUNCTION_NOT_FOUND', NodeFunctionNotFoundError, { framework: true });
registerErrorClass('ERR_NODE_RESULT_NOT_CLONEABLE', NodeResultNotCloneableError, { framework: true });
