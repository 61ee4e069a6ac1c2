import type { ScenarioFactory } from '../harness/Scenario.js';
import { processesScenario } from './processes.js';
import { queueScenario } from './queue.js';
import { threadsScenario } from './threads.js';

/** Every scenario, in the order a full run measures them (the most telling first). */
export const SCENARIOS: ReadonlyArray<{ readonly id: string; readonly create: ScenarioFactory }> = [
  { id: 'threads', create: threadsScenario },
  { id: 'processes', create: processesScenario },
  { id: 'queue', create: queueScenario },
];
