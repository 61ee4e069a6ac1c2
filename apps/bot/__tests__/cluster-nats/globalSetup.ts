import { connect } from '@nats-io/transport-node';

/** Fails the run at once when no NATS server with JetStream answers: a missing server is a failure, not a skip. */
export async function setup(): Promise<void> {
  const servers = process.env.NATS_URL ?? '127.0.0.1:4222';
  let connection;
  try {
    connection = await connect({ servers, timeout: 5000, reconnect: false });
  } catch (error) {
    throw new Error(`No NATS server at ${servers} (set NATS_URL): the split bot's tests need one.`, { cause: error });
  }
  try {
    if (connection.info?.jetstream !== true)
      throw new Error(`The NATS server at ${servers} runs without JetStream (-js).`);
  } finally {
    await connection.close();
  }
}
