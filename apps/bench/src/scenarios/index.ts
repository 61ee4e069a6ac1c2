import type { ScenarioFactory } from '../harness/Scenario.js';
import { botScenario } from './bot.js';
import { broadcastScenario } from './broadcast.js';
import { jetstreamScenario } from './jetstream.js';
import { latencyScenario } from './latency.js';
import { mpscScenario } from './mpsc.js';
import { noisyScenario } from './noisy.js';
import { processesScenario } from './processes.js';
import { queueScenario } from './queue.js';
import { scalingScenario } from './scaling.js';
import { tenantsScenario } from './tenants.js';
import { threadsScenario } from './threads.js';

/** Every scenario, in the order a full run measures them (the most telling first). */
export const SCENARIOS: ReadonlyArray<{ readonly id: string; readonly create: ScenarioFactory }> = [
  { id: 'threads', create: threadsScenario },
  { id: 'processes', create: processesScenario },
  { id: 'latency', create: latencyScenario },
  { id: 'tenants', create: tenantsScenario },
  { id: 'queue', create: queueScenario },
  { id: 'mpsc', create: mpscScenario },
  { id: 'scaling', create: scalingScenario },
  { id: 'bot', create: botScenario },
  { id: 'noisy', create: noisyScenario },
  { id: 'broadcast', create: broadcastScenario },
  { id: 'jetstream', create: jetstreamScenario },
];
