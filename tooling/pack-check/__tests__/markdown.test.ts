import { describe, expect, it } from 'vitest';
import { codeBlocks, examplesOf, installedPackages, namedFile } from '../src/markdown.js';

const fence = '```';

describe('codeBlocks', () => {
  it('reads backtick and tilde fences with their language, flags and lines', () => {
    const blocks = codeBlocks(`# Title\n\n${fence}ts no-run\nconst a = 1;\n${fence}\n\ntext\n~~~~js\nx\n~~~~\n`);
    expect(blocks.map(({ lang, flags, code, line, endLine }) => ({ lang, flags, code, line, endLine }))).toEqual([
      { lang: 'ts', flags: ['no-run'], code: 'const a = 1;', line: 3, endLine: 5 },
      { lang: 'js', flags: [], code: 'x', line: 8, endLine: 10 },
    ]);
  });

  it('closes a fence only with a fence of the same kind at least as long', () => {
    const [block] = codeBlocks(`${fence}${fence}md\n${fence}js\ninner\n${fence}\n${fence}${fence}\n`);
    expect(block).toMatchObject({ lang: 'md', code: `${fence}js\ninner\n${fence}` });
  });

  it('removes the indentation of a fence inside a list item', () => {
    const [block] = codeBlocks(`- item\n\n  ${fence}js\n  if (x) {\n    y();\n  }\n  ${fence}\n`);
    expect(block!.code).toBe('if (x) {\n  y();\n}');
  });

  it('keeps the text before each block', () => {
    const blocks = codeBlocks(`intro\n${fence}js\na\n${fence}\nOutput:\n${fence}text\nb\n${fence}`);
    expect(blocks.map((b) => b.before)).toEqual(['intro', 'Output:']);
  });
});

describe('namedFile', () => {
  it('takes the file a first-line comment names', () => {
    expect(namedFile('// producer.js\nimport x;')).toBe('producer.js');
    expect(namedFile('// examples/main.mjs: a node module')).toBe('examples/main.mjs');
    expect(namedFile('// counter.js — the definition')).toBe('counter.js');
    expect(namedFile('// ./worker.ts')).toBe('worker.ts');
  });

  it('ignores other comments', () => {
    expect(namedFile('// Tasks run one at a time.')).toBeUndefined();
    expect(namedFile('const a = 1; // a.js')).toBeUndefined();
  });
});

describe('installedPackages', () => {
  it('reads npm, pnpm and yarn install lines, without flags and versions', () => {
    expect(installedPackages('npm install --save-dev @switchyard/discord-sim discord.js@14')).toEqual([
      '@switchyard/discord-sim',
      'discord.js',
    ]);
    expect(installedPackages('pnpm add @switchyard/pool-process @switchyard/core@^0.1.0')).toEqual([
      '@switchyard/pool-process',
      '@switchyard/core',
    ]);
    expect(installedPackages('npm i -D tsx && npm test')).toEqual(['tsx']);
    expect(installedPackages('pnpm --filter x start')).toEqual([]);
  });
});

describe('examplesOf', () => {
  it('numbers unnamed programs, names named ones and attaches Output blocks', () => {
    const readme = [
      `${fence}sh`,
      'npm install @switchyard/core discord.js',
      fence,
      `${fence}ts`,
      'console.log(1);',
      fence,
      '',
      'Output:',
      '',
      `${fence}text`,
      '1',
      fence,
      `${fence}js no-run`,
      '// worker.js',
      'export {};',
      fence,
      `${fence}ts fragment`,
      'pool.more();',
      fence,
      `${fence}mjs`,
      'console.log(2);',
      fence,
      'Some words.',
      '',
      'Output (the pid',
      'varies):',
      `${fence}text`,
      'pid …',
      fence,
    ].join('\n');
    const { examples, problems, installs } = examplesOf(readme);
    expect(problems).toEqual([]);
    expect(installs).toEqual(['@switchyard/core', 'discord.js']);
    expect(examples).toEqual([
      { file: 'example-1.ts', code: 'console.log(1);', line: 4, run: true, expected: { text: '1', line: 10 } },
      { file: 'worker.js', code: '// worker.js\nexport {};', line: 13, run: false },
      { file: 'example-2.mjs', code: 'console.log(2);', line: 20, run: true, expected: { text: 'pid …', line: 27 } },
    ]);
  });

  it('leaves text blocks without an Output paragraph alone', () => {
    const { examples, problems } = examplesOf(`${fence}js\nx();\n${fence}\n\n${fence}text\nnot output\n${fence}\n`);
    expect(problems).toEqual([]);
    expect(examples).toHaveLength(1);
    expect(examples[0]!.expected).toBeUndefined();
  });

  it('reports an Output block after a block that does not run', () => {
    const { problems } = examplesOf(`${fence}js no-run\nx();\n${fence}\nOutput:\n${fence}text\n1\n${fence}\n`);
    expect(problems).toEqual([{ line: 5, message: 'An `Output:` block follows a block that does not run.' }]);
  });

  it('reports an Output block after a block that is not a program', () => {
    const { problems } = examplesOf(`${fence}sh\nls\n${fence}\nOutput:\n${fence}text\n1\n${fence}\n`);
    expect(problems).toEqual([{ line: 5, message: 'An `Output:` block must follow a program block that runs.' }]);
  });

  it('reports an Output block that is not tagged text', () => {
    const { problems } = examplesOf(`${fence}js\nx();\n${fence}\nOutput:\n${fence}json\n{}\n${fence}\n`);
    expect(problems).toEqual([{ line: 5, message: 'An `Output:` block is tagged `text`, not `json`.' }]);
  });

  it('reports unknown flags and two blocks written to one file', () => {
    const { problems } = examplesOf(
      `${fence}js norun\nx();\n${fence}\n${fence}js\n// a.js\n${fence}\n${fence}js\n// a.js\n${fence}\n`,
    );
    expect(problems).toEqual([
      { line: 1, message: 'Unknown flag(s) `norun` (known: `no-run`, `fragment`).' },
      { line: 7, message: 'Two blocks are written to `a.js`.' },
    ]);
  });
});
