import { describe, expect, it } from 'vitest';
import { declarationImports, declarationProblems, packageOf, typesPackageOf } from '../src/declarations.js';

describe('declarationImports', () => {
  it('finds the bare specifiers of imports, re-exports, import types and type references', () => {
    const text = [
      "import type { WebSocket } from 'ws';",
      'export * from "./local.js";',
      "export { x } from '@scope/pkg/sub';",
      "type T = import('piscina').Piscina;",
      '/// <reference types="node" />',
      "import 'side-effect';",
      "import type { Server } from 'node:http';",
      '/** @example',
      " * import { pool } from '@s/documented';",
      " * [1, 2].join(', ') from ', '",
      ' */',
      "// import { y } from 'commented-out';",
    ].join('\n');
    expect(declarationImports(text).sort()).toEqual([
      '@scope/pkg/sub',
      'node',
      'node:http',
      'piscina',
      'side-effect',
      'ws',
    ]);
  });
});

describe('packageOf and typesPackageOf', () => {
  it('name the package of a specifier and its DefinitelyTyped package', () => {
    expect(packageOf('@scope/pkg/sub/deep')).toBe('@scope/pkg');
    expect(packageOf('ws/lib/x')).toBe('ws');
    expect(typesPackageOf('ws')).toBe('@types/ws');
    expect(typesPackageOf('@scope/pkg')).toBe('@types/scope__pkg');
  });
});

describe('declarationProblems', () => {
  const manifest = {
    name: '@s/p',
    version: '1.0.0',
    dependencies: { ws: '^8.0.0', piscina: '^5.0.0', '@s/core': '^1.0.0' },
    peerDependencies: { vitest: '^4.0.0' },
  };
  const typed = new Set(['piscina', '@s/core', 'vitest']);

  it('accepts built-ins, the package itself and dependencies that ship types', () => {
    const imports = [
      'node',
      '@types/node',
      'node:fs',
      'fs',
      'worker_threads',
      '@s/p/worker',
      'piscina',
      '@s/core',
      'vitest',
    ];
    expect(declarationProblems(manifest, imports, (name) => typed.has(name))).toEqual([]);
  });

  it('asks for the @types package of an untyped dependency, once', () => {
    expect(declarationProblems(manifest, ['ws', 'ws/lib/websocket'], (name) => typed.has(name))).toEqual([
      "Its declarations import 'ws', which has no types of its own: add @types/ws to its dependencies.",
    ]);
    const withTypes = { ...manifest, dependencies: { ...manifest.dependencies, '@types/ws': '^8.0.0' } };
    expect(declarationProblems(withTypes, ['ws'], (name) => typed.has(name))).toEqual([]);
  });

  it('reports packages the declarations import without depending on them', () => {
    expect(declarationProblems(manifest, ['discord.js', '@types/pg'], () => true)).toEqual([
      "Its declarations import 'discord.js', which is not in its dependencies or peerDependencies.",
      'Its declarations reference @types/pg, which is not in its dependencies.',
    ]);
  });
});
