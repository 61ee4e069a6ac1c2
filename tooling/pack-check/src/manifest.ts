/**
 * Checks on a packed package.json: dependency ranges, and the subpaths its `exports` offer.
 * @module
 */
import type { Manifest } from './workspace.js';

/** One subpath of a package's `exports`. */
export interface ExportEntry {
  /** What a user imports: `@scope/name` or `@scope/name/sub`. */
  readonly specifier: string;
  /** The file the `default` / `import` condition points at (`./dist/x.js`), if any. */
  readonly target: string | undefined;
  /**
   * `true` for a program: a file the package lists in `sideEffects` (a worker entry that runs
   * when it is loaded). The check resolves programs but does not load them.
   */
  readonly program: boolean;
}

const EXACT_VERSION = /^=?v?\d+\.\d+\.\d+(?:[-+][\w.-]+)?$/;

/**
 * What is wrong with the dependency ranges of a packed manifest: `workspace:` or `catalog:`
 * protocols left in, and runtime dependencies pinned to one exact version (a user's tree could
 * neither dedupe them nor take fixes).
 */
export function dependencyProblems(manifest: Manifest): string[] {
  const problems: string[] = [];
  const fields = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const;
  for (const field of fields) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog|link|file):/.test(range)) {
        problems.push(`${field}.${name} is "${range}" in the packed package.json.`);
      } else if (field !== 'devDependencies' && EXACT_VERSION.test(range.trim())) {
        problems.push(
          `${field}.${name} is pinned to "${range}": use a caret range (in the pnpm catalog, "${name}: ^${range.replace(/^=?v?/, '')}").`,
        );
      }
    }
  }
  return problems;
}

/** The file a conditional export resolves to under `default` / `import` / `node` (no `require`-only files). */
function targetOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const conditions = value as Record<string, unknown>;
  for (const key of ['node', 'import', 'default']) if (key in conditions) return targetOf(conditions[key]);
  return undefined;
}

/** The subpaths a package exports (patterns and `./package.json` left out), and whether each is a program. */
export function exportEntries(manifest: Manifest): ExportEntry[] {
  const exports = manifest.exports;
  if (exports === undefined) return [{ specifier: manifest.name, target: undefined, program: false }];
  const map: Record<string, unknown> =
    typeof exports === 'string' || !Object.keys(exports).some((key) => key.startsWith('.'))
      ? { '.': exports }
      : exports;
  const programs = new Set(
    (Array.isArray(manifest.sideEffects) ? manifest.sideEffects : []).map((file) => file.replace(/^\.\//, '')),
  );
  return Object.entries(map)
    .filter(([subpath]) => !subpath.includes('*') && !subpath.endsWith('.json'))
    .map(([subpath, value]) => {
      const target = targetOf(value);
      return {
        specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.replace(/^\.\//, '')}`,
        target,
        program: target !== undefined && programs.has(target.replace(/^\.\//, '')),
      };
    });
}
