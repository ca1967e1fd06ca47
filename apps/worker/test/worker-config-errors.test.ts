import { describe, expect, it } from "vitest";
import { runWorkerUntilExit } from "./support/worker-process.ts";

// main.ts exits with EX_CONFIG (78) so a supervisor does not restart-loop on a configuration mistake.
const EX_CONFIG = 78;
const PASSWORD = "example-password-not-real";

/** A stack frame line ("    at loadConfig (…)"): a ConfigError is a message for a person, not a crash. */
const STACK_FRAME = /^\s+at .+/m;

describe("worker start-up with a broken configuration", () => {
  it("exits 78 with every missing variable in one message when the environment is empty", async () => {
    const result = await runWorkerUntilExit({});

    expect(result.code).toBe(EX_CONFIG);
    expect(result.stderr).toMatch(/DATABASE_URL/);
    expect(result.stderr).toMatch(/DATABASE_HOST/);
    expect(result.stderr).toMatch(/SMTP_HOST/);
    expect(result.stderr).toMatch(/SMTP_FROM/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    // One message, not one per variable: the count in the first line covers all three problems.
    expect(result.stderr.split("\n")[0]).toMatch(/\(3 problems\)/);
    expect(result.stdout).toBe("");
  });

  it("names every invalid variable at once and never prints the database password", async () => {
    const result = await runWorkerUntilExit({
      DATABASE_URL: `postgres://u:${PASSWORD}@db.example.com:6543/postgres`,
      DATABASE_SSL: "true",
      SMTP_HOST: "smtp.example.com",
      SMTP_FROM: "noreply@balansity.test",
      SMTP_PORT: "abc",
      SMTP_USER: "mailer",
      QUEUE_EMAIL_QUEUE_CONCURRENCY: "0",
      LOG_LEVEL: "loud",
      SMTP_THREAD: "yes",
    });

    expect(result.code).toBe(EX_CONFIG);
    const problems = result.stderr.split("\n").filter((line) => line.startsWith("- "));
    const named = (variable: string) => problems.filter((line) => line.includes(variable));
    expect(named("SMTP_PORT")).toHaveLength(1);
    expect(named("QUEUE_EMAIL_QUEUE_CONCURRENCY")).toHaveLength(1);
    expect(named("LOG_LEVEL")).toHaveLength(1);
    expect(named("SMTP_PASS")).toHaveLength(1);
    expect(named("DATABASE_SSL")).toHaveLength(1);
    expect(named("SMTP_THREAD")).toEqual(['- SMTP_THREAD must be on or off (got "yes")']);
    expect(problems).toHaveLength(6);
    expect(named("SMTP_PASS")[0]).toMatch(/SMTP_USER/);
    expect(named("DATABASE_SSL")[0]).toMatch(/verify-full/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });
});
