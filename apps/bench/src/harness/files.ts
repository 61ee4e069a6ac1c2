import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderReport } from './report.js';
import type { BenchResults } from './results.js';

/** `2026-12-07-ab12cd34ef` for a run started then at that commit. */
export function resultsBaseName(results: Pick<BenchResults, 'startedAt' | 'commit' | 'options'>): string {
  const stamp = results.startedAt.slice(0, 19).replace(/:/g, '').replace('T', '-');
  return `${stamp}-${results.commit}${results.options.quick ? '-quick' : ''}`;
}

/** Writes `<out>/<name>.json` (every raw round) and `<out>/<name>.html` (the report); returns their paths. */
export async function writeResults(out: string, results: BenchResults): Promise<{ json: string; html: string }> {
  await mkdir(out, { recursive: true });
  const base = join(out, resultsBaseName(results));
  const json = `${base}.json`;
  const html = `${base}.html`;
  await writeFile(json, `${JSON.stringify(results, null, 1)}\n`);
  await writeFile(html, renderReport(results));
  return { json, html };
}
