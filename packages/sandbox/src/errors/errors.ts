import type { SwitchyardErrorOptions } from '@switchyard/core';
import { registerErrorClass, SwitchyardError } from '@switchyard/core';

/**
 * Base class of the errors `@switchyard/sandbox` adds to core's. Every one of them ends one script
 * call; the limit errors ({@link ScriptTimeoutError}, {@link ScriptMemoryError},
 * {@link ScriptLimitError}) also discard the tenant's runtime, which is recreated on its next call.
 *
 * They cross threads and sockets with their `code`; import `@switchyard/sandbox` on the side that
 * receives them (the master) so they are rebuilt as these classes rather than as `RemoteError`.
 */
export class SandboxError extends SwitchyardError {}

/** Options of {@link ScriptError} and {@link ScriptSyntaxError}: where in the script it happened. */
export interface ScriptErrorOptions extends SwitchyardErrorOptions {
  /** The script's name. */
  script?: string;
  /** The script's line (1 is the first line of its code), when known. */
  line?: number;
}

/**
 * The script threw (or returned a rejected promise, or a result that is not plain data). The
 * message is `<script>:<line>: <name>: <message>`; `stack` holds the script's own stack. The
 * tenant's runtime is kept.
 */
export class ScriptError extends SandboxError {
  /** The script's name (not kept across threads: read it from the message there). */
  readonly script: string | undefined;
  /** The line of the script that threw, when known (not kept across threads). */
  readonly line: number | undefined;

  constructor(message: string, options: ScriptErrorOptions = {}) {
    super('ERR_SCRIPT', message, options);
    this.script = options.script;
    this.line = options.line;
  }
}

/** The script does not parse. The message says where; the tenant's runtime is kept. */
export class ScriptSyntaxError extends SandboxError {
  /** The script's name (not kept across threads). */
  readonly script: string | undefined;
  /** The line of the syntax error, when known (not kept across threads). */
  readonly line: number | undefined;

  constructor(message: string, options: ScriptErrorOptions = {}) {
    super('ERR_SCRIPT_SYNTAX', message, options);
    this.script = options.script;
    this.line = options.line;
  }
}

/**
 * The script ran out of time: its CPU time (`cpuTimeMs`, counted across its awaits) or its
 * wall-clock deadline (`wallTimeMs`), or it awaits something that can never settle. The tenant's
 * runtime is discarded.
 */
export class ScriptTimeoutError extends SandboxError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_SCRIPT_TIMEOUT', message, options);
  }
}

/** The tenant's runtime reached its memory limit (`maxMemoryBytes`); it is discarded. */
export class ScriptMemoryError extends SandboxError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_SCRIPT_MEMORY', message, options);
  }
}

/**
 * The script went past another limit: stack depth, code size, result size, console output, host
 * calls in flight. The tenant's runtime is discarded (except for a refused code size, which is
 * checked before anything runs).
 */
export class ScriptLimitError extends SandboxError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_SCRIPT_LIMIT', message, options);
  }
}

registerErrorClass('ERR_SCRIPT', ScriptError);
registerErrorClass('ERR_SCRIPT_SYNTAX', ScriptSyntaxError);
registerErrorClass('ERR_SCRIPT_TIMEOUT', ScriptTimeoutError);
registerErrorClass('ERR_SCRIPT_MEMORY', ScriptMemoryError);
registerErrorClass('ERR_SCRIPT_LIMIT', ScriptLimitError);
