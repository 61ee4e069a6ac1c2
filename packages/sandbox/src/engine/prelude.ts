/**
 * The code every tenant runtime evaluates once, before any script: it builds what scripts see
 * (`ctx`, `console`) over two host functions and returns the bridge the host drives calls with.
 * Everything here runs inside the tenant's own runtime, so a script that tampers with it can only
 * break its own calls: the host checks every value it reads back (types, sizes, JSON).
 *
 * Host functions: `call(op, a, b)` starts a host call and returns its id (the host settles it
 * later through `settle`); `log(level, line)` prints. Values cross as JSON strings.
 * @internal
 */
export const PRELUDE = String.raw`(function (call, log, tenantJson, exposedJson) {
  'use strict';
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const freeze = Object.freeze;
  const PromiseCtor = Promise;
  const ErrorCtor = Error;
  const pending = Object.create(null);

  function request(op, a, b) {
    const id = call(op, a, b);
    return new PromiseCtor((resolve, reject) => {
      pending[id] = [resolve, reject];
    });
  }

  function settle(id, ok, json) {
    const waiting = pending[id];
    if (waiting === undefined) return;
    delete pending[id];
    if (ok) {
      waiting[0](json === undefined ? undefined : parse(json));
      return;
    }
    const data = parse(json);
    const error = new ErrorCtor(data.message);
    error.name = data.name;
    if (data.code !== undefined) error.code = data.code;
    waiting[1](error);
  }

  function text(value) {
    if (typeof value === 'string') return value;
    try {
      const json = stringify(value);
      if (json !== undefined) return json;
    } catch {}
    try {
      return String(value);
    } catch {
      return '[unprintable]';
    }
  }

  function printer(level) {
    return function (...args) {
      let line = '';
      for (let i = 0; i < args.length; i++) line += (i === 0 ? '' : ' ') + text(args[i]);
      log(level, line);
    };
  }

  const print = printer(0);
  globalThis.console = freeze({ log: print, info: print, debug: print, warn: printer(1), error: printer(2) });

  const kv = freeze({
    get: async (key) => request('kv.get', key),
    set: async (key, value) => request('kv.set', key, stringify(value)),
    delete: async (key) => request('kv.delete', key),
    list: async (prefix) => request('kv.list', prefix === undefined ? '' : prefix),
  });
  const ctx = { tenant: freeze(parse(tenantJson)), kv };
  for (const name of parse(exposedJson)) {
    ctx[name] = async (...args) => request('expose', name, stringify(args));
  }
  freeze(ctx);

  function describe(error) {
    try {
      if (error instanceof ErrorCtor) {
        return stringify({
          name: String(error.name),
          message: String(error.message),
          stack: typeof error.stack === 'string' ? error.stack : '',
        });
      }
      return stringify({ name: 'Error', message: 'Uncaught ' + text(error), stack: '' });
    } catch {
      return stringify({ name: 'Error', message: 'Uncaught exception', stack: '' });
    }
  }

  function run(fn, eventJson) {
    let promise;
    try {
      promise = fn(eventJson === undefined ? undefined : parse(eventJson), ctx);
    } catch (error) {
      return PromiseCtor.resolve('e' + describe(error));
    }
    return promise.then(
      (value) => {
        try {
          const json = stringify(value);
          return json === undefined ? 'u' : 'v' + json;
        } catch (error) {
          return 'n' + describe(error);
        }
      },
      (error) => 'e' + describe(error),
    );
  }

  return freeze({ run, settle });
})`;
