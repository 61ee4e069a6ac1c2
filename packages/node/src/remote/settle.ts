/**
 * Resolves `true` once every promise in `promises` has settled, or `false` after `timeoutMs`,
 * whichever comes first. The timer is cleared either way.
 * @internal
 */
export async function allSettledWithin(promises: Iterable<Promise<unknown>>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, false);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
