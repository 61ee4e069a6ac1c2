/**
 * `pnpm --filter @switchyard/pack-check check [--keep]`: checks every publishable package as a user
 * installs it (see check.ts). Exits 1 when a check fails.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packCheck } from './check.js';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });

let root = dirname(fileURLToPath(import.meta.url));
while (!existsSync(join(root, 'pnpm-workspace.yaml'))) {
  const parent = dirname(root);
  if (parent === root) throw new Error('pack-check: no pnpm-workspace.yaml above this file.');
  root = parent;
}

const failed = await packCheck({ root, keep: values.keep });
process.exitCode = failed === 0 ? 0 : 1;
