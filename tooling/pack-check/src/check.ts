/**
 * The check: every publishable package, as a user installs it from the registry.
 *
 * 1. Packs each package with `pnpm pack` (so `workspace:` and `catalog:` are replaced as on publish)
 *    and checks the packed package.json's dependency ranges.
 * 2. Installs the tarballs with plain npm into a fresh `"type": "module"` project in a temporary
 *    directory (with nothing else but `@types/node`).
 * 3. Type-checks a consumer importing every export subpath under `module: nodenext` (an ESM file,
 *    and a `.cts` file that `require()`s them) and under `moduleResolution: bundler`, both with
 *    `skipLibCheck: false`.
 * 4. `require()`s and `import()`s every subpath (they must be the same module, and print nothing);
 *    programs (files listed in `sideEffects`, such as worker entries) are resolved, not loaded.
 * 5. Runs publint and attw on each tarball.
 * 6. Installs the packages the READMEs' install lines name, and runs every README example
 *    (see markdown.ts for the convention), comparing the output where the README shows it.
 * @module
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declarationImports, declarationProblems } from './declarations.js';
import { matchesOutput, normalizeOutput } from './expected.js';
import { examplesOf } from './markdown.js';
import type { Example } from './markdown.js';
import { dependencyProblems, exportEntries } from './manifest.js';
import type { ExportEntry } from './manifest.js';
import { cleanEnv, run } from './process.js';
import type { RunResult } from './process.js';
import { publishablePackages, readCatalog } from './workspace.js';
import type { Manifest, WorkspacePackage } from './workspace.js';

/** Options of {@link packCheck}. */
export interface PackCheckOptions {
  /** The workspace root (the directory of pnpm-workspace.yaml). */
  readonly root: string;
  /** Keep the temporary directory and print where it is. @default false */
  readonly keep?: boolean;
  /** Where progress goes. @default console.log */
  readonly log?: (line: string) => void;
}

/** A packed package, installed in the consumer project. */
interface Packed {
  readonly source: WorkspacePackage;
  readonly tarball: string;
  readonly manifest: Manifest;
  readonly entries: readonly ExportEntry[];
}

/** The path of a bin of a package installed next to this tool (its devDependencies). */
function binOf(pkg: string, bin?: string): string {
  const manifestPath = fileURLToPath(new URL(`../node_modules/${pkg}/package.json`, import.meta.url));
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: string | Record<string, string> };
  const path =
    typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin ?? Object.keys(manifest.bin ?? {})[0]!];
  if (path === undefined) throw new Error(`${pkg} has no bin ${bin ?? ''}`);
  return join(dirname(manifestPath), path);
}

const MINUTE = 60_000;

