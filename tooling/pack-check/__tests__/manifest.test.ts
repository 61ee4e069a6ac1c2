import { describe, expect, it } from 'vitest';
import { dependencyProblems, exportEntries } from '../src/manifest.js';

describe('dependencyProblems', () => {
  it('accepts ranges', () => {
    expect(
      dependencyProblems({
        name: 'a',
        version: '1.0.0',
        dependencies: { ws: '^8.23.0', b: '~1.2.3', c: '>=1 <3' },
        devDependencies: { typescript: '5.9.3' },
      }),
    ).toEqual([]);
  });

  it('reports exact runtime pins and protocols left in', () => {
    expect(
      dependencyProblems({
        name: 'a',
        version: '1.0.0',
        dependencies: { ws: '8.23.0', '@switchyard/core': 'workspace:^' },
        peerDependencies: { vitest: '=4.1.12' },
        devDependencies: { x: 'catalog:' },
      }),
    ).toEqual([
      'dependencies.ws is pinned to "8.23.0": use a caret range (in the pnpm catalog, "ws: ^8.23.0").',
      'dependencies.@switchyard/core is "workspace:^" in the packed package.json.',
      'peerDependencies.vitest is pinned to "=4.1.12": use a caret range (in the pnpm catalog, "vitest: ^4.1.12").',
      'devDependencies.x is "catalog:" in the packed package.json.',
    ]);
  });
});

describe('exportEntries', () => {
  it('lists each subpath with its target, programs being the files listed in sideEffects', () => {
    expect(
      exportEntries({
        name: '@s/p',
        version: '1.0.0',
        sideEffects: ['./dist/worker/loader.js'],
        exports: {
          '.': { types: './dist/index.d.ts', default: './dist/index.js' },
          './loader': { types: './dist/worker/loader.d.ts', default: './dist/worker/loader.js' },
          './node': { node: { import: './dist/node.js' }, default: './dist/browser.js' },
          './fixtures/*': './dist/fixtures/*',
          './package.json': './package.json',
        },
      }),
    ).toEqual([
      { specifier: '@s/p', target: './dist/index.js', program: false },
      { specifier: '@s/p/loader', target: './dist/worker/loader.js', program: true },
      { specifier: '@s/p/node', target: './dist/node.js', program: false },
    ]);
  });

  it('reads a string or a conditions object as the root export', () => {
    expect(exportEntries({ name: 'p', version: '1.0.0', exports: './index.js' })).toEqual([
      { specifier: 'p', target: './index.js', program: false },
    ]);
    expect(exportEntries({ name: 'p', version: '1.0.0', exports: { import: './index.js' } })).toEqual([
      { specifier: 'p', target: './index.js', program: false },
    ]);
  });
});
