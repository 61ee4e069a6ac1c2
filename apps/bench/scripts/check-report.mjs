#!/usr/bin/env node
/* global document, getComputedStyle -- the callbacks of figure.evaluate() run in the page */
// Opens a bench HTML report in headless Chromium and checks that every chart rendered: the SVG is
// laid out and visible, it has axes (an axis line and tick labels), every contender's label is
// shown, and every bar chart has one visible bar per contender (hit-tested at the bar's centre, so
// a bar hidden under something else does not count). Saves a screenshot of each chart and of the
// page next to the report. Not part of `pnpm test`: it needs a browser (.ci/run installs Debian's
// chromium where /usr/bin/chromium is missing).
//
// Usage: node scripts/check-report.mjs [report.html]   (default: the newest results/*.html)
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
const report =
  process.argv[2] !== undefined
    ? resolve(process.argv[2])
    : readdirSync(resultsDir)
        .filter((name) => name.endsWith('.html'))
        .map((name) => join(resultsDir, name))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
if (report === undefined) {
  console.error(`No report given and none in ${resultsDir}: run \`pnpm bench --quick\` first.`);
  process.exit(1);
}
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = join(resultsDir, 'screenshots', basename(report, '.html'));
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath,
  headless: true,
  timeout: 60_000,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const requests = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) requests.push(request.url());
  });
  await page.goto(pathToFileURL(report).href, { waitUntil: 'load', timeout: 60_000 });
  if (requests.length > 0) problems.push(`the report fetched from the network: ${requests.join(', ')}`);

  const figures = await page.locator('figure.chart').all();
  if (figures.length === 0) problems.push('the report has no chart');
  for (const [index, figure] of figures.entries()) {
    await figure.scrollIntoViewIfNeeded();
    const result = await figure.evaluate((element) => {
      const id = element.id;
      const kind = element.dataset.kind;
      const expectedBars = Number(element.dataset.bars);
      const expectedLines = Number(element.dataset.lines);
      const labels = JSON.parse(element.dataset.labels ?? '[]');
      const svg = element.querySelector('svg');
      const errors = [];
      if (svg === null) return { id, errors: ['no <svg>'] };
      const box = svg.getBoundingClientRect();
      if (box.width < 100 || box.height < 100) errors.push(`the SVG is ${box.width}x${box.height}`);
      const visible = (el) => {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        return style.visibility !== 'hidden' && style.display !== 'none' && (r.width > 0 || r.height > 0);
      };
      const texts = [...svg.querySelectorAll('text')].filter(visible).map((t) => t.textContent ?? '');
      // Axes: ECharts draws each axis line as a path stroked in the axis colour, and tick labels as text.
      const axisLines = [...svg.querySelectorAll('path[stroke]')].filter((p) => {
        const d = p.getAttribute('d') ?? '';
        return /^M[\d.]+ [\d.]+L[\d.]+ [\d.]+$/.test(d) && p.getAttribute('fill') === 'none';
      });
      if (axisLines.length < 2) errors.push(`${axisLines.length} axis/grid lines`);
      const numeric = texts.filter((t) => /\d/.test(t));
      if (numeric.length < 2) errors.push(`${numeric.length} numeric tick labels`);
      for (const label of labels) if (!texts.includes(label)) errors.push(`label "${label}" not shown`);
      if (expectedBars > 0) {
        const bars = [...svg.querySelectorAll('path[ecmeta_series_index="0"][ecmeta_data_index]')];
        const drawn = new Set();
        for (const bar of bars) {
          const r = bar.getBoundingClientRect();
          if (r.width <= 0 || r.height <= 0) continue;
          // The bar must be what the page shows at its centre (or a label/whisker drawn over it).
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          if (hit !== null && svg.contains(hit)) drawn.add(bar.getAttribute('ecmeta_data_index'));
        }
        if (drawn.size !== expectedBars) errors.push(`${drawn.size} visible bars, expected ${expectedBars}`);
      }
      if (expectedLines > 0) {
        const series = new Set(
          [...svg.querySelectorAll('path[ecmeta_series_index]')]
            .filter((p) => p.getAttribute('fill') === 'none' || p.getAttribute('fill') === null)
            .map((p) => p.getAttribute('ecmeta_series_index')),
        );
        if (series.size < expectedLines) errors.push(`${series.size} lines, expected ${expectedLines}`);
      }
      return { id, kind, errors };
    });
    await figure.screenshot({ path: join(shots, `${String(index).padStart(2, '0')}-${result.id}.png`) });
    for (const error of result.errors) problems.push(`${result.id} (${result.kind}): ${error}`);
  }
  await page.screenshot({ path: join(shots, 'page.png'), fullPage: true });
  console.log(`${figures.length} charts checked in ${report}; screenshots in ${shots}`);
} finally {
  await browser.close();
}
if (problems.length > 0) {
  console.error(`The report did not render as it should:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