/** Runs the whole check; resolves with the number of failed checks. */
export async function packCheck(options: PackCheckOptions): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  const root = options.root;
  const started = performance.now();
  let passed = 0;
  let failed = 0;
  const pass = (what: string, result?: RunResult): void => {
    passed++;
    log(`✓ ${what}${result ? ` (${(result.ms / 1000).toFixed(1)} s)` : ''}`);
  };
  const fail = (what: string, details: string): void => {
    failed++;
    log(`✗ ${what}\n${indent(details.trimEnd())}`);
  };
  /** Runs a command as one check: passes when it exits 0. */
  const step = async (what: string, command: string, args: readonly string[], cwd: string, timeoutMs = 3 * MINUTE) => {
    const result = await run(command, args, { cwd, timeoutMs });
    if (result.code === 0) pass(what, result);
    else fail(what, `${describeExit(command, args, result)}\n${result.output}`);
    return result;
  };

  const packages = publishablePackages(root);
  const catalog = readCatalog(root);
  log(`pack-check: ${packages.length} publishable packages: ${packages.map((p) => p.manifest.name).join(', ')}`);

  const temp = mkdtempSync(join(tmpdir(), 'switchyard-pack-check-'));
  try {
    await checkAll(temp);
  } finally {
    if (options.keep) log(`kept ${temp}`);
    else rmSync(temp, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  log(
    failed === 0
      ? `pack-check: all ${passed} checks passed in ${seconds} s`
      : `pack-check: ${failed} of ${passed + failed} checks FAILED (${seconds} s)`,
  );
  return failed;

  async function checkAll(temp: string): Promise<void> {
    const build = await step('build', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], root);
    if (build.code !== 0) return;

    // 1. Pack.
    const tarballs = join(temp, 'tarballs');
    mkdirSync(tarballs);
    const packed: Packed[] = [];
    // One recursive `pnpm pack` for all of them (a pnpm start per package costs more than the packing).
    const filters = packages.flatMap((source) => ['--filter', `./${source.dir}`]);
    const packing = await step(
      `pack ${packages.length} packages`,
      'pnpm',
      ['--recursive', ...filters, 'pack', '--pack-destination', tarballs],
      root,
    );
    if (packing.code !== 0) return;
    for (const source of packages) {
      const tarball = join(
        tarballs,
        `${source.manifest.name.replace(/^@/, '').replace('/', '-')}-${source.manifest.version}.tgz`,
      );
      const manifestText = await run('tar', ['-xzOf', tarball, 'package/package.json'], {
        cwd: temp,
        timeoutMs: MINUTE,
      });
      if (manifestText.code !== 0) {
        fail(`read the packed package.json of ${source.manifest.name}`, manifestText.output);
        continue;
      }
      const manifest = JSON.parse(manifestText.output) as Manifest;
      const problems = dependencyProblems(manifest);
      if (problems.length === 0) pass(`dependency ranges of ${manifest.name}`);
      else fail(`dependency ranges of ${manifest.name}`, problems.join('\n'));
      packed.push({ source, tarball, manifest, entries: exportEntries(manifest) });
    }
    if (packed.length === 0) return;

    // 2. Install with plain npm, nothing else but @types/node.
    const project = join(temp, 'project');
    mkdirSync(project);
    writeJson(join(project, 'package.json'), { name: 'pack-check-consumer', private: true, type: 'module' });
    const npm = ['--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=warn'];
    const typesNode = `@types/node@${catalog.get('@types/node') ?? '*'}`;
    const install = await step(
      `npm install ${packed.length} tarballs`,
      'npm',
      ['install', ...npm, ...packed.map((p) => p.tarball), typesNode],
      project,
    );
    if (install.code !== 0) return;

    // Each package's declarations import only what its users get with it.
    for (const pkg of packed) {
      const dir = join(project, 'node_modules', pkg.manifest.name);
      const imports = declarationFiles(dir).flatMap((file) => declarationImports(readFileSync(file, 'utf8')));
      const problems = declarationProblems(pkg.manifest, imports, (dep) => shipsTypes(project, dir, dep));
      if (problems.length === 0) pass(`types of the imports in ${pkg.manifest.name}'s declarations`);
      else fail(`types of the imports in ${pkg.manifest.name}'s declarations`, problems.join('\n'));
    }

    // 3. Type-check a consumer.
    const consumer = join(project, 'consumer');
    mkdirSync(consumer);
    const specifiers = packed.flatMap((p) => p.entries.map((entry) => entry.specifier));
    writeFileSync(
      join(consumer, 'esm.ts'),
      specifiers.map((s, i) => `import * as m${i} from '${s}';\nexport type M${i} = typeof m${i};\n`).join(''),
    );
    writeFileSync(
      join(consumer, 'cjs.cts'),
      specifiers.map((s, i) => `import m${i} = require('${s}');\nexport type M${i} = typeof m${i};\n`).join(''),
    );
    const strict = { strict: true, skipLibCheck: false, noEmit: true, target: 'es2022', types: ['node'] };
    writeJson(join(project, 'tsconfig.nodenext.json'), {
      compilerOptions: { ...strict, module: 'nodenext', moduleResolution: 'nodenext' },
      files: ['consumer/esm.ts', 'consumer/cjs.cts'],
    });
    writeJson(join(project, 'tsconfig.bundler.json'), {
      compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler' },
      files: ['consumer/esm.ts'],
    });
    const tsc = binOf('typescript', 'tsc');
    // Steps 3, 4 and 5 are independent: they run side by side.
    const typeChecks = Promise.all([
      step(
        'type-check a consumer (module nodenext, ESM and CJS)',
        process.execPath,
        [tsc, '-p', 'tsconfig.nodenext.json'],
        project,
      ),
      step(
        'type-check a consumer (moduleResolution bundler)',
        process.execPath,
        [tsc, '-p', 'tsconfig.bundler.json'],
        project,
      ),
    ]);

    // 4. require() and import() every subpath.
    const entries = packed.flatMap((p) => p.entries);
    writeFileSync(join(consumer, 'load.cjs'), loadScript(entries));
    writeFileSync(
      join(consumer, 'resolve.mjs'),
      'export const resolved = (specifier) => import.meta.resolve(specifier);\n',
    );
    const loaded = run(process.execPath, ['consumer/load.cjs'], { cwd: project, timeoutMs: MINUTE }).then((load) => {
      if (load.code === 0 && load.output === '')
        pass(
          `require() and import() ${entries.filter((e) => !e.program).length} subpaths, resolve ${entries.filter((e) => e.program).length} programs`,
          load,
        );
      else
        fail(
          'require() and import() every subpath (silently)',
          `${describeExit('node', ['consumer/load.cjs'], load)}\n${load.output}`,
        );
    });

    // 5. publint and attw, one at a time next to the type-checks.
    const publint = binOf('publint');
    const attw = binOf('@arethetypeswrong/cli', 'attw');
    const linted = inParallel(
      1,
      packed.flatMap((p) => [
        () => step(`publint ${p.manifest.name}`, process.execPath, [publint, 'run', p.tarball, '--strict'], temp),
        // The packages are ESM only. `esm-only` is attw's default profile less two resolution modes:
        // node16 from CJS (require() of ESM, which Node >= 20.19 — the engines floor — does, and
        // TypeScript >= 5.8 accepts under module nodenext: step 3 type-checks it and step 4 runs it)
        // and node10 (predates `exports`, so it cannot see subpaths).
        () =>
          step(
            `attw ${p.manifest.name}`,
            process.execPath,
            [attw, p.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-emoji', '--no-color'],
            temp,
          ),
      ]),
    );

    await Promise.all([typeChecks, loaded, linted]);

    // 6. README examples.
    await readmeExamples({ project, packed, catalog, npm, step, pass, fail, log, tsc });
  }
}

interface ExampleContext {
  readonly project: string;
  readonly packed: readonly Packed[];
  readonly catalog: ReadonlyMap<string, string>;
  readonly npm: readonly string[];
  readonly step: (
    what: string,
    command: string,
    args: readonly string[],
    cwd: string,
    timeoutMs?: number,
  ) => Promise<RunResult>;
  readonly pass: (what: string, result?: RunResult) => void;
  readonly fail: (what: string, details: string) => void;
  readonly log: (line: string) => void;
  readonly tsc: string;
}

async function readmeExamples(context: ExampleContext): Promise<void> {
  const { project, packed, catalog, step, pass, fail, tsc } = context;
  const readmes: { pkg: Packed; dir: string; examples: readonly Example[] }[] = [];
  const extras = new Set<string>();
  const switchyard = new Set(packed.map((p) => p.manifest.name));
  for (const pkg of packed) {
    const name = pkg.manifest.name;
    let markdown: string;
    try {
      markdown = readFileSync(join(project, 'node_modules', name, 'README.md'), 'utf8');
    } catch {
      fail(`README of ${name}`, 'The packed package has no README.md.');
      continue;
    }
    const { examples, problems, installs } = examplesOf(markdown);
    const readmeProblems = problems.map((p) => `README.md:${p.line}: ${p.message}`);
    const typescript = examples.some((e) => e.run && /\.[cm]?ts$/.test(e.file));
    if (typescript && !markdown.includes('npx tsx'))
      readmeProblems.push(
        'README.md: it has TypeScript examples but does not say how to run them (`npx tsx file.ts`).',
      );
    for (const install of installs) {
      if (switchyard.has(install)) continue;
      if (install.startsWith('@switchyard/'))
        readmeProblems.push(`README.md: it installs ${install}, which is not a publishable package.`);
      else if (!catalog.has(install))
        readmeProblems.push(
          `README.md: it installs ${install}, which is not in the pnpm catalog (its version comes from there).`,
        );
      else extras.add(`${install}@${catalog.get(install)}`);
    }
    if (readmeProblems.length > 0) fail(`README conventions of ${name}`, readmeProblems.join('\n'));
    else pass(`README conventions of ${name} (${examples.filter((e) => e.run).length} examples to run)`);
    const dir = join(project, 'examples', basename(pkg.source.dir));
    for (const example of examples) {
      mkdirSync(dirname(join(dir, example.file)), { recursive: true });
      writeFileSync(join(dir, example.file), `${example.code}\n`);
    }
    readmes.push({ pkg, dir, examples });
  }
  if (readmes.every((r) => r.examples.length === 0)) return;

  // What the examples need besides the packages, at the catalog's versions.
  if (extras.size > 0) {
    const install = await step(
      `npm install ${[...extras].join(' ')} (named by README install lines)`,
      'npm',
      ['install', ...context.npm, ...extras],
      project,
    );
    if (install.code !== 0) return;
  }

  // Type-check the TypeScript examples as a strict nodenext project would, while they run.
  let typeCheck: Promise<unknown> = Promise.resolve();
  const typescriptFiles = readmes.flatMap((r) =>
    r.examples.filter((e) => /\.[cm]?ts$/.test(e.file)).map((e) => join(r.dir, e.file)),
  );
  if (typescriptFiles.length > 0) {
    writeJson(join(project, 'tsconfig.examples.json'), {
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'es2022',
        lib: ['es2023', 'esnext.disposable'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: ['node'],
      },
      files: typescriptFiles,
    });
    typeCheck = step(
      `type-check ${typescriptFiles.length} TypeScript README examples`,
      process.execPath,
      [tsc, '-p', 'tsconfig.examples.json'],
      project,
    );
  }

  const tsx = binOf('tsx');
  for (const { pkg, dir, examples } of readmes) {
    for (const example of examples.filter((e) => e.run)) {
      const what = `${pkg.manifest.name} README.md:${example.line} (${example.file})`;
      const command = /\.[cm]?ts$/.test(example.file)
        ? [process.execPath, tsx, example.file]
        : [process.execPath, example.file];
      const result = await run(command[0]!, command.slice(1), { cwd: dir, env: cleanEnv(), timeoutMs: 2 * MINUTE });
      if (result.code !== 0) {
        fail(what, `${describeExit(basename(command.at(-1)!), [], result)}\n${result.output}`);
      } else if (example.expected !== undefined && !matchesOutput(result.output, example.expected.text)) {
        fail(
          what,
          `The output differs from the README's Output block (line ${example.expected.line}).\n--- README\n${normalizeOutput(example.expected.text)}\n--- printed\n${normalizeOutput(result.output)}`,
        );
      } else {
        pass(`${what}${example.expected ? ', output as shown' : ''}`, result);
      }
    }
  }
  await typeCheck;
}

/** Every `.d.ts` / `.d.mts` / `.d.cts` file of an installed package (its own, not its node_modules). */
function declarationFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && /\.d\.[cm]?ts$/.test(entry.name) && !path.slice(dir.length).includes('/node_modules/'))
      files.push(path);
  }
  return files;
}

