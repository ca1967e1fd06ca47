import type { Registry } from "prom-client";

/**
 * A Prometheus histogram with one label, `queue`, whose observe() is a bucket search and three
 * additions. prom-client's Histogram hashes its label object on every observation, and the consumer
 * observes every message: at tens of thousands a second that hashing was the biggest cost left in
 * the consumer itself. Exposed by the same registry, in the same text format.
 */
export class QueueHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #upperBounds: readonly number[];
  readonly #series = new Map<string, { buckets: Float64Array; sum: number; count: number }>();

  constructor(options: {
    name: string;
    help: string;
    buckets: readonly number[];
    registers: readonly Registry[];
  }) {
    this.name = options.name;
    this.help = options.help;
    this.#upperBounds = [...options.buckets].sort((a, b) => a - b);
    // prom-client's registries take any metric that answers get() and reset().
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  observe(queue: string, value: number): void {
    let series = this.#series.get(queue);
    if (!series) {
      series = { buckets: new Float64Array(this.#upperBounds.length), sum: 0, count: 0 };
      this.#series.set(queue, series);
    }
    const bounds = this.#upperBounds;
    for (let index = 0; index < bounds.length; index += 1) {
      if (value <= (bounds[index] as number)) {
        (series.buckets[index] as number) += 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  /** What prom-client's Histogram.get() returns: cumulative buckets, +Inf, sum and count per queue. */
  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [queue, series] of this.#series) {
      let cumulative = 0;
      this.#upperBounds.forEach((le, index) => {
        cumulative += series.buckets[index] as number;
        values.push({ labels: { le, queue }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: "+Inf", queue }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { queue }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { queue }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
  }
}
