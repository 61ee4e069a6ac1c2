/**
 * Reads a README's fenced code blocks and turns them into the examples the check runs.
 *
 * The convention (documented in the root README, "Working on it"):
 * - A block tagged `js`, `javascript`, `mjs`, `cjs`, `ts`, `typescript`, `mts` or `cts` is a
 *   complete program. It is written to a file and run: JavaScript with `node`, TypeScript with
 *   `tsx` (and type-checked).
 * - Its file is `example-<n>.<ext>` unless its first line is a comment naming one
 *   (`// producer.js` or `// examples/main.mjs: what it is`); other blocks import it by that name.
 * - Flags after the language: `no-run` (the file is written, for other blocks to use, but not run
 *   by itself) and `fragment` (an excerpt: neither written nor run).
 * - A paragraph `Output:` (or `Output (…):`) right after a run block, then a `text` block: what the
 *   program prints (stdout and stderr together), compared line by line; `…` stands for any text in
 *   a line, a line of its own `…` for any number of lines.
 * @module
 */

/** A fenced code block. */
export interface CodeBlock {
  /** The first word of the info string, lower-cased (`''` when there is none). */
  readonly lang: string;
  /** The other words of the info string. */
  readonly flags: readonly string[];
  /** The block's text, without the fences, ending without a line break. */
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** 1-based line of the closing fence (the last line for an unclosed block). */
  readonly endLine: number;
  /** The text between the previous block (or the start) and this block's opening fence. */
  readonly before: string;
}

/** An example taken from a README: one file, run or not. */
export interface Example {
  /** The file name, relative to the README's example directory. */
  readonly file: string;
  readonly code: string;
  /** 1-based line of the block's opening fence in the README. */
  readonly line: number;
  /** `false` for `no-run` blocks: written for other examples, not run by themselves. */
  readonly run: boolean;
  /** What the program prints, when the README shows it. */
  readonly expected?: { readonly text: string; readonly line: number };
}

/** Something in a README that breaks the convention. */
export interface ReadmeProblem {
  readonly line: number;
  readonly message: string;
}

/** What {@link examplesOf} found. */
export interface ReadmeExamples {
  readonly examples: readonly Example[];
  readonly problems: readonly ReadmeProblem[];
  /** Packages named by `npm install` / `pnpm add` / `yarn add` lines in `sh` blocks. */
  readonly installs: readonly string[];
}

/** The languages whose blocks are programs, and the extension of their unnamed files. */
export const PROGRAM_LANGUAGES: Readonly<Record<string, string>> = {
  js: '.js',
  javascript: '.js',
  mjs: '.mjs',
  cjs: '.cjs',
  ts: '.ts',
  typescript: '.ts',
  mts: '.mts',
  cts: '.cts',
};

const FLAGS = new Set(['no-run', 'fragment']);
const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const OUTPUT_LANGUAGES = new Set(['text', '']);
const FILE_COMMENT = /^\/\/\s*((?:\.\/)?[\w@][\w@.\-/]*\.(?:[cm]?[jt]s))(?=$|[\s:,;—–(])/;
const OUTPUT_PARAGRAPH = /^Output\b[\s\S]*:$/;

/** Every fenced code block of `markdown` (backtick or tilde fences, CommonMark's closing rule). */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  let before: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (open === null || (open[2]![0] === '`' && open[3]!.includes('`'))) {
      before.push(lines[i]!);
      continue;
    }
    const indent = open[1]!.length;
    const fence = open[2]!;
    const [lang = '', ...flags] = open[3]!.trim().split(/\s+/).filter(Boolean);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close !== null && close[1]![0] === fence[0] && close[1]!.length >= fence.length) break;
      body.push(lines[j]!.replace(new RegExp(`^ {0,${indent}}`), ''));
    }
    blocks.push({
      lang: lang.toLowerCase(),
      flags,
      code: body.join('\n'),
      line: i + 1,
      endLine: Math.min(j + 1, lines.length),
      before: before.join('\n'),
    });
    before = [];
    i = j;
  }
  return blocks;
}

