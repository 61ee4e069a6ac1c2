import * as echarts from 'echarts';
import { formatBytes, formatCount, formatMetric, formatMicros, formatRatio } from './format.js';
import type { BenchResults, ContenderRecord, GroupRecord } from './results.js';

const SWITCHYARD_COLOR = '#2f6fdf';
const PEER_COLOR = '#8c8f96';
const WHISKER_COLOR = '#222222';
const PERCENTILE_COLORS = ['#2f6fdf', '#4fb286', '#e3a33b', '#d9534f'];
const WIDTH = 960;

/** What a chart is, for the browser check: which series holds one bar (or line) per contender. */
interface ChartMeta {
  readonly kind: 'bars' | 'latency-bars' | 'distribution' | 'scaling';
  /** Category labels (or series names for line charts) that must be visible. */
  readonly labels: readonly string[];
  /** Bars drawn by series 0, one per label (bar charts). */
  readonly bars: number;
  /** Line series, one per label (line charts). */
  readonly lines: number;
}

interface Chart {
  readonly svg: string;
  readonly meta: ChartMeta;
  readonly caption: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Renders an ECharts option to an SVG string on the server side (no DOM, no canvas). */
function renderSvg(option: echarts.EChartsCoreOption, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: 'sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const okContenders = (group: GroupRecord): ContenderRecord[] => group.contenders.filter((c) => c.status === 'ok');

/** Horizontal bars of the median rate per contender, with min–max whiskers and the ratio to the reference. */
function throughputChart(group: GroupRecord): Chart | undefined {
  const contenders = okContenders(group);
  if (contenders.length === 0) return undefined;
  // Top to bottom in the group's order: a category y axis runs bottom-up.
  const ordered = [...contenders].reverse();
  const labels = ordered.map((c) => c.name);
  const height = 90 + 34 * ordered.length;
  const svg = renderSvg(
    {
      grid: { left: 16, right: 110, top: 30, bottom: 40, containLabel: true },
      xAxis: {
        type: 'value',
        name: `${group.unit}/s`,
        nameLocation: 'middle',
        nameGap: 26,
        axisLine: { show: true },
        axisLabel: { formatter: (v: number) => formatCount(v) },
      },
      yAxis: { type: 'category', data: labels, axisLine: { show: true }, axisTick: { show: true } },
      series: [
        {
          type: 'bar',
          barWidth: '60%',
          data: ordered.map((c) => ({
            value: c.perSecond?.median ?? 0,
            itemStyle: { color: c.kind === 'switchyard' ? SWITCHYARD_COLOR : PEER_COLOR },
          })),
          label: {
            show: true,
            position: 'right',
            distance: 14,
            formatter: (p: { dataIndex: number }) => {
              const c = ordered[p.dataIndex]!;
              return `${formatCount(c.perSecond?.median)}  ${c.name === group.reference ? 'ref' : formatRatio(c.ratio?.median)}`;
            },
          },
        },
        {
          type: 'custom',
          name: 'min–max',
          data: ordered.map((c, i) => [i, c.perSecond?.min ?? 0, c.perSecond?.max ?? 0]),
          renderItem: (
            _params: unknown,
            api: { value(i: number): number; coord(p: number[]): number[]; size(p: number[]): number[] },
          ) => {
            const category = api.value(0);
            const low = api.coord([api.value(1), category]);
            const high = api.coord([api.value(2), category]);
            const half = api.size([0, 1])[1]! * 0.18;
            const style = { stroke: WHISKER_COLOR, lineWidth: 1.5 };
            return {
              type: 'group',
              children: [
                { type: 'line', shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style },
                { type: 'line', shape: { x1: low[0], y1: low[1]! - half, x2: low[0], y2: low[1]! + half }, style },
                { type: 'line', shape: { x1: high[0], y1: high[1]! - half, x2: high[0], y2: high[1]! + half }, style },
              ],
            };
          },
          z: 10,
        },
      ],
    },
    height,
  );
  return {
    svg,
    meta: { kind: 'bars', labels, bars: labels.length, lines: 0 },
    caption: `Median ${group.unit}/s over the rounds (bar), min–max (whisker); beside each bar the median per-round ratio to “${group.reference}”. Blue: Switchyard; grey: peers.`,
  };
}

/** Grouped bars of p50/p90/p99/p99.9 per contender, on a log scale. */
function latencyChart(group: GroupRecord): Chart | undefined {
  const contenders = okContenders(group).filter((c) => c.latencyUs !== undefined);
  if (contenders.length === 0) return undefined;
  const labels = contenders.map((c) => c.name);
  const keys = ['p50', 'p90', 'p99', 'p999'] as const;
  const svg = renderSvg(
    {
      legend: { top: 0, data: ['p50', 'p90', 'p99', 'p99.9'] },
      grid: { left: 16, right: 30, top: 40, bottom: 40, containLabel: true },
      xAxis: { type: 'category', data: labels, axisLine: { show: true }, axisLabel: { interval: 0 } },
      yAxis: {
        type: 'log',
        name: 'µs',
        axisLine: { show: true },
        axisLabel: { formatter: (v: number) => formatMicros(v) },
      },
      series: keys.map((key, i) => ({
        type: 'bar',
        name: key === 'p999' ? 'p99.9' : key,
        itemStyle: { color: PERCENTILE_COLORS[i] },
        data: contenders.map((c) => c.latencyUs![key]),
      })),
    },
    380,
  );
  return {
    svg,
    meta: { kind: 'latency-bars', labels, bars: labels.length, lines: 0 },
    caption: 'Latency percentiles over every sample of every round (log scale).',
  };
}

/** The latency distribution: share of samples per log-scale bucket, one line per contender. */
function distributionChart(group: GroupRecord): Chart | undefined {
  const contenders = okContenders(group).filter((c) => c.histogram !== undefined);
  if (contenders.length === 0) return undefined;
  const bounds = contenders[0]!.histogram!.boundsUs;
  let first = bounds.length;
  let last = 0;
  for (const c of contenders) {
    c.histogram!.counts.forEach((n, i) => {
      if (n > 0) {
        first = Math.min(first, i);
        last = Math.max(last, i);
      }
    });
  }
  const from = Math.max(0, first - 1);
  const to = Math.min(bounds.length - 1, last + 1);
  const svg = renderSvg(
    {
      legend: { top: 0, data: contenders.map((c) => c.name) },
      grid: { left: 16, right: 30, top: 50, bottom: 40, containLabel: true },
      xAxis: {
        type: 'log',
        name: 'latency',
        nameLocation: 'middle',
        nameGap: 26,
        min: bounds[from],
        max: bounds[to],
        axisLine: { show: true },
        axisLabel: { formatter: (v: number) => formatMicros(v) },
      },
      yAxis: { type: 'value', name: '% of samples', axisLine: { show: true } },
      series: contenders.map((c) => {
        const total = c.histogram!.counts.reduce((a, b) => a + b, 0) || 1;
        return {
          type: 'line',
          name: c.name,
          showSymbol: false,
          data: c.histogram!.counts.slice(from, to + 1).map((n, i) => [bounds[from + i], (100 * n) / total]),
        };
      }),
    },
    340,
  );
  return {
    svg,
    meta: { kind: 'distribution', labels: contenders.map((c) => c.name), bars: 0, lines: contenders.length },
    caption: 'Distribution of the samples over log-scale buckets (8 per decade).',
  };
}

/** Rate against x (workers, tenants…) per series, for groups whose contenders carry `series` and `x`. */
function scalingChart(group: GroupRecord): Chart | undefined {
  const contenders = okContenders(group).filter((c) => c.series !== undefined && c.x !== undefined);
  if (contenders.length === 0) return undefined;
  const series = [...new Set(contenders.map((c) => c.series!))];
  const svg = renderSvg(
    {
      legend: { top: 0, data: series },
      grid: { left: 16, right: 30, top: 50, bottom: 40, containLabel: true },
      xAxis: {
        type: 'value',
        name: 'workers',
        nameLocation: 'middle',
        nameGap: 26,
        minInterval: 1,
        axisLine: { show: true },
      },
      yAxis: {
        type: 'value',
        name: `${group.unit}/s`,
        axisLine: { show: true },
        axisLabel: { formatter: (v: number) => formatCount(v) },
      },
      series: series.map((name) => ({
        type: 'line',
        name,
        symbolSize: 8,
        data: contenders
          .filter((c) => c.series === name)
          .sort((a, b) => a.x! - b.x!)
          .map((c) => [c.x, c.perSecond?.median ?? 0]),
      })),
    },
    340,
  );
  return {
    svg,
    meta: { kind: 'scaling', labels: series, bars: 0, lines: series.length },
    caption: `Median ${group.unit}/s against the number of workers.`,
  };
}

function groupTableHtml(group: GroupRecord): string {
  const latency = group.kind === 'latency';
  const metricNames = [...new Set(group.contenders.flatMap((c) => Object.keys(c.metrics ?? {})))];
  const head = [
    'contender',
    `${group.unit}/s (median)`,
    'min–max',
    '÷ reference (per round)',
    'CPU/op',
    ...(latency ? ['p50', 'p90', 'p99', 'p99.9'] : []),
    ...metricNames,
  ];
  const rows = group.contenders.map((c) => {
    const name = `${escapeHtml(c.name)}${c.name === group.reference ? ' <em>(reference)</em>' : ''}`;
    if (c.status === 'failed') {
      return `<tr class="failed"><td>${name}</td><td colspan="${head.length - 1}">failed: <code>${escapeHtml(c.error?.code ?? '')}</code> ${escapeHtml(c.error?.message ?? '')}</td></tr>`;
    }
    const cells = [
      formatCount(c.perSecond?.median),
      `${formatCount(c.perSecond?.min)}–${formatCount(c.perSecond?.max)}`,
      c.ratio === null
        ? '–'
        : `${formatRatio(c.ratio.median)} (${formatRatio(c.ratio.min)}–${formatRatio(c.ratio.max)})`,
      formatMicros(c.cpuUsPerOp?.median),
      ...(latency
        ? [c.latencyUs?.p50, c.latencyUs?.p90, c.latencyUs?.p99, c.latencyUs?.p999].map((v) => formatMicros(v))
        : []),
      ...metricNames.map((m) => (c.metrics?.[m] === undefined ? '–' : formatMetric(m, c.metrics[m]))),
    ];
    return `<tr class="${c.kind}"><td>${name}</td>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function figure(chart: Chart, id: string): string {
  return `<figure class="chart" id="${escapeHtml(id)}" data-kind="${chart.meta.kind}" data-bars="${chart.meta.bars}" data-lines="${chart.meta.lines}" data-labels="${escapeHtml(JSON.stringify(chart.meta.labels))}">${chart.svg}<figcaption>${escapeHtml(chart.caption)}</figcaption></figure>`;
}

/** The charts of one group, in the order they appear. */
export function groupCharts(group: GroupRecord): Chart[] {
  const charts =
    group.kind === 'latency'
      ? [throughputChart(group), latencyChart(group), distributionChart(group)]
      : [throughputChart(group), scalingChart(group)];
  return charts.filter((c): c is Chart => c !== undefined);
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#1c1d21;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}h3{margin-top:1.8rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem}td,th{padding:.2rem .55rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}tr.switchyard td:first-child{color:${SWITCHYARD_COLOR};font-weight:600}
tr.failed td{color:#b00}figure{margin:0}figcaption{font-size:.8rem;color:#555}.note{color:#444;font-size:.9rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;font-size:.9rem}dt{color:#555}`;

/**
 * The self-contained HTML report of a run: machine and options, then per scenario and group the
 * charts (inline SVG rendered here by ECharts, so the page needs no script and no network) and the
 * table of figures. Each chart's `<figure>` carries `data-*` attributes saying what it must show,
 * for the headless-browser check (`scripts/check-report.mjs`).
 */
export function renderReport(results: BenchResults): string {
  const m = results.machine;
  const sections = results.scenarios.map((scenario) => {
    const groups = scenario.groups.map((group) => {
      const charts = groupCharts(group)
        .map((chart, i) => figure(chart, `${scenario.id}--${group.id}--${i}`))
        .join('\n');
      return `<section class="group"><h3>${escapeHtml(group.title)}</h3>${group.note === undefined ? '' : `<p class="note">${escapeHtml(group.note)}</p>`}
${charts}
${groupTableHtml(group)}</section>`;
    });
    return `<section class="scenario" id="${escapeHtml(scenario.id)}"><h2>${escapeHtml(scenario.title)}</h2><p>${escapeHtml(scenario.description)}</p>
<p class="note">${(scenario.durationMs / 1000).toFixed(0)} s</p>
${groups.join('\n')}</section>`;
  });
  const title = `Switchyard bench — ${results.commit}${results.dirty ? ' (dirty)' : ''} — ${results.startedAt.slice(0, 10)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<dl>
<dt>machine</dt><dd>${escapeHtml(m.cpuModel)}, ${m.cores} cores, ${formatBytes(m.totalMemoryBytes)}, ${escapeHtml(m.platform)} ${escapeHtml(m.osRelease)} ${escapeHtml(m.arch)}</dd>
<dt>node</dt><dd>${escapeHtml(m.node)} (V8 ${escapeHtml(m.v8)})</dd>
<dt>load average</dt><dd>before ${m.loadBefore.join(' / ')}, after ${m.loadAfter.join(' / ')} (1 / 5 / 15 min)</dd>
<dt>run</dt><dd>${escapeHtml(results.startedAt)} → ${escapeHtml(results.finishedAt)}; ${results.options.quick ? '<strong>--quick</strong> (checks answers, says nothing about speed); ' : ''}${results.options.rounds} rounds of ${results.options.ms} ms, warm-up ${results.options.warmupMs} ms${results.options.only.length > 0 ? `; only ${escapeHtml(results.options.only.join(', '))}` : ''}</dd>
</dl>
<p class="note">Every contender answered a known input correctly before it was timed. Contenders of a group ran in interleaved rounds (order rotated each round) after a warm-up; figures are medians over the rounds; ratios are medians of per-round ratios. CPU/op counts this process (all its threads) and the contenders' child processes.</p>
${sections.join('\n')}
</body></html>
`;
}
