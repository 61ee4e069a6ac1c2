import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWorkspaceYaml, publishablePackages } from '../src/workspace.js';

const yaml = `packages:
  - packages/*
  - 'apps/*'

# comment
catalog:
  '@types/node': 20.19.43
  ws: ^8.23.0 # runtime

catalogs:
  other:
    x: 1.0.0

overrides:
  vite: 'catalog:'
`;

describe('parseWorkspaceYaml', () => {
  it('reads the package globs and the default catalog', () => {
    const { globs, catalog } = parseWorkspaceYaml(yaml);
    expect(globs).toEqual(['packages/*', 'apps/*']);
    expect([...catalog]).toEqual([
      ['@types/node', '20.19.43'],
      ['ws', '^8.23.0'],
    ]);
  });
});

describe('publishablePackages', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('finds every package under the globs but the private ones, so new packages are checked without changes', () => {
    root = mkdtempSync(join(tmpdir(), 'pack-check-test-'));
    writeFileSync(join(root, 'pnpm-workspace.yaml'), yaml);
    const write = (dir: string, manifest: object): void => {
      mkdirSync(join(root!, dir), { recursive: true });
      writeFileSync(join(root!, dir, 'package.json'), JSON.stringify(manifest));
    };
    write('packages/b', { name: '@s/b', version: '1.0.0' });
    write('packages/a', { name: '@s/a', version: '1.0.0' });
    write('apps/bot', { name: '@s/bot', version: '0.0.0', private: true });
    mkdirSync(join(root, 'packages/no-manifest'));
    expect(publishablePackages(root).map((p) => [p.dir, p.manifest.name])).toEqual([
      ['packages/a', '@s/a'],
      ['packages/b', '@s/b'],
    ]);
  });
});
