/**
 * Checks that a package's public declarations only import types its users get with it.
 *
 * Type-checking all the packages in one project cannot see this: a dependency of one package
 * (say `@types/ws`, hoisted by npm) hides its absence from another. So each package's `.d.ts`
 * files are read, and every package they import must be the package itself, a Node.js built-in
 * (types from `@types/node`), or one of its `dependencies` / `peerDependencies` that either ships
 * its own types or comes with its `@types/*` package in those same fields.
 * @module
 */
import { builtinModules } from 'node:module';
import type { Manifest } from './workspace.js';

const BUILTINS = new Set(builtinModules);

/** The bare module specifiers a declaration file imports, references or re-exports from. */
export function declarationImports(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/^\/\/\/\s*<reference\s+types\s*=\s*['"]([^'"]+)['"]/gm)) found.add(match[1]!);
  // Comments (TSDoc examples) are not imports.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  const patterns = [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.add(match[1]!);
  return [...found].filter(
    (specifier) => /^(?:node:)?(?:@[\w.-]+\/)?[\w.-]+(?:\/[\w.@-]+)*$/.test(specifier) && !specifier.startsWith('.'),
  );
}

/** The package a bare specifier belongs to (`@scope/name/sub` → `@scope/name`, `node:fs` → `node:fs`). */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** `@types/<name>` for a package (`@scope/name` → `@types/scope__name`). */
export function typesPackageOf(name: string): string {
  return `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
}

/**
 * What is wrong with the packages `imports` (from {@link declarationImports}) name, for `manifest`.
 * `shipsTypes(name)` tells whether an installed dependency has its own declarations.
 */
export function declarationProblems(
  manifest: Manifest,
  imports: Iterable<string>,
  shipsTypes: (name: string) => boolean,
): string[] {
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const problems = new Set<string>();
  for (const specifier of imports) {
    const name = packageOf(specifier);
    // Node.js' own modules (and `/// <reference types="node" />`): a Node.js library's users have @types/node.
    if (name === manifest.name || name.startsWith('node:') || BUILTINS.has(name)) continue;
    if (name === 'node' || name === '@types/node') continue;
    if (name.startsWith('@types/')) {
      if (!declared.has(name)) problems.add(`Its declarations reference ${name}, which is not in its dependencies.`);
      continue;
    }
    if (!declared.has(name)) {
      problems.add(`Its declarations import '${name}', which is not in its dependencies or peerDependencies.`);
    } else if (!shipsTypes(name) && !declared.has(typesPackageOf(name))) {
      problems.add(
        `Its declarations import '${name}', which has no types of its own: add ${typesPackageOf(name)} to its dependencies.`,
      );
    }
  }
  return [...problems];
}
