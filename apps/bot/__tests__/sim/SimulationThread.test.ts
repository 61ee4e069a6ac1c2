import { describe, expect, it } from 'vitest';
import { SimulationThread } from '../../src/index.js';

describe('SimulationThread', () => {
  it('runs the simulated Discord in a thread, and counts the slash commands nobody answered', async () => {
    const simulation = await SimulationThread.start({ guilds: 1, eventsPerSecond: 50 });
    expect(simulation.apiBase).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(simulation.token).toEqual(expect.any(String));
    const discovery = await fetch(`${simulation.apiBase}/v10/gateway`);
    expect(discovery.status).toBe(200);
    await simulation.begin();
    const stopped = await simulation.stop();
    const closed = await simulation.close();
    // No bot is connected: the guild's 2 /config add-word and 1 /template add, and one /stats per
    // flood, all unanswered.
    expect(closed.interactions).toEqual({ sent: 3 + closed.bursts, unanswered: 3 + closed.bursts });
    expect(stopped.interactions.sent).toBe(3 + stopped.bursts);
    // Closing twice answers the same.
    expect(await simulation.close()).toBe(closed);
    await expect(fetch(`${simulation.apiBase}/v10/gateway`)).rejects.toThrow();
  });

  it('rejects a bad option with ERR_BOT_CONFIG, as Simulation.start does', async () => {
    await expect(SimulationThread.start({ guilds: 0 })).rejects.toMatchObject({
      code: 'ERR_BOT_CONFIG',
      name: 'BotConfigError',
    });
  });
});
