/** One worker's observations: counts per bucket (not cumulative), their sum and number. */
interface Series {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A value of a prom-client metric, as `registry.metrics()` formats it. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/**
 * A Prometheus histogram per worker (labels `pool`, `worker`) that prom-client's registry reads
 * like its own metrics (`get()`, `reset()`), but whose `observe` costs a few array operations:
 * prom-client's `Histogram.observe(labels, value)` hashes its labels on every call, which is
 * too much for something that runs on every dispatch. @internal
 */
export class TimingHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  /** By worker id (small integers: positions in a pool). */
  #series: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    bounds: readonly number[],
    readonly pool: string,
  ) {
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  observe(worker: number, seconds: number): void {
    let series = this.#series[worker];
    if (series === undefined) {
      series = { counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      this.#series[worker] = series;
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    series.counts[i]!++;
    series.sum += seconds;
    series.count++;
  }

  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValue[] } {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    this.#series.forEach((series, worker) => {
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += series.counts[i]!;
        const le = i < this.#bounds.length ? this.#bounds[i]! : '+Inf';
        values.push({ value: cumulative, labels: { le, pool: this.pool, worker }, metricName: bucket });
      }
      values.push({ value: series.sum, labels: { pool: this.pool, worker }, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels: { pool: this.pool, worker }, metricName: `${this.name}_count` });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series = [];
  }
}
