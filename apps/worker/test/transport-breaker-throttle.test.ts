import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ThrottledError, TransportUnavailableError } from "../src/consumer/errors.ts";
import { TransportBreaker } from "../src/consumer/transport-breaker.ts";

const logger = pino({ level: "silent" });

describe("the transport breaker and throttling", () => {
  it("ends a throttling pause after its back-off, without a probe: a throttling server answers EHLO", async () => {
    let probes = 0;
    const breaker = new TransportBreaker({
      name: "smtp",
      logger,
      minProbeDelayMs: 10,
      probe: async () => {
        probes += 1;
      },
    });
    breaker.trip(new ThrottledError("smtp", "smtp_throttled", "SMTP 451: 4.7.1 Too many messages"));
    expect(breaker.isOpen).toBe(true);
    await breaker.whenClosed();
    expect(probes).toBe(0);
    breaker.stop();
  });

  it("probes an unreachable server and closes when the probe succeeds", async () => {
    let probes = 0;
    const breaker = new TransportBreaker({
      name: "smtp",
      logger,
      minProbeDelayMs: 10,
      probe: async () => {
        probes += 1;
      },
    });
    breaker.trip(new TransportUnavailableError("smtp", "smtp_unavailable", "connect ECONNREFUSED"));
    await breaker.whenClosed();
    expect(probes).toBe(1);
    breaker.stop();
  });
});