/** Whether the dependency `name`, as installed for the package in `dir`, has its own declarations. */
function shipsTypes(project: string, dir: string, name: string): boolean {
  for (const candidate of [join(dir, 'node_modules', name), join(project, 'node_modules', name)]) {
    if (!existsSync(join(candidate, 'package.json'))) continue;
    const manifest = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as Record<string, unknown>;
    return (
      typeof manifest['types'] === 'string' ||
      typeof manifest['typings'] === 'string' ||
      JSON.stringify(manifest['exports'] ?? {}).includes('"types"') ||
      existsSync(join(candidate, 'index.d.ts'))
    );
  }
  return false;
}

/** A CommonJS script that require()s and import()s every entry, or resolves programs both ways. */
function loadScript(entries: readonly ExportEntry[]): string {
  return `'use strict';
const entries = ${JSON.stringify(entries.map(({ specifier, program }) => ({ specifier, program })))};
(async () => {
  let failures = 0;
  for (const { specifier, program } of entries) {
    try {
      if (program) {
        require.resolve(specifier);
        const { resolved } = await import('./resolve.mjs');
        resolved(specifier);
        continue;
      }
      const required = require(specifier);
      const imported = await import(specifier);
      if (required !== imported) throw new Error('require() and import() returned different module objects');
      if (Object.keys(imported).length === 0) throw new Error('the module exports nothing');
    } catch (error) {
      failures++;
      console.log(specifier + ': ' + (error && error.stack || error));
    }
  }
  process.exitCode = failures === 0 ? 0 : 1;
})();
`;
}

function describeExit(command: string, args: readonly string[], result: RunResult): string {
  const line = [command, ...args].join(' ');
  if (result.timedOut) return `\`${line}\` did not finish in time (killed).`;
  if (result.signal !== null) return `\`${line}\` was killed by ${result.signal}.`;
  return `\`${line}\` exited with ${result.code}.`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

async function inParallel(limit: number, tasks: readonly (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}
