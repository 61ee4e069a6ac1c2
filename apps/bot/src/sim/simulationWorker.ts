/**
 * The entry of the thread that runs a {@link Simulation} for {@link SimulationThread} (built to
 * `dist/sim/simulationWorker.js`): the simulated Discord gets a thread of its own, as Discord is
 * another machine for a real bot, so the traffic generator, the gateway and the REST server do not
 * take the bot's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SimulationRequest, SimulationResponse } from './SimulationThread.js';
import type { SimulationOptions } from './Simulation.js';
import { BotConfigError } from '../errors/errors.js';
import { Simulation } from './Simulation.js';

const port = parentPort!;
const reply = (response: SimulationResponse): void => port.postMessage(response);

try {
  const simulation = await Simulation.start(workerData as SimulationOptions);
  port.on('message', (request: SimulationRequest) => {
    void (async () => {
      try {
        switch (request.op) {
          case 'begin':
            simulation.begin();
            reply({ id: request.id, ok: true });
            break;
          case 'stop': {
            const traffic = await simulation.stop();
            reply({
              id: request.id,
              ok: true,
              stopped: {
                sent: traffic?.sent ?? 0,
                elapsedMs: traffic?.elapsedMs ?? 0,
                bursts: simulation.bursts,
                interactions: simulation.interactions(),
              },
            });
            break;
          }
          case 'close': {
            const interactions = simulation.interactions();
            await simulation.close();
            reply({
              id: request.id,
              ok: true,
              stopped: { sent: 0, elapsedMs: 0, bursts: simulation.bursts, interactions },
            });
            port.close();
            break;
          }
        }
      } catch (error) {
        reply({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  reply({ id: 0, ok: true, started: { apiBase: simulation.sim.apiBase, token: simulation.sim.token } });
} catch (error) {
  reply({
    id: 0,
    ok: false,
    error: error instanceof Error ? error.message : String(error),
    ...(error instanceof BotConfigError ? { code: error.code } : {}),
  });
  port.close();
}
