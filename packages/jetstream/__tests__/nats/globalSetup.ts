import { connect } from '@nats-io/transport-node';
import { natsServers } from '../helpers/nats.js';

/** Fails the run at once when no NATS server with JetStream answers (vitest calls the named `setup`). */
export async function setup(): Promise<void> {
  let connection;
  try {
    connection = await connect({ servers: natsServers(), timeout: 5000, reconnect: false });
  } catch (error) {
    throw new Error(
      `No NATS server at ${natsServers()} (set NATS_URL): the JetStream tests need one. ` +
        'Start it with: nats-server -js (see the README, "Working on it").',
      { cause: error },
    );
  }
  try {
    const info = connection.info;
    if (info?.jetstream !== true) throw new Error(`The NATS server at ${natsServers()} runs without JetStream (-js).`);
  } finally {
    await connection.close();
  }
}
