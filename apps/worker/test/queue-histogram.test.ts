import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { QueueHistogram } from "../src/ops/queue-histogram.ts";

describe("QueueHistogram", () => {
  it("exposes what prom-client's Histogram with a queue label exposes for the same observations", async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = new QueueHistogram({
      name: "h_seconds",
      help: "Handler time",
      buckets,
      registers: [ours],
    });
    const reference = new Histogram({
      name: "h_seconds",
      help: "Handler time",
      labelNames: ["queue"],
      buckets,
      registers: [theirs],
    });
    const observations: [string, number][] = [
      ["email_queue", 0.0004],
      ["email_queue", 0.02],
      ["email_queue", 0.02],
      ["email_queue", 7],
      ["analytics_queue", 0.001],
      ["analytics_queue", 0.5],
    ];
    for (const [queue, value] of observations) {
      histogram.observe(queue, value);
      reference.observe({ queue }, value);
    }

    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    expect(await ours.metrics()).toBe("# HELP h_seconds Handler time\n# TYPE h_seconds histogram\n");
  });
});
