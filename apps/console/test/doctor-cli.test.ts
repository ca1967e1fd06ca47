// The CLI as an operator runs it: a child process, its output lines and its exit code.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctorChecks } from "../src/checks/index.ts";

// A placeholder, never a real credential: it must not appear in any output.
const PASSWORD = "example-password-not-real";
const packageDir = fileURLToPath(new URL("..", import.meta.url));

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node --import tsx src/cli.ts ...args` with only PATH and the given variables in its environment. */
function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

let healthy: TestDatabase;
let broken: TestDatabase;

beforeAll(async () => {
  [healthy, broken] = await Promise.all([createTestDatabase("migrated"), createTestDatabase("migrated")]);
  const client = new pg.Client({ connectionString: broken.url });
  await client.connect();
  try {
    await client.query("drop trigger on_payment_status_change on public.payments");
  } finally {
    await client.end();
  }
});

afterAll(async () => {
  await Promise.all([healthy?.drop(), broken?.drop()]);
});

describe("console doctor", () => {
  it("prints a line per check and the summary, and exits 0, on a migrated database", async () => {
    const run = await runCli(["doctor"], { DATABASE_URL: healthy.url });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const output = lines(run.stdout);
    expect(output[0]).toMatch(/^doctor: \S+@127\.0\.0\.1:\d+\/t_[0-9a-f]+ \(ssl disable, session pooling/);
    expect(output[1]).toMatch(/^connected as \S+ to database t_[0-9a-f]+ \(PostgreSQL \d+/);
    const results = output.slice(2, -1);
    expect(results.map((line) => line.split(":")[0])).toEqual(
      doctorChecks.map((check) =>
        // pg_cron lives outside test databases: the one warning.
        check.name === "extensions" ? `WARN ${check.name}` : `PASS ${check.name}`,
      ),
    );
    expect(output.at(-1)).toBe(`${doctorChecks.length} passed, 0 failed`);
  });

  it("prints the FAIL line with its fix and exits 1 when a trigger is missing", async () => {
    const run = await runCli(["doctor"], { DATABASE_URL: broken.url });
    expect(run.code).toBe(1);
    const output = lines(run.stdout);
    expect(output).toContain(
      "FAIL webhook-triggers: trigger on_payment_status_change on public.payments is missing: a payment marks no appointment paid and notifies nobody" +
        " — fix: apply supabase/migrations/032_webhook_triggers.sql (pnpm db:migrate); where it is already applied, " +
        're-create it with the "create trigger on_payment_status_change" statement of that file, in a new migration',
    );
    expect(output.filter((line) => line.startsWith("FAIL "))).toHaveLength(1);
    expect(output.at(-1)).toBe(`${doctorChecks.length - 1} passed, 1 failed`);
  });

  it("--json prints one JSON document with every check", async () => {
    const run = await runCli(["doctor", "--json"], { DATABASE_URL: broken.url });
    expect(run.code).toBe(1);
    const document = JSON.parse(run.stdout) as {
      ok: boolean;
      failed: number;
      checks: { name: string; status: string; findings: { severity: string; fix?: string }[] }[];
    };
    expect(document.ok).toBe(false);
    expect(document.failed).toBe(1);
    expect(document.checks.map((check) => check.name)).toEqual(doctorChecks.map((check) => check.name));
    const triggers = document.checks.find((check) => check.name === "webhook-triggers");
    expect(triggers?.status).toBe("fail");
    expect(triggers?.findings[0]?.fix).toContain("032_webhook_triggers.sql");
  });

  it("exits 78 listing every configuration problem, without echoing the password", async () => {
    const run = await runCli(["doctor"], {
      DATABASE_URL: `postgresql://postgres:${PASSWORD}@db.example.com:5432/postgres`,
      DATABASE_SSL: "true",
      DATABASE_POOL_MAX: "0",
    });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain("invalid database configuration (2 problems):");
    expect(run.stderr).toContain('- DATABASE_SSL="true" is no longer a mode');
    expect(run.stderr).toContain('- DATABASE_POOL_MAX="0" must be a whole number from 1 to 1000');
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it("exits 78 for a DATABASE_URL that does not parse, without echoing it", async () => {
    const run = await runCli(["doctor", "--json"], {
      DATABASE_URL: `postgresql://postgres:${PASSWORD}@db.example.com:99999/postgres`,
    });
    expect(run.code).toBe(78);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      error: { code: "invalid_config", issues: [expect.stringContaining("DATABASE_URL is not a valid URL")] },
    });
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it("exits 1 with FAIL connection when the server cannot be reached, without the password", async () => {
    const port = await closedPort();
    const run = await runCli(["doctor"], {
      DATABASE_URL: `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    });
    expect(run.code).toBe(1);
    expect(lines(run.stdout)).toEqual([
      `doctor: postgres@127.0.0.1:${port}/postgres (ssl disable, session pooling, pool max 10, application balansity)`,
      expect.stringMatching(
        new RegExp(
          `^FAIL connection: cannot connect to postgres@127\\.0\\.0\\.1:${port}/postgres .*ECONNREFUSED.* — fix: `,
        ),
      ),
      "0 passed, 1 failed",
    ]);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it("exits 2 on an unknown command", async () => {
    const run = await runCli(["doctr"], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'doctr'");
  });
});
