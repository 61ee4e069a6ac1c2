import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/harness/report.js';
import { validateResults } from '../../src/harness/results.js';
import { groupTable } from '../../src/harness/table.js';

/** A results file recorded by `pnpm bench --quick` (every scenario). */
const recorded = validateResults(
  JSON.parse(readFileSync(new URL('../fixtures/recorded-quick.json', import.meta.url), 'utf8')),
);

const decode = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The `<figure class="chart">` elements of a report, with their data attributes and SVG. */
function figures(html: string): Array<{ kind: string; bars: number; lines: number; labels: string[]; body: string }> {
  return [
    ...html.matchAll(
      /<figure class="chart" id="[^"]*" data-kind="([^"]+)" data-bars="(\d+)" data-lines="(\d+)" data-labels="([^"]*)">([\s\S]*?)<\/figure>/g,
    ),
  ].map((m) => ({
    kind: m[1]!,
    bars: Number(m[2]),
    lines: Number(m[3]),
    labels: JSON.parse(decode(m[4]!)) as string[],
    body: m[5]!,
  }));
}

describe('renderReport', () => {
  const html = renderReport(recorded);

  it('is one self-contained page: no script, no external resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
  });

  it('draws, for every group, a bar chart with one bar per contender that passed its check', () => {
    const charts = figures(html);
    const barCharts = charts.filter((c) => c.kind === 'bars');
    const groups = recorded.scenarios.flatMap((s) => s.groups);
    expect(barCharts).toHaveLength(groups.length);
    barCharts.forEach((chart, i) => {
      const ok = groups[i]!.contenders.filter((c) => c.status === 'ok');
      expect(chart.bars).toBe(ok.length);
      // ECharts marks each data item it drew with its series and data index.
      const bars = new Set(
        [...chart.body.matchAll(/ecmeta_series_index="0" ecmeta_data_index="(\d+)"/g)].map((m) => m[1]),
      );
      expect(bars.size).toBe(ok.length);
      const texts = [...chart.body.matchAll(/>([^<]*)<\/text>/g)].map((m) => decode(m[1]!));
      for (const contender of ok) expect(texts).toContain(contender.name);
    });
  });

  it('draws latency percentiles and distributions for latency groups and a curve for scaling', () => {
    const charts = figures(html);
    const latencyGroups = recorded.scenarios.flatMap((s) => s.groups).filter((g) => g.kind === 'latency');
    expect(charts.filter((c) => c.kind === 'latency-bars')).toHaveLength(latencyGroups.length);
    expect(charts.filter((c) => c.kind === 'distribution')).toHaveLength(latencyGroups.length);
    const scaling = charts.filter((c) => c.kind === 'scaling');
    expect(scaling).toHaveLength(1);
    expect(scaling[0]!.labels).toEqual(['Switchyard threads', 'Switchyard processes', 'piscina run()']);
  });

  it('names the machine, the commit and says that a --quick run says nothing about speed', () => {
    expect(html).toContain(recorded.machine.cpuModel);
    expect(html).toContain(recorded.commit);
    expect(html).toContain('says nothing about speed');
  });

  it('lists a failed contender with its error code in the table instead of drawing it', () => {
    const broken = structuredClone(recorded) as unknown as {
      scenarios: Array<{ groups: Array<{ contenders: unknown[] }> }>;
    };
    const group = broken.scenarios[0]!.groups[0]!;
    group.contenders.push({
      name: 'broken peer',
      kind: 'peer',
      status: 'failed',
      error: { code: 'ERR_BENCH_CHECK_FAILED', message: 'broken peer answered 41, expected 42.' },
      rounds: [],
      perSecond: null,
      cpuUsPerOp: null,
      ratio: null,
    });
    const page = renderReport(validateResults(broken));
    expect(page).toContain('<code>ERR_BENCH_CHECK_FAILED</code>');
    expect(figures(page)[0]!.labels).not.toContain('broken peer');
    expect(groupTable(validateResults(broken).scenarios[0]!.groups[0]!)).toMatch(
      /broken peer\s+FAILED[\s\S]*ERR_BENCH_CHECK_FAILED/,
    );
  });
});
