import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { parseSinkLimit, type SmtpSink, SmtpSinkError, startSmtpSink } from "../src/smtp-sink.ts";

// The sink plays a provider's sending limit: past `count` messages in any window it refuses, with
// 451 4.7.1 by default (or the 5xx a provider gives), and counts what it refused.

let sink: SmtpSink | undefined;

afterEach(async () => {
  await sink?.stop();
  sink = undefined;
});

/** Four messages one after another: what the server answered to each. */
async function sendFour(started: SmtpSink): Promise<PromiseSettledResult<unknown>[]> {
  const transport = nodemailer.createTransport({
    host: started.host,
    port: started.smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  const results: PromiseSettledResult<unknown>[] = [];
  try {
    for (const subject of ["1", "2", "3", "4"]) {
      const [result] = await Promise.allSettled([
        transport.sendMail({ from: "noreply@balansity.test", to: "anna@example.com", subject, text: "." }),
      ]);
      results.push(result as PromiseSettledResult<unknown>);
    }
  } finally {
    transport.close();
  }
  return results;
}

describe("SMTP sink sending limit", () => {
  it("reads <count>/<window> as a provider writes it and names the form when it is wrong", () => {
    expect(parseSinkLimit("50/15m")).toEqual({ count: 50, windowMs: 900_000, code: undefined });
    expect(parseSinkLimit("20/10s", 550)).toEqual({ count: 20, windowMs: 10_000, code: 550 });
    expect(parseSinkLimit("500/h").windowMs).toBe(3_600_000);
    expect(() => parseSinkLimit("50 per 15 minutes")).toThrow(SmtpSinkError);
    expect(() => parseSinkLimit("50/15m", 250)).toThrow(/4xx or 5xx/);
  });

  it("accepts `count` messages in the window and answers 451 4.7.1 to the next", async () => {
    sink = await startSmtpSink({ limit: { count: 3, windowMs: 60_000 } });
    const results = await sendFour(sink);
    expect(results.slice(0, 3).every((result) => result.status === "fulfilled")).toBe(true);
    const refused = results[3];
    expect(refused?.status).toBe("rejected");
    const error = (refused as PromiseRejectedResult).reason as { responseCode: number; response: string };
    expect(error.responseCode).toBe(451);
    expect(error.response).toContain("4.7.1 Too many messages");
    expect(sink.messages()).toHaveLength(3);
    expect(sink.refusedCount()).toBe(1);
    const health = (await (await fetch(`${sink.url}/healthz`)).json()) as { refused: number };
    expect(health.refused).toBe(1);
  });

  it("refuses with a 5xx naming the rate limit when told to", async () => {
    sink = await startSmtpSink({ limit: { count: 3, windowMs: 60_000, code: 550 } });
    const results = await sendFour(sink);
    const error = (results[3] as PromiseRejectedResult).reason as { responseCode: number; response: string };
    expect(error.responseCode).toBe(550);
    expect(error.response).toContain("rate limit exceeded");
  });
});
