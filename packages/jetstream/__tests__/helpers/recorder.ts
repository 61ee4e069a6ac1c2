import type { TenantId } from '@switchyard/core';
import { defineWorker, LocalWorker, tenantKey } from '@switchyard/core';

/** A test event: guild-local sequence `n`; `fail` makes the handler throw (a poison event). */
export interface TestEvent {
  n: number;
  fail?: boolean;
}

/**
 * Effects applied by event id, as the bot's audit rows are: the first application counts, a
 * second one is a duplicate. Records per tenant the order in which events were first applied.
 */
export class EffectRecorder {
  readonly applied = new Map<string, number>();
  readonly order = new Map<string, number[]>();
  handled = 0;

  apply(msgId: string, tenant: TenantId, n: number): void {
    this.handled++;
    const times = (this.applied.get(msgId) ?? 0) + 1;
    this.applied.set(msgId, times);
    if (times > 1) return;
    const key = tenantKey(tenant);
    const list = this.order.get(key) ?? [];
    list.push(n);
    this.order.set(key, list);
  }

  /** Applications beyond the first. */
  get duplicates(): number {
    return this.handled - this.applied.size;
  }
}

/** A LocalWorker whose handler returns the event (`fail` throws), after a turn of the event loop. */
export function echoWorker(): LocalWorker<null, TestEvent, TestEvent> {
  return new LocalWorker(
    defineWorker({
      createTenant: () => null,
      onEvent: async (_state: null, event: TestEvent) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (event.fail === true) throw new Error(`poison event ${event.n}`);
        return event;
      },
    }),
  );
}

/** Guild ids spread over partitions. */
export const GUILDS = [
  '81384788765712384',
  '175928847299117063',
  '222078108977594368',
  '302050872383242240',
  '348607796335607817',
  '381870553235193857',
  '453641513467854848',
  '613425648685547541',
];