/** The file a program block names in its first line (`// producer.js …`), if any. */
export function namedFile(code: string): string | undefined {
  const first = code.split('\n', 1)[0] ?? '';
  return FILE_COMMENT.exec(first.trim())?.[1]?.replace(/^\.\//, '');
}

/** The packages an install command line names (`npm install -D a b@1`, `pnpm add a`, `yarn add a`). */
export function installedPackages(line: string): string[] {
  const words = line.trim().split(/\s+/);
  const names: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const tool = words[i];
    const verb = words[i + 1];
    const isInstall =
      (tool === 'npm' && (verb === 'install' || verb === 'i' || verb === 'add')) ||
      ((tool === 'pnpm' || tool === 'yarn') && verb === 'add');
    if (!isInstall) continue;
    for (let j = i + 2; j < words.length; j++) {
      const word = words[j]!;
      if (word === '&&' || word === ';' || word === '|' || word.startsWith('#')) break;
      if (word.startsWith('-')) continue;
      // Drop a version or tag (`ws@8`, `@scope/name@^1`), keep the name.
      names.push(word.replace(/(?<=.)@[^/]*$/, ''));
    }
  }
  return names;
}

/** The examples of a README, the problems with its blocks, and the packages it tells users to install. */
export function examplesOf(markdown: string): ReadmeExamples {
  const blocks = codeBlocks(markdown);
  const examples: Example[] = [];
  const problems: ReadmeProblem[] = [];
  const installs = new Set<string>();
  const files = new Set<string>();
  let unnamed = 0;
  const consumed = new Set<number>();

  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b]!;
    if (consumed.has(b)) continue;
    const next = blocks[b + 1];
    const followedByOutput = next !== undefined && OUTPUT_PARAGRAPH.test(paragraph(next.before));
    if (SHELL_LANGUAGES.has(block.lang)) {
      for (const line of block.code.split('\n')) for (const name of installedPackages(line)) installs.add(name);
    }
    const extension = PROGRAM_LANGUAGES[block.lang];
    if (extension === undefined) {
      if (block.flags.length > 0 && block.flags.some((flag) => FLAGS.has(flag)))
        problems.push({ line: block.line, message: `\`${block.flags.join(' ')}\` only applies to program blocks.` });
      if (followedByOutput)
        problems.push({ line: next.line, message: 'An `Output:` block must follow a program block that runs.' });
      continue;
    }
    const unknown = block.flags.filter((flag) => !FLAGS.has(flag));
    if (unknown.length > 0) {
      problems.push({
        line: block.line,
        message: `Unknown flag(s) ${unknown.map((f) => `\`${f}\``).join(', ')} (known: \`no-run\`, \`fragment\`).`,
      });
      continue;
    }
    const fragment = block.flags.includes('fragment');
    const run = !fragment && !block.flags.includes('no-run');
    let expected: Example['expected'];
    if (followedByOutput) {
      consumed.add(b + 1);
      if (!run) {
        problems.push({ line: next.line, message: 'An `Output:` block follows a block that does not run.' });
      } else if (!OUTPUT_LANGUAGES.has(next.lang)) {
        problems.push({ line: next.line, message: `An \`Output:\` block is tagged \`text\`, not \`${next.lang}\`.` });
      } else {
        expected = { text: next.code, line: next.line };
      }
    }
    if (fragment) continue;
    const file = namedFile(block.code) ?? `example-${++unnamed}${extension}`;
    if (files.has(file)) {
      problems.push({ line: block.line, message: `Two blocks are written to \`${file}\`.` });
      continue;
    }
    files.add(file);
    examples.push({ file, code: block.code, line: block.line, run, ...(expected && { expected }) });
  }
  return { examples, problems, installs: [...installs] };
}

/** The last paragraph of `text` (the lines after its last blank line), trimmed. */
function paragraph(text: string): string {
  const lines = text.trimEnd().split('\n');
  const start = lines.findLastIndex((line) => line.trim() === '') + 1;
  return lines.slice(start).join('\n').trim();
}
