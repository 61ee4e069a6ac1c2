/**
 * The bot's program: `node dist/main.js [--duration <s>]` (what `pnpm start` runs). Connects to
 * Discord with DISCORD_TOKEN, or to an embedded simulator without it; runs until SIGINT/SIGTERM
 * (or the duration) and exits 0 after a graceful shutdown. See README.md.
 */
import { parseRunConfig, scrubSecrets, USAGE } from './bot/config.js';
import { CLUSTER_USAGE, parseClusterArgs } from './cluster/clusterConfig.js';
import { BotConfigError } from './errors/errors.js';

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}

const controller = new AbortController();
const onSignal = (name: NodeJS.Signals): void => {
  if (controller.signal.aborted) {
    process.stderr.write(`${name} again: exiting at once\n`);
    process.exit(130);
  }
  controller.abort(new Error(`received ${name}`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  // --events jetstream://… splits the bot over processes (src/cluster); without it, nothing changes.
  const { cluster, rest } = parseClusterArgs(process.argv.slice(2), process.env);
  const config = parseRunConfig(rest, process.env);
  // The token and the database credentials stay in this thread: the workers never see them.
  scrubSecrets(process.env);
  if (config.help) process.stdout.write(USAGE + CLUSTER_USAGE);
  else if (cluster !== undefined) {
    const { runClusterRole } = await import('./cluster/runCluster.js');
    await runClusterRole(config, cluster, { signal: controller.signal });
  } else {
    // Loaded only now: --help and a bad option answer without loading discord.js or PGlite.
    const { runBot } = await import('./bot/run.js');
    await runBot(config, { signal: controller.signal });
  }
} catch (error) {
  if (error instanceof BotConfigError) {
    // The operator's mistake, not the program's: the message names the flag or variable; no stack.
    process.exitCode = 2;
    process.stderr.write(`switchyard-bot: configuration error (${error.code}):\n${indent(error.message)}\n`);
  } else {
    process.exitCode = 1;
    process.stderr.write(
      `switchyard-bot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
} finally {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
