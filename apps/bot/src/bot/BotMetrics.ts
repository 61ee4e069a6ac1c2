import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BotActionType, BotEvent } from '../protocol.js';

/** What the gauges read when Prometheus scrapes. */
export interface BotMetricsSources {
  /** Audit rows waiting to be written. */
  auditDepth: () => number;
  /** Events accepted by the workers and not finished (queued or running). */
  queued: () => number;
  /** 1 when {@link BotHealth.ready}. */
  ready: () => boolean;
}

/** Snowflakes in a REST route become `:id`, so that the label has a bounded set of values. */
export function routeLabel(route: string): string {
  return route.replace(/\d{16,20}/g, ':id');
}

/**
 * The bot's Prometheus metrics (prom-client), in a registry of its own: events received,
 * dispatched, failed and dispatched again by type, the dispatch latency, actions by kind and
 * outcome, REST responses by route and status, the audit outbox's depth, writes and retries, new
 * gateway sessions and messages recovered after them, the workers' queue, the process' default
 * metrics. Names start with `switchyard_bot_`.
 */
export class BotMetrics {
  /** The registry `/metrics` serves. */
  readonly registry = new Registry();
  readonly received: Counter<'type'>;
  readonly dispatched: Counter<'type'>;
  readonly failed: Counter<'type'>;
  readonly redispatched: Counter<'type'>;
  readonly dispatchSeconds: Histogram<'type'>;
  readonly actions: Counter<'kind' | 'outcome'>;
  readonly rest: Counter<'method' | 'route' | 'status'>;
  readonly auditWritten: Counter;
  readonly auditRetries: Counter;
  readonly reidentified: Counter;
  readonly recovered: Counter;
  readonly crashes: Counter;
  readonly interactions: Counter<'answer'>;

  constructor(sources: BotMetricsSources) {
    const registers = [this.registry];
    this.received = new Counter({
      name: 'switchyard_bot_events_received_total',
      help: 'Guild events received from the gateway (or looked up after a new session), by type.',
      labelNames: ['type'],
      registers,
    });
    this.dispatched = new Counter({
      name: 'switchyard_bot_events_dispatched_total',
      help: 'Events whose worker answered, by type.',
      labelNames: ['type'],
      registers,
    });
    this.failed = new Counter({
      name: 'switchyard_bot_events_failed_total',
      help: 'Events whose dispatch failed (handler error, timeout, worker unavailable), by type.',
      labelNames: ['type'],
      registers,
    });
    this.redispatched = new Counter({
      name: 'switchyard_bot_events_redispatched_total',
      help: 'Events dispatched a second time because their worker crashed with them in flight, by type.',
      labelNames: ['type'],
      registers,
    });
    this.dispatchSeconds = new Histogram({
      name: 'switchyard_bot_dispatch_duration_seconds',
      help: 'From dispatch to the worker answer, by event type.',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.actions = new Counter({
      name: 'switchyard_bot_actions_total',
      help: 'Actions carried out, by kind and outcome (ok, refused).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.rest = new Counter({
      name: 'switchyard_bot_rest_responses_total',
      help: "Discord REST responses, by method, route (ids as :id) and HTTP status (discord.js' retries included).",
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.auditWritten = new Counter({
      name: 'switchyard_bot_audit_rows_written_total',
      help: 'Audit rows written to moderation_actions.',
      registers,
    });
    this.auditRetries = new Counter({
      name: 'switchyard_bot_audit_write_retries_total',
      help: 'Failed audit writes, retried with backoff.',
      registers,
    });
    this.reidentified = new Counter({
      name: 'switchyard_bot_gateway_new_sessions_total',
      help: 'New gateway sessions after the first: events may have been missed.',
      registers,
    });
    this.recovered = new Counter({
      name: 'switchyard_bot_messages_recovered_total',
      help: 'Messages the bot never received, found by looking up watched channels after a new session.',
      registers,
    });
    this.interactions = new Counter({
      name: 'switchyard_bot_interactions_total',
      help: 'Slash commands by how they were first answered: replied, deferred, or expired (Discord had dropped it: answered after 3 s).',
      labelNames: ['answer'],
      registers,
    });
    this.crashes = new Counter({
      name: 'switchyard_bot_worker_crashes_total',
      help: 'Worker crashes (thread or process exits, given-up workers).',
      registers,
    });
    new Gauge({
      name: 'switchyard_bot_audit_outbox_depth',
      help: 'Audit rows waiting to be written.',
      registers,
      collect() {
        this.set(sources.auditDepth());
      },
    });
    new Gauge({
      name: 'switchyard_bot_worker_queued_events',
      help: 'Events accepted by the workers and not finished.',
      registers,
      collect() {
        this.set(sources.queued());
      },
    });
    new Gauge({
      name: 'switchyard_bot_ready',
      help: '1 when the gateway is connected and no worker was given up.',
      registers,
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_bot_' });
  }

  /** Counts an event received. */
  receivedEvent(type: BotEvent['type']): void {
    this.received.inc({ type });
  }

  /** Counts an action's outcome. */
  action(kind: BotActionType, ok: boolean): void {
    this.actions.inc({ kind, outcome: ok ? 'ok' : 'refused' });
  }
}
