import type { ScenarioFactory } from '../harness/Scenario.js';
import { queueScenario } from './queue.js';

/** Every scenario, in the order a full run measures them (the most telling first). */
export const SCENARIOS: ReadonlyArray<{ readonly id: string; readonly create: ScenarioFactory }> = [
  { id: 'queue', create: queueScenario },
];
