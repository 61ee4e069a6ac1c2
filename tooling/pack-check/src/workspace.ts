/**
 * The workspace as the check sees it: its publishable packages and the pnpm catalog.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A package.json, as far as the check reads it. */
export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly sideEffects?: boolean | readonly string[];
  readonly exports?: string | Record<string, unknown>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/** A workspace package that is published (not `"private": true`). */
export interface WorkspacePackage {
  readonly dir: string;
  readonly manifest: Manifest;
}

/** The `packages:` globs and the default catalog of a pnpm-workspace.yaml (the subset of YAML it uses). */
export function parseWorkspaceYaml(yaml: string): { globs: string[]; catalog: Map<string, string> } {
  const globs: string[] = [];
  const catalog = new Map<string, string>();
  let section = '';
  for (const raw of yaml.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^#.*$/, '');
    if (line.trim() === '') continue;
    const top = /^(\S[^:]*):\s*(.*)$/.exec(line);
    if (top !== null) {
      section = top[1]!;
      continue;
    }
    const item = /^\s+-\s+['"]?([^'"]+)['"]?\s*$/.exec(line);
    if (section === 'packages' && item !== null) globs.push(item[1]!);
    const entry = /^\s+['"]?([^'":]+)['"]?:\s*['"]?([^'"]+)['"]?\s*$/.exec(line);
    if (section === 'catalog' && entry !== null) catalog.set(entry[1]!, entry[2]!);
  }
  return { globs, catalog };
}

/** The publishable packages of the workspace at `root`, sorted by directory. */
export function publishablePackages(root: string): WorkspacePackage[] {
  const { globs } = parseWorkspaceYaml(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8'));
  const dirs: string[] = [];
  for (const glob of globs) {
    const match = /^([\w.-]+)\/\*$/.exec(glob);
    if (match === null) {
      if (!glob.includes('*')) dirs.push(glob);
      else throw new Error(`pack-check understands workspace globs of the form "dir/*", got "${glob}".`);
      continue;
    }
    const parent = join(root, match[1]!);
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true }))
      if (entry.isDirectory()) dirs.push(`${match[1]}/${entry.name}`);
  }
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest }))
    .filter(({ manifest }) => manifest.private !== true)
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The catalog of the workspace at `root`. */
export function readCatalog(root: string): Map<string, string> {
  return parseWorkspaceYaml(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')).catalog;
}
