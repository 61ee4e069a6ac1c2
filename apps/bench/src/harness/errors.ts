/** Base class of the bench app's errors: a stable `code`, `name` set, `cause` passed through. */
export class BenchError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A contender answered a known input wrongly (or not at all) before timing: it is not timed. */
export class CheckFailedError extends BenchError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_BENCH_CHECK_FAILED', message, options);
  }
}

/** A results file does not match the schema (`path` says where). */
export class InvalidResultsError extends BenchError {
  readonly path: string;

  constructor(path: string, message: string) {
    super('ERR_BENCH_INVALID_RESULTS', `${path}: ${message}`);
    this.path = path;
  }
}

/** A command-line option is unknown or has a bad value. */
export class InvalidOptionError extends BenchError {
  constructor(message: string) {
    super('ERR_BENCH_INVALID_OPTION', message);
  }
}

/** A contender's timed run did not finish within its bound (an answer was lost, or it stalled). */
export class RunTimeoutError extends BenchError {
  constructor(message: string) {
    super('ERR_BENCH_RUN_TIMEOUT', message);
  }
}
