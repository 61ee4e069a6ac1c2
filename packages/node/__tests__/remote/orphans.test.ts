import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { alive, ended } from '../helpers/processes.js';

describe('process nodes and their parent', () => {
  it('ends the node process when its parent dies without closing it', async () => {
    // The parent prints its node's pid, then idles; the node process inherits the parent's stdout,
    // so the pipe closes only once both the parent and the node process have exited.
    const parent = spawn(
      process.execPath,
      [new URL('../fixtures/parent-of-process-node.mjs', import.meta.url).pathname],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: parent.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const { pid } = JSON.parse(line) as { pid: number };
    expect(alive(pid)).toBe(true);
    const stdoutClosed = once(parent.stdout, 'close');
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    await stdoutClosed;
    expect(await ended(pid)).toBe(true);
  });
});
