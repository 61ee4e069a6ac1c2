/**
 * Records the demo's board as text frames: runs `runDemo` against a fake 80x24 TTY, replays what
 * log-update wrote on a tiny terminal emulator, and prints some of the frames. This is how the
 * recording in the README was made: `pnpm tsx examples/record.ts`.
 */
import { FakeTty, framesOf } from '../__tests__/helpers.js';
import { runDemo } from './demo.js';

const output = new FakeTty();
await runDemo({ output, throttleMs: 100, rateWindowMs: 1_000 }, { files: 12 });
const frames = framesOf(output);
const every = Math.max(1, Math.floor(frames.length / 6));
const picked = frames.filter((_, i) => i % every === 0 || i === frames.length - 1);
for (const [i, frame] of picked.entries()) {
  process.stdout.write(
    `${i === picked.length - 1 ? '-- final frame' : `-- frame ${frames.indexOf(frame) + 1} of ${frames.length}`}\n${frame.join('\n')}\n`,
  );
}
