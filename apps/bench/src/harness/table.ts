import { formatCount, formatMetric, formatMicros, formatRatio } from './format.js';
import type { GroupRecord } from './results.js';

/** Lays rows out in columns: the first left-aligned, the others right-aligned. */
export function layout(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A group as a terminal table: per contender the median rate with its min–max over the rounds,
 * the median of the per-round ratios to the reference, CPU per operation, and for latency groups
 * the percentiles; failed contenders say why.
 */
export function groupTable(group: GroupRecord): string {
  const latency = group.kind === 'latency';
  const metricNames = [...new Set(group.contenders.flatMap((c) => Object.keys(c.metrics ?? {})))];
  const header = [
    'contender',
    `${group.unit}/s`,
    'min–max',
    `÷ ref`,
    'CPU/op',
    ...(latency ? ['p50', 'p90', 'p99', 'p99.9'] : []),
    ...metricNames,
  ];
  const rows = group.contenders.map((c) => {
    const mark = c.name === group.reference ? '* ' : '  ';
    if (c.status === 'failed') return [`${mark}${c.name}`, 'FAILED'];
    return [
      `${mark}${c.name}`,
      formatCount(c.perSecond?.median),
      `${formatCount(c.perSecond?.min)}–${formatCount(c.perSecond?.max)}`,
      formatRatio(c.ratio?.median),
      formatMicros(c.cpuUsPerOp?.median),
      ...(latency
        ? [c.latencyUs?.p50, c.latencyUs?.p90, c.latencyUs?.p99, c.latencyUs?.p999].map((v) => formatMicros(v))
        : []),
      ...metricNames.map((name) => (c.metrics?.[name] === undefined ? '–' : formatMetric(name, c.metrics[name]))),
    ];
  });
  const failures = group.contenders
    .filter((c) => c.status === 'failed')
    .map((c) => `\n  ✗ ${c.name}: ${c.error?.code ?? ''} ${c.error?.message ?? ''}`)
    .join('');
  const title = `${group.title}${group.note === undefined ? '' : `\n  ${group.note}`}`;
  return `${title}\n${layout([header, ...rows])}\n  (* reference; ÷ ref = median over rounds of this contender's rate ÷ the reference's in the same round)${failures}`;
}
