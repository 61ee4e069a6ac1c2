import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A fixture script in its own Node.js process, its stdout lines collected. */
export class Child {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  #killed = false;

  constructor(fixture: string, options: unknown) {
    const file = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
    this.process = spawn(process.execPath, [file, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      this.lines.push(...parts);
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
  }

  count(prefix: string): number {
    return this.lines.filter((line) => line.startsWith(prefix)).length;
  }

  /** The partitions it owns now, from its `acquired`, `lost` and `released` lines. */
  partitions(): number[] {
    const owned = new Set<number>();
    for (const line of this.lines) {
      const [word, p] = line.split(' ');
      if (word === 'acquired') owned.add(Number(p));
      if (word === 'lost' || word === 'released') owned.delete(Number(p));
    }
    return [...owned].sort((a, b) => a - b);
  }

  /** Throws, with its stderr, when it failed or was killed by something other than the test. */
  assertRunning(): void {
    if (this.#killed) return;
    const { exitCode, signalCode } = this.process;
    if ((exitCode !== null && exitCode !== 0) || signalCode !== null)
      throw new Error(`The child exited (${exitCode ?? signalCode}) unexpectedly:\n${this.stderr}`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#killed = true;
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
  }
}
