/**
 * Formats a rate as a short figure per second: `0.5/s`, `12/s`, `3.4k/s`, `1.2M/s`; `-/s` while unknown.
 *
 * @example
 * ```ts
 * formatRate(1234.5); // '1.2k/s'
 * ```
 */
export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return '-/s';
  const rate = Math.max(0, perSecond);
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(1)}M/s`;
  if (rate >= 1e4) return `${(rate / 1e3).toFixed(1)}k/s`;
  if (rate >= 10) return `${Math.round(rate)}/s`;
  return `${rate.toFixed(1)}/s`;
}

/**
 * Renders a progress bar with its percentage, the counts and the rate:
 * `[████████░░░░░░░░░░░░]  40% 40/100 12/s`.
 *
 * @param width - Characters between the brackets.
 */
export function renderProgressBar(done: number, total: number, perSecond: number | undefined, width: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * width);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4, ' ');
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${percent} ${done}/${total} ${formatRate(perSecond)}`;
}
