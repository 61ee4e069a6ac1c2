/**
 * `callers` loops, each awaiting one call after the other until `ms` passed; resolves with how
 * many calls completed. The shape of a service: many independent callers, each waiting for its answer.
 */
export async function closedLoop(
  ms: number,
  callers: number,
  call: (caller: number, i: number) => Promise<unknown>,
): Promise<number> {
  const deadline = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await call(caller, i);
        done++;
      }
    }),
  );
  return done;
}

/** Bursts of `burst` calls awaited together, until `ms` passed; resolves with how many completed. */
export async function bursts(ms: number, burst: (round: number) => Promise<number>): Promise<number> {
  const deadline = performance.now() + ms;
  let done = 0;
  for (let round = 0; performance.now() < deadline; round++) done += await burst(round);
  return done;
}

/** One call at a time until `ms` passed, timing each one (µs). */
export async function latencyLoop(
  ms: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ ops: number; latenciesUs: Float64Array }> {
  const deadline = performance.now() + ms;
  let samples = new Float64Array(4096);
  let n = 0;
  for (let i = 0; ; i++) {
    const started = performance.now();
    await call(i);
    const ended = performance.now();
    if (n === samples.length) {
      const grown = new Float64Array(n * 2);
      grown.set(samples);
      samples = grown;
    }
    samples[n++] = (ended - started) * 1000;
    if (ended >= deadline) break;
  }
  return { ops: n, latenciesUs: samples.subarray(0, n) };
}
